"""BBC page -> article (headline, body paragraphs, metadata), for every layout we have seen.

Order, best data first:
1. Structured article data: Next.js `__NEXT_DATA__` (today's bbc.com and World Service pages), Simorgh's
   `window.SIMORGH_DATA`, or a bare World Service JSON document (the data behind the pages, 2019 onwards).
   Its blocks hold exactly headline + paragraphs, so nothing else can leak in.
2. HTML (old World Service .shtml, CPS story pages 2014-2020, server-rendered pages): trafilatura for the
   body (precision mode); JSON-LD / OpenGraph / Dublin Core meta tags for the metadata. layouts.py names
   the layout and tells articles from index pages by the page's own markup.
Only headline + body paragraphs are kept: images, captions, media, related links and promos are dropped.
"""
from __future__ import annotations

import dataclasses
import html as html_lib
import json
import logging
import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin

from .htmlview import HtmlView
from .layouts import html_layout

# trafilatura logs ERROR/WARNING for every page it finds no text in; we count and report those pages
# ourselves (stats.errors), so its log lines would only be duplicate noise in the build output.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

_TAG = re.compile(r"<[^<>]*>")  # [^<>]: one scan, also over "<<<<" with no ">"
# Lines trafilatura keeps from older pages that are promos, not article text.
_BOILERPLATE = re.compile(
    r"^(Follow (Newsbeat|BBC|us) on |Listen to Newsbeat live|Share this with|Related Topics|"
    r"Media playback is unsupported|Image copyright|Getty Images$|Image caption|Read more:|"
    r"Find out more|Why you can trust BBC News|Copyright 20\d\d BBC|"
    r"- [A-Z0-9][A-Z0-9 &'-]{2,}: )",  # "- A SIMPLE GUIDE: How do I protect myself?" promo link lists
    re.IGNORECASE,
)
# Block types that carry body text; everything else (image, media, byline, links, promos...) is skipped.
_TEXT_BLOCKS = {"text", "paragraph", "subheadline", "crosshead", "list", "listItem", "unorderedList", "orderedList"}
_SKIP_BLOCKS = {"image", "caption", "altText", "media", "video", "aresMedia", "byline", "links", "relatedContent",
                "social", "socialEmbed", "embed", "include", "timestamp", "wsoj", "mpu", "disclaimer", "podcastPromo",
                "visuallyHiddenHeadline", "fauxHeadline"}


@dataclasses.dataclass
class Article:
    url: str
    headline: str = ""
    paragraphs: list[str] = dataclasses.field(default_factory=list)
    published: str | None = None  # ISO 8601
    modified: str | None = None
    lang: str | None = None
    topic: str | None = None
    is_article: bool = True  # False for front pages / topic indexes: they yield links, not documents
    method: str = ""  # which extractor produced it: next_data | simorgh | ws_json | trafilatura | json_ld
    layout: str = "generic"  # which page layout it came from (layouts.LAYOUTS)
    links: list[str] = dataclasses.field(default_factory=list)
    canonical: str | None = None  # the page's own idea of its URL (link rel=canonical, og:url, assetUri)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


# Scripts written without spaces between words: each character counts as a word for length checks.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def word_count(text: str) -> int:
    """Whitespace words, with Chinese/Japanese characters counted one by one (they use no spaces)."""
    unspaced = len(_UNSPACED.findall(text))
    if not unspaced:
        return len(text.split())
    return len(_UNSPACED.sub(" ", text).split()) + unspaced


def clean_text(s: str) -> str:
    """World Service text is HTML-escaped and may carry candy_xml tags (<bold>, <italic>, <itemMeta>)."""
    return " ".join(html_lib.unescape(_TAG.sub("", s)).split())


