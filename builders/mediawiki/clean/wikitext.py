"""Wikitext -> plain text with mwparserfromhell, aware of the wiki's own language.

One recursive pass over the parse tree renders what a reader sees and drops the rest: templates, refs,
tables (unless kept), comments, magic words, interlanguage links, and File:/Category: links under every
name the wiki gives them (`[[Mynd:…]]` on Faroese, `[[Kategorija:…]]`, `[[Файл:…]]`).
"""
from __future__ import annotations

import dataclasses
import re

import mwparserfromhell
from mwparserfromhell.nodes import (Argument, Comment, ExternalLink, Heading, HTMLEntity, Tag, Template,
                                    Text, Wikilink)

from wiki_qa.builders.mediawiki.siteinfo import norm

# Tags whose content is not prose (or is machine markup): dropped with their content.
DROP_TAGS = frozenset("""ref references gallery math chem ce score timeline imagemap graph templatedata
    hiero categorytree mapframe maplink inputbox section includeonly noinclude indicator charinsert
    templatestyles syntaxhighlight source code""".split())
TABLE_TAGS = frozenset({"table"})
BREAK_TAGS = frozenset({"br", "hr"})
BLOCK_TAGS = frozenset({"p", "div", "li", "tr", "dd", "dt", "blockquote", "center", "poem", "pre", "ul", "ol"})
# Interwiki prefixes that are inline links to sister projects: keep their text.
SISTER = frozenset("w wikt wiktionary s wikisource b wikibooks q wikiquote n wikinews v wikiversity voy "
                   "wikivoyage c commons m meta species mw d wikidata".split())
# A prefixed link to a media file is a File: link even when the prefix is a name this dump's siteinfo
# doesn't list (an Amharic page's [[ስዕል:Berlin.jpg|thumb|…]] inside an English-site export).
MEDIA_TARGET = re.compile(r"\.(jpe?g|png|svg|gif|tiff?|webp|xcf|bmp|ogg|ogv|oga|webm|mp3|mp4|wav|flac|mid|"
                          r"pdf|djvu|stl)\s*$", re.I)
LANG_PREFIX = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$|^simple$")
MAGIC_WORD = re.compile(r"__[A-ZÀ-ÞА-ЯЁ_]{3,}__|__[^\W\d_]{3,}(?:_[^\W\d_]+)*__")
# Localized #REDIRECT magic words for exports that predate the <redirect> element (MessagesXx.php).
REDIRECT_WORDS = ("redirect", "weiterleitung", "redirection", "redirección", "rinvia", "rimando",
                  "redirecionamento", "doorverwijzing", "перенаправление", "перенапр", "patrz", "przekieruj",
                  "tam", "omdirigering", "uudelleenohjaus", "ohjaus", "átirányítás", "přesměruj",
                  "đổi", "chuyển", "تحويل", "تغییرمسیر", "הפניה", "転送", "リダイレクト", "重定向",
                  "넘겨주기", "yönlendirme", "yönlendİrme", "alih", "pengalihan", "lencong", "ανακατευθυνση",
                  "преусмери", "пренасочване", "перенаправлення", "ridirizzamentu", "elekeza", "àtúnjúwe")
_REDIRECT = re.compile(r"^\s*#\s*(?:" + "|".join(re.escape(w) for w in REDIRECT_WORDS) + r")\s*:?\s*\[\[",
                       re.I | re.U)
_GENERIC_REDIRECT = re.compile(r"^\s*#\s*[^\W\d_][\w ]{0,30}\s*:?\s*\[\[[^\]\n]+\]\]", re.U)
DISAMBIG_TEMPLATES = re.compile(
    r"\{\{\s*(disambig\w*|dab|dp|disamb\w*|hndis|geodis|surname|given name|begriffsklärung|homonymie|"
    r"desambiguación|desambiguação|disambigua|ujednoznacznienie|неоднозначность|多義語|消歧义|"
    r"förgrening|täsmennyssivu|dubbelzinnig|wieloznaczność|sayfa ayrımı)\s*[|}]", re.I)


@dataclasses.dataclass(frozen=True)
class WikiSyntax:
    """The site-specific names the cleaner needs; built once per dump by the reader."""

    file_prefixes: frozenset[str] = frozenset({"file", "image", "media"})
    category_prefixes: frozenset[str] = frozenset({"category"})
    namespace_prefixes: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True)
