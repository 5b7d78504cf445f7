"""What an HTML page says about itself (meta tags, JSON-LD, embedded JSON, links, headline), read once with
lxml. Regular expressions over raw HTML went quadratic on broken markup (60 KB of `<a ` took 17 s); an HTML
parser is linear, and it reads attributes in any order and quoting."""
from __future__ import annotations

import json
import re
from functools import cached_property
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html

_BODY_TAG = re.compile(r"<body\b[^<>]*>", re.IGNORECASE)  # [^<>]: each scan stops at the next tag, linear overall
_ID_ATTR = re.compile(r"""\sid\s*=\s*["']?([\w-]+)""", re.IGNORECASE)


def _text(el) -> str:
    return " ".join(el.text_content().split()) if el is not None else ""


class HtmlView:
    def __init__(self, html: str):
        self.html = html
        parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)
        try:
            self.root = lxml_html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
        except (etree.ParserError, ValueError):  # an empty or unparseable document
            self.root = lxml_html.document_fromstring(b"<html><body></body></html>", parser=parser)

    @cached_property
    def meta(self) -> dict[str, str]:
        """<meta name|property=... content=...>, first occurrence wins."""
        out: dict[str, str] = {}
        for el in self.root.iter("meta"):
            key = el.get("property") or el.get("name")
            if key and el.get("content") is not None:
                out.setdefault(key, el.get("content"))
        return out

    def scripts(self, **attrs: str) -> list[str]:
        """Text of the <script> elements with these attribute values (id="__NEXT_DATA__", type=...)."""
        found = []
        for el in self.root.iter("script"):
            if all(el.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                found.append(el.text or "")
        return found

    @cached_property
    def json_ld(self) -> list[dict]:
        items: list[dict] = []
        for raw in self.scripts(type="application/ld+json"):
            try:
                data = json.loads(raw)
            except (ValueError, RecursionError):
                continue
            for d in data if isinstance(data, list) else data.get("@graph", [data]) if isinstance(data, dict) else []:
                if isinstance(d, dict):
                    items.append(d)
        return items

    @cached_property
    def article_ld(self) -> dict:
        """The first JSON-LD item whose @type is some kind of Article (NewsArticle, ReportageNewsArticle...)."""
        return next((d for d in self.json_ld if "Article" in str(d.get("@type", ""))), {})

    def assignment(self, name: str):
        """The JSON value assigned to `name` in an inline script (`window.SIMORGH_DATA={...}`), or None."""
        for el in self.root.iter("script"):
            text = el.text or ""
            at = text.find(name)
            if at < 0:
                continue
            eq = text.find("=", at + len(name))
            if eq < 0:
                continue
            try:
                value, _ = json.JSONDecoder().raw_decode(text[eq + 1:].lstrip())
                return value
            except (ValueError, RecursionError):
                return None
        return None

    def links(self, base: str) -> list[str]:
        out = []
        for href in self.root.xpath("//a/@href"):
            href = href.strip().split("#", 1)[0]
            if href:
                out.append(urljoin(base, href))
        return out

    @property
    def title(self) -> str:
        return _text(self.root.find(".//title"))

    @property
    def h1(self) -> str:
        return _text(next(self.root.iter("h1"), None))

    @property
    def lang(self) -> str | None:
        return self.root.get("lang") or self.root.get("{http://www.w3.org/XML/1998/namespace}lang")

    @property
    def canonical(self) -> str | None:
        for el in self.root.iter("link"):
            if (el.get("rel") or "").lower() == "canonical" and el.get("href"):
                return el.get("href")
        return None

    @property
    def body_id(self) -> str:
        body = self.root.find("body")
        if body is not None and body.get("id"):
            return body.get("id")
        # libxml2 drops the attributes of a <body> tag that comes after it had to open the body itself (CPS
        # pages put theirs in IE conditional comments after head scripts); read the tags themselves.
        for tag in _BODY_TAG.findall(self.html):
            m = _ID_ATTR.search(tag)
            if m:
                return m.group(1)
        return ""

    def has(self, xpath: str) -> bool:
        return bool(self.root.xpath(f"boolean({xpath})"))