def iso_time(value: Any) -> str | None:
    """Epoch seconds or milliseconds (both occur in World Service JSON) or a date string -> ISO 8601 UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    return str(value)


# ---------------------------------------------------------------- structured data (JSON blocks)


def _block_text(block: dict) -> str:
    model = block.get("model") or {}
    if isinstance(model.get("text"), str):
        return clean_text(model["text"])
    if isinstance(block.get("text"), str):
        return clean_text(block["text"])
    # optimo nesting: text -> paragraph -> fragment/urlLink
    parts = [_block_text(b) for b in model.get("blocks", []) if isinstance(b, dict)]
    return " ".join(p for p in parts if p)


def optimo_paragraphs(blocks: list) -> tuple[str, list[str]]:
    """Walk optimo/CPS blocks: returns (headline, paragraphs)."""
    headline, paras = "", []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind in _SKIP_BLOCKS:
            continue
        model = block.get("model") or {}
        if kind == "headline":
            headline = headline or _block_text(block)
        elif kind in ("text", "paragraph") and isinstance(model.get("blocks"), list) and kind == "text":
            for inner in model["blocks"]:  # text -> [paragraph | list | ...]
                _, sub = optimo_paragraphs([inner])
                paras += sub
        elif kind == "paragraph":
            t = _block_text(block)
            if t and "<itemMeta>" not in str(block.get("text", "")):
                paras.append(t)
        elif kind in ("subheadline", "crosshead"):
            t = _block_text(block)
            if t:
                paras.append(t)
        elif kind in ("list", "unorderedList", "orderedList"):
            items = block.get("items") or model.get("blocks") or []
            for item in items:
                raw = item.get("text", "") if isinstance(item, dict) else ""
                if "<itemMeta>" in raw:  # a promo link to another story, not article text
                    continue
                t = _block_text(item) if isinstance(item, dict) else ""
                if t:
                    paras.append(t)
        elif kind == "listItem":
            t = _block_text(block)
            if t:
                paras.append(t)
    return headline, paras


def _topic_from_tags(metadata: dict) -> str | None:
    about = ((metadata.get("tags") or {}).get("about") or [])
    labels = [t.get("topicName") or t.get("thingLabel") for t in about if isinstance(t, dict)]
    return ", ".join(x for x in labels if x) or None


def from_ws_json(data: dict, url: str) -> Article:
    """A World Service document {metadata, content, promo, relatedContent} (CPS `content.blocks` or optimo
    `content.model.blocks`); a front page has `content.groups` and becomes a link list."""
    metadata = data.get("metadata") or {}
    content = data.get("content") or {}
    promo = data.get("promo") or {}
    art = Article(url=url, method="ws_json", layout="ws_json",
                  lang=metadata.get("language") or (metadata.get("passport") or {}).get("language"))
    art.published = iso_time(metadata.get("firstPublished"))
    art.modified = iso_time(metadata.get("lastPublished") or metadata.get("lastUpdated"))
    uri = (metadata.get("locators") or {}).get("assetUri")
    art.canonical = urljoin("https://www.bbc.com", uri) if uri else None
    category = (metadata.get("passport") or {}).get("category") or {}
    art.topic = _topic_from_tags(metadata) or category.get("categoryName")
    if "groups" in content and not ("blocks" in content or "model" in content):  # a front/index page
        art.is_article = False
        for group in content.get("groups") or []:
            for item in group.get("items") or []:
                uri = ((item.get("locators") or {}).get("assetUri")) or item.get("uri")
                if uri:
                    art.links.append(urljoin(url, uri))
        return art
    blocks = content.get("blocks") or (content.get("model") or {}).get("blocks") or []
    headline, paras = optimo_paragraphs(blocks)
    headlines = promo.get("headlines") or {}
    art.headline = headline or clean_text(headlines.get("headline") or headlines.get("seoHeadline")
                                          or headlines.get("shortHeadline") or "")
    art.paragraphs = paras
    return art


def _find(obj: Any, pred, depth: int = 0) -> Any:
    """Depth-first search for the first dict matching `pred` (Next.js page props nest arbitrarily)."""
    if depth > 12:
        return None
    if isinstance(obj, dict):
        if pred(obj):
            return obj
        children = obj.values()
    elif isinstance(obj, list):
        children = obj
    else:
        return None
    for child in children:
        found = _find(child, pred, depth + 1)
        if found is not None:
            return found
    return None


def from_next_data(data: dict, url: str) -> Article | None:
    """`__NEXT_DATA__`: World Service pages keep the WS document at props.pageProps.pageData; bbc.com/news
    articles keep {contents: [blocks], metadata} under props.pageProps.page[<key>]."""
    ws = _find(data, lambda d: isinstance(d.get("metadata"), dict) and isinstance(d.get("content"), dict))
    if ws is not None:
        art = from_ws_json(ws, url)
        art.method = art.layout = "next_data"
        return art
    page = _find(data, lambda d: isinstance(d.get("contents"), list) and any(
        isinstance(b, dict) and b.get("type") in ("headline", "text") for b in d["contents"]))
    if page is None:
        return None
    headline, paras = optimo_paragraphs(page["contents"])
    meta = page.get("metadata") or {}
    topics = page.get("topics") or meta.get("topics") or []
    topic = ", ".join(t.get("title") or t.get("name", "") for t in topics if isinstance(t, dict)) or None
    return Article(url=url, headline=headline or meta.get("seoHeadline", ""), paragraphs=paras,
                   published=iso_time(meta.get("firstPublished")), modified=iso_time(meta.get("lastUpdated")),
                   lang=meta.get("language"), topic=topic or meta.get("section"), method="next_data",
                   layout="next_data")


# ---------------------------------------------------------------- HTML


def _strip_title(paras: list[str], headline: str) -> list[str]:
    if paras and headline and (paras[0] == headline or headline.startswith(paras[0]) or paras[0].startswith(headline)):
        paras = paras[1:]
    return [p for p in paras if not _BOILERPLATE.match(p)]


def from_html(html: str, url: str) -> Article:
    page = HtmlView(html)
    links = page.links(url)
    for raw in page.scripts(id="__NEXT_DATA__"):
        try:
            art = from_next_data(json.loads(raw), url)
        except (ValueError, RecursionError):  # broken or absurdly nested: the HTML is still there
            art = None
        if art is not None:
            art.links = links + art.links
            return art
    data = page.assignment("window.SIMORGH_DATA")
    ws = _find(data, lambda d: isinstance(d.get("metadata"), dict) and isinstance(d.get("content"), dict))
    if ws is not None:
        art = from_ws_json(ws, url)
        art.method, art.layout, art.links = "simorgh", "simorgh", links + art.links
        return art
    return _from_plain_html(page, url, links)


def _from_plain_html(page: HtmlView, url: str, links: list[str]) -> Article:
    import trafilatura

    meta, ld = page.meta, page.article_ld
    headline = clean_text(str(ld.get("headline") or meta.get("og:title") or page.title))
    headline = re.sub(r"\s+-\s+BBC (News|Sport)$", "", headline)
    if page.h1:  # the displayed headline; JSON-LD often holds a shorter SEO one
        headline = page.h1
    layout, is_article = html_layout(page)
    art = Article(url=url, headline=headline, lang=page.lang, links=links, is_article=is_article,
                  published=ld.get("datePublished") or meta.get("article:published_time") or meta.get("dcterms.created")
                  or meta.get("OriginalPublicationDate"),
                  modified=ld.get("dateModified") or meta.get("article:modified_time") or meta.get("dcterms.modified"),
                  topic=meta.get("article:section") or meta.get("og:article:section"), method="trafilatura",
                  layout=layout)
    # dc.identifier: the old World Service pages name their own URL only there
    art.canonical = page.canonical or meta.get("og:url") or meta.get("dc.identifier")
    if not is_article:  # an index page gives links only; no need to run the article extractor on it
        return art
    body = trafilatura.extract(page.html, url=url, favor_precision=True, include_comments=False, include_tables=False,
                               include_images=False, include_links=False, deduplicate=False) or ""
    # trafilatura puts the h1 first when it is inside the story body; the title is a separate field here.
    art.paragraphs = _strip_title([" ".join(p.split()) for p in body.split("\n") if p.strip()], headline)
    article_body = ld.get("articleBody")
    if not art.paragraphs and isinstance(article_body, str) and len(article_body) > 200:
        art.paragraphs, art.method = [p for p in article_body.split("\n") if p.strip()], "json_ld"
    return art


def extract(body: bytes | str, url: str, content_type: str = "") -> Article:
    """Dispatch on content: JSON documents (World Service data) or HTML pages."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    head = text.lstrip()[:1]
    if "json" in content_type or head in ("{", "["):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("JSON document is not an object")
        if "props" in data:  # a saved __NEXT_DATA__ payload
            return (from_next_data(data, url)
                    or Article(url=url, is_article=False, method="next_data", layout="next_data"))
        return from_ws_json(data, url)
    return from_html(text, url)