class CleanOptions:
    keep_tables: bool = False
    keep_headings: bool = True
    drop_sections: frozenset[str] = frozenset()


def is_redirect(text: str) -> bool:
    if _REDIRECT.match(text):
        return True
    # An unknown language's redirect word: "#WORD [[Target]]" and almost nothing else on the page.
    return bool(_GENERIC_REDIRECT.match(text)) and len([l for l in text.splitlines() if l.strip()]) <= 3


def is_disambiguation(title: str, text: str) -> bool:
    return ("__DISAMBIG__" in text or bool(DISAMBIG_TEMPLATES.search(text))
            or title.rstrip().endswith(("(disambiguation)", "(Begriffsklärung)", "(homonymie)")))


_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_REF_SPAN = re.compile(r"<ref\b[^>/]*/>|<ref\b[^>]*(?<!/)>.*?</ref\s*>", re.S | re.I)
_BRACES = re.compile(r"\{\{|\}\}")


def _prestrip(text: str) -> str:
    """Cut what is always dropped (comments, refs, templates) before mwparserfromhell builds its tree.

    Building template nodes is most of the parser's time on real articles (infoboxes, citations), and
    the renderer would throw them away. Only balanced top-level {{...}} spans go; anything unbalanced is
    left for the parser and the leftover pass.
    """
    text = _COMMENT.sub("", text)
    text = _REF_SPAN.sub("", text)
    if "{{" not in text:
        return text
    out, depth, start, last = [], 0, 0, 0
    for m in _BRACES.finditer(text):
        if m.group() == "{{":
            if depth == 0:
                start = m.start()
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0:
                out.append(text[last:start])
                last = m.end()
    out.append(text[last:])
    return "".join(out)


def to_text(wikitext: str, syntax: WikiSyntax = WikiSyntax(), options: CleanOptions = CleanOptions()) -> str:
    code = mwparserfromhell.parse(_prestrip(wikitext), skip_style_tags=False)
    out: list[str] = []
    _render(code.nodes, syntax, options, out, [False])
    return _tidy("".join(out))


def _render(nodes, syntax, opt, out, skipping) -> None:
    # `skipping` is a one-element list: True while inside a dropped section (until the next heading of
    # the same or higher level). Kept as a mutable cell so nested calls see it.
    for node in nodes:
        if isinstance(node, Heading):
            title = _plain(node.title, syntax, opt).strip()
            level = node.level
            if skipping[0] and level <= skipping[1]:
                skipping[:] = [False]
            if not skipping[0] and norm(title) in opt.drop_sections:
                skipping[:] = [True, level]
            if not skipping[0] and opt.keep_headings and title:
                out.append(f"\n\n{title}\n\n")
            continue
        if skipping[0]:
            continue
        if isinstance(node, Text):
            out.append(node.value)
        elif isinstance(node, Wikilink):
            out.append(_link(node, syntax, opt))
        elif isinstance(node, Tag):
            _tag(node, syntax, opt, out, skipping)
        elif isinstance(node, HTMLEntity):
            out.append(node.normalize())
        elif isinstance(node, ExternalLink):
            if node.title is not None:
                out.append(_plain(node.title, syntax, opt))
            elif not node.brackets:
                out.append(str(node.url))  # a bare URL in running text is part of the text
        # Template, Comment, Argument and anything else: dropped
        elif not isinstance(node, (Template, Comment, Argument)):
            pass


def _plain(code, syntax, opt) -> str:
    parts: list[str] = []
    _render(code.nodes, syntax, opt, parts, [False])
    return "".join(parts)


def _link(node: Wikilink, syntax: WikiSyntax, opt: CleanOptions) -> str:
    target = str(node.title).strip()
    leading_colon = target.startswith(":")
    target = target.lstrip(":").strip()
    prefix = norm(target.split(":", 1)[0]) if ":" in target else None
    if prefix is not None and not leading_colon:
        if prefix in syntax.file_prefixes or prefix in syntax.category_prefixes or MEDIA_TARGET.search(target):
            return ""
        if prefix not in syntax.namespace_prefixes and prefix not in SISTER and LANG_PREFIX.match(prefix):
            return ""  # interlanguage link: [[fr:Paris]]
    if node.text is not None:
        text = _plain(node.text, syntax, opt)
        if prefix in syntax.file_prefixes:  # [[:File:x.jpg|caption]] -> caption only
            text = text.rsplit("|", 1)[-1]
        return text
    if prefix is not None and (prefix in syntax.namespace_prefixes or prefix in SISTER
                               or prefix in syntax.category_prefixes or prefix in syntax.file_prefixes):
        target = target.split(":", 1)[1]  # [[:Category:People from X]] reads as "People from X"
    return target.split("#", 1)[0] if not target.startswith("#") else target[1:]


