"""The article links of a page's body text: `[[Target|label]]` targets, for `meta.links`.

qa_multihop pairs pages joined by such a link. "Body text" means links a reader sees in the prose: not
inside templates (infoboxes, navboxes), references, comments or other extension tags, and not nested in
another link (image captions); links into other namespaces (File:, Category:, ...) and interlanguage or
interwiki links (`[[yo:Èkó]]`) are not articles.

Why not mwparserfromhell: this runs on every page the source reads, and its tokenizer alone costs about
as much as the whole clean stage (6.4 s vs 0.1 s here on enwiki-206pages); the links need only bracket
matching, which these few expressions do in one linear pass per nesting level.
"""
from __future__ import annotations

import re

MAX_LINKS = 100  # per page: pairing samples a few; more would bloat every chunk row's meta

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
# Extension tags whose content is not prose; <ref/> self-closing tags too.
_TAGS = re.compile(r"<(ref|gallery|imagemap|timeline|math|chem|score|syntaxhighlight|source|pre|nowiki|"
                   r"references|graph|mapframe|templatedata|poem)\b[^>]*?(?:/>|>.*?</\1\s*>)", re.S | re.I)
_BRACES = re.compile(r"\{\{|\}\}")
_BRACKETS = re.compile(r"\[\[|\]\]")
_INTERWIKI = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$|^(?:wikt|wiktionary|w|wikipedia|commons|meta|"
                        r"species|wikisource|wikiquote|wikibooks|wikinews|wikiversity|wikivoyage|d|s|q|b|n|v|m|"
                        r"c|mw|phab|simple)$", re.I)


def _without_templates(text: str) -> str:
    """The text outside {{...}} (templates, parser functions, {{{params}}}), nesting counted."""
    if "{{" not in text:
        return text
    keep, depth, last = [], 0, 0
    for m in _BRACES.finditer(text):
        if m.group() == "{{":
            if depth == 0:
                keep.append(text[last:m.start()])
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                last = m.end()
    if depth == 0:
        keep.append(text[last:])
    return " ".join(keep)


def normalize_title(target: str) -> str:
    """A link target as the page title it names: no anchor, spaces for underscores, first letter upper
    (MediaWiki's default first-letter case rule)."""
    t = target.split("#", 1)[0].replace("_", " ")
    t = " ".join(t.split()).lstrip(":").strip()
    return t[:1].upper() + t[1:] if t else ""


def _is_article(target: str, namespaces: frozenset[str]) -> bool:
    if target.startswith(":"):  # [[:Category:X]] links to the category page: not an article either
        target = target[1:]
    if ":" not in target:
        return True
    prefix = " ".join(target.split(":", 1)[0].replace("_", " ").split()).casefold()
    return prefix not in namespaces and not _INTERWIKI.match(prefix)


def body_links(wikitext: str, namespaces: frozenset[str] = frozenset(), limit: int = MAX_LINKS) -> list[str]:
    """Distinct article titles linked from the body, in order of first appearance, at most `limit`.
    `namespaces`: the wiki's normalized namespace names and aliases (file, image, category, ...)."""
    text = _without_templates(_TAGS.sub(" ", _COMMENT.sub(" ", wikitext)))
    out: list[str] = []
    seen: set[str] = set()
    depth, start = 0, 0
    for m in _BRACKETS.finditer(text):
        if m.group() == "[[":
            depth += 1
            if depth == 1:
                start = m.end()
            continue
        if depth == 0:  # a stray ]]
            continue
        depth -= 1
        if depth:
            continue
        inner = text[start:m.start()]
        if "[[" in inner:  # an image with a caption holding links: the outer target is what counts
            inner = inner.split("[[", 1)[0]
        target = inner.split("|", 1)[0]
        if "\n" in target or not target.strip() or not _is_article(target.strip(), namespaces):
            continue
        title = normalize_title(target)
        if title and title not in seen:
            seen.add(title)
            out.append(title)
            if len(out) >= limit:
                break
    return out