def _tag(node: Tag, syntax, opt, out, skipping) -> None:
    name = str(node.tag).strip().lower()
    if name in DROP_TAGS:
        return
    if name in TABLE_TAGS:
        if opt.keep_tables:
            out.append("\n" + _table(node, syntax, opt) + "\n")
        return
    if name in BREAK_TAGS:
        out.append("\n")
        return
    if name in ("li", "dt", "dd") and node.wiki_markup:
        return  # list markers (* # ; :) -- the item text follows as ordinary nodes
    if node.contents is not None:
        block = name in BLOCK_TAGS
        if block:
            out.append("\n")
        _render(node.contents.nodes, syntax, opt, out, skipping)
        if block:
            out.append("\n")


def _table(node: Tag, syntax, opt) -> str:
    rows = []
    for row in node.contents.filter_tags(recursive=False, matches=lambda n: str(n.tag).lower() == "tr"):
        cells = [_plain(c.contents, syntax, opt).strip()
                 for c in row.contents.filter_tags(recursive=False,
                                                   matches=lambda n: str(n.tag).lower() in ("td", "th"))]
        cells = [c for c in cells if c]
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)


_EMPTY_PARENS = re.compile(r"\s*\((?:[\s,;:.–-]|&nbsp;)*\)")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([,.;:!?])")


_LEFT_LINK = re.compile(r"\[\[(?:[^\[\]|\n]*\|)?([^\[\]\n]*)\]\]?")
_TEMPLATE_PARAM_LINE = re.compile(r"^\s*[|!][^\n]*$", re.M)


def _balanced_end(text: str, start: int, open_: str, close: str) -> int | None:
    depth, i = 0, start
    while i < len(text) - 1:
        pair = text[i:i + 2]
        if pair == open_:
            depth, i = depth + 1, i + 2
        elif pair == close:
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return None


_REF_LEFT = re.compile(r"<ref[^>]*/>|<ref[^>]*>.*?</ref\s*>|<ref[^>]*>[^\n]*", re.S | re.I)
_MEDIA_LINK_START = re.compile(r"\[\[[^\[\]|\n]{1,40}:[^\[\]|\n]*\.(?:jpe?g|png|svg|gif|tiff?|webp|ogg|ogv|webm|pdf)"
                               r"\s*[|\]]", re.I)


def _strip_leftovers(text: str) -> str:
    """Markup the parser left as text (it gives up on some malformed or very deep templates, and editors
    leave typos such as `[[Thrissur]`): remove templates, refs and file links by bracket matching,
    unwrap plain links."""
    while "{{" in text:
        start = text.index("{{")
        end = _balanced_end(text, start, "{{", "}}")
        if end is None:  # unbalanced: drop to the end of the paragraph
            para = text.find("\n\n", start)
            end = len(text) if para < 0 else para
        text = text[:start] + text[end:]
    m = _MEDIA_LINK_START.search(text)
    while m:
        end = _balanced_end(text, m.start(), "[[", "]]") or text.find("\n\n", m.start())
        end = len(text) if end is None or end < 0 else end
        text = text[:m.start()] + text[end:]
        m = _MEDIA_LINK_START.search(text)
    text = _REF_LEFT.sub("", text)
    text = text.replace("}}", "")
    text = _LEFT_LINK.sub(r"\1", text).replace("]]", "")
    if "{|" in text or "|-" in text:
        text = _TEMPLATE_PARAM_LINE.sub("", re.sub(r"^\s*\{\|.*$|^\s*\|[-}].*$", "", text, flags=re.M))
    return text


def _tidy(text: str) -> str:
    if any(m in text for m in ("{{", "}}", "[[", "]]", "{|", "<ref", "<REF")):
        text = _strip_leftovers(text)
    text = MAGIC_WORD.sub("", text)
    text = _EMPTY_PARENS.sub("", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    lines = []
    for line in text.split("\n"):
        line = re.sub(r"[ \t\u00a0]+", " ", line).strip()
        # Leftovers of broken markup on a line of their own carry no text.
        if re.fullmatch(r"[|{}\[\]!=*#:;'\-]+", line):
            continue
        lines.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
