"""mwparserfromhell's token stream -> the text a reader sees.

mwparserfromhell stays the parser of record: its C tokenizer turns wikitext into a flat list of tokens
(TemplateOpen, Text, WikilinkOpen, ...). Its pure-Python builder would then make a tree of node objects,
which is most of the parse time and which we would only walk once and throw away. So this module walks
the token list itself: one pass, recursive descent, each construct rendering straight into a list of
strings. Constructs that are dropped (templates without a renderer, refs, tables, comments) are skipped
by counting open/close tokens, without rendering what is inside.

Headings become `Heading` markers (a str subclass, so joining still works) that the caller uses to cut
the page into sections.
"""
from __future__ import annotations

import html
import re

from mwparserfromhell.parser import tokens as T

from wiki_qa.builders.mediawiki.clean.templates.registry import Call, Context, TemplateTable, display_name
from wiki_qa.builders.mediawiki.siteinfo import norm

try:
    from mwparserfromhell.parser._tokenizer import CTokenizer as _Tokenizer
except ImportError:  # pragma: no cover - the C extension ships in every wheel we install
    from mwparserfromhell.parser.tokenizer import Tokenizer as _Tokenizer

# Tags whose content is not prose (or is machine markup): dropped with their content.
DROP_TAGS = frozenset("""ref references gallery math chem ce score timeline imagemap graph templatedata
    hiero categorytree mapframe maplink inputbox section includeonly noinclude indicator charinsert
    templatestyles syntaxhighlight source code""".split())
BREAK_TAGS = frozenset({"br", "hr"})
BLOCK_TAGS = frozenset({"p", "div", "li", "tr", "dd", "dt", "blockquote", "center", "poem", "pre", "ul", "ol"})
# Interwiki prefixes of sister projects. An inline link with a label keeps its label; a bare one
# (`[[commons:Category:Athens]]`, `[[wikipedia:el:Αθήνα]]`) is page furniture when it stands on its own line.
SISTER = frozenset("w wikipedia wikt wiktionary s wikisource b wikibooks q wikiquote n wikinews v wikiversity "
                   "voy wikivoyage c commons m meta metawikimedia species wikispecies mw mediawikiwiki d "
                   "wikidata wmf foundation incubator".split())
# A prefixed link to a media file is a File: link even when the prefix is a name this dump's siteinfo
# doesn't list (an Amharic page's [[ስዕል:Berlin.jpg|thumb|…]] inside an English-site export).
MEDIA_TARGET = re.compile(r"\.(jpe?g|png|svg|gif|tiff?|webp|xcf|bmp|ogg|ogv|oga|webm|mp3|mp4|wav|flac|mid|"
                          r"pdf|djvu|stl)\s*$", re.I)
LANG_PREFIX = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$|^simple$")
# Bare sister-project links are wrapped in these private-use marks; the tidy pass drops a line made only
# of them and unwraps the rest.
SISTER_OPEN, SISTER_CLOSE = "\ue000", "\ue001"

OPENERS = frozenset({T.TemplateOpen, T.ArgumentOpen, T.WikilinkOpen, T.ExternalLinkOpen, T.HTMLEntityStart,
                     T.HeadingStart, T.CommentStart, T.TagOpenOpen})
CLOSERS = frozenset({T.TemplateClose, T.ArgumentClose, T.WikilinkClose, T.ExternalLinkClose, T.HTMLEntityEnd,
                     T.HeadingEnd, T.CommentEnd, T.TagCloseSelfclose, T.TagCloseClose})
_Text = T.Text
_NAME_STOP = frozenset({T.TemplateParamSeparator, T.TemplateClose})
_PARAM_STOP = frozenset({T.TemplateParamSeparator, T.TemplateClose, T.TemplateParamEquals})
_LINK_TITLE_STOP = frozenset({T.WikilinkSeparator, T.WikilinkClose})
_LINK_TEXT_STOP = frozenset({T.WikilinkClose})
_EXT_URL_STOP = frozenset({T.ExternalLinkSeparator, T.ExternalLinkClose})
_EXT_TEXT_STOP = frozenset({T.ExternalLinkClose})
_HEADING_STOP = frozenset({T.HeadingEnd})
_TAG_NAME_STOP = frozenset({T.TagAttrStart, T.TagCloseOpen, T.TagCloseSelfclose})
_TAG_BODY_STOP = frozenset({T.TagOpenClose})
_NOTHING = frozenset()


class Heading(str):
    """A heading in the output: its text is what a plain join shows; `level` and `title` cut sections."""

    level: int
    title: str

    def __new__(cls, level: int, title: str):
        self = super().__new__(cls, f"\n\n{title}\n\n")
        self.level, self.title = level, title
        return self


def tokenize(text: str) -> list:
    # Style tags ('' and ''') stay text: as Tag tokens they are most of the token count on real articles,
    # and all they would give us is where to drop the quote marks, which a regex does (see wikitext.py).
    return _Tokenizer().tokenize(text, 0, True)


def skip(toks: list, i: int) -> int:
    """Index just after the construct that opens at toks[i] (every opener has exactly one closer)."""
    depth, n = 0, len(toks)
    openers, closers = OPENERS, CLOSERS
    while i < n:
        c = toks[i].__class__
        if c in openers:
            depth += 1
        elif c in closers:
            depth -= 1
            if depth <= 0:
                return i + 1
        i += 1
    return n


class Renderer:
    """Renders one page's tokens. Holds the site's names, the options and the template table."""

    def __init__(self, syntax, options, table: TemplateTable, ctx: Context, on_dropped=None):
        self.syntax, self.opt, self.table, self.ctx = syntax, options, table, ctx
        self.on_dropped = on_dropped  # callable(display name) for every template cut
        self._handlers = {
            T.TemplateOpen: self._template, T.WikilinkOpen: self._wikilink,
            T.ExternalLinkOpen: self._external_link, T.HTMLEntityStart: self._entity,
            T.HeadingStart: self._heading, T.TagOpenOpen: self._tag,
            T.CommentStart: skip, T.ArgumentOpen: skip,
        }

    def render(self, toks: list) -> list[str]:
        out: list[str] = []
        self.walk(toks, 0, out, _NOTHING)
        return out

    def walk(self, toks: list, i: int, out: list, stop: frozenset) -> int:
        """Render toks[i:] into `out` until a token of a class in `stop` at this level; return its index."""
        n = len(toks)
        append, handlers = out.append, self._handlers
        while i < n:
            tok = toks[i]
            c = tok.__class__
            if c is _Text:
                append(tok["text"])
                i += 1
            elif c in stop:
                return i
            else:
                h = handlers.get(c)
                # A stray closer or separator cannot occur in the tokenizer's balanced output; step over it.
                i = h(toks, i, out) if h is not None else i + 1
        return n

    def text_of(self, toks: list, i: int, stop: frozenset) -> tuple[str, int]:
        """Fast path for the common case of a single Text token before a stop token."""
        tok = toks[i] if i < len(toks) else None
        if tok is not None and tok.__class__ is _Text and i + 1 < len(toks) and toks[i + 1].__class__ in stop:
            return tok["text"], i + 1
        parts: list[str] = []
        i = self.walk(toks, i, parts, stop)
        return "".join(parts), i

    # ---- templates -------------------------------------------------------------------------------
    def _template(self, toks, i, out) -> int:
        name, j = self.text_of(toks, i + 1, _NAME_STOP)
        key, fn, first = self.table.resolve(name)
        if fn is None:
            if self.on_dropped is not None and name.strip():
                self.on_dropped(display_name(name))
            return skip(toks, i)
        params: dict[str, str] = {}
        pos = 0
        if first is not None:
            pos = 1
            params["1"] = first
        n = len(toks)
        while j < n and toks[j].__class__ is T.TemplateParamSeparator:
            value, j = self.text_of(toks, j + 1, _PARAM_STOP)
            if j < n and toks[j].__class__ is T.TemplateParamEquals:
                k = value.strip()
                value, j = self.text_of(toks, j + 1, _NAME_STOP)
            else:
                pos += 1
                k = str(pos)
            params[k] = value
        text = fn(Call(key, params, self.ctx))
        if text is None:  # the renderer declined: not this family after all (Wikipedia's {{see}} hatnote)
            if self.on_dropped is not None:
                self.on_dropped(display_name(name))
        else:
            out.append(text)
        return j + 1

    # ---- links -----------------------------------------------------------------------------------
    def _wikilink(self, toks, i, out) -> int:
        target, j = self.text_of(toks, i + 1, _LINK_TITLE_STOP)
        has_text = j < len(toks) and toks[j].__class__ is T.WikilinkSeparator
        kind, shown = self._link_kind(target)
        if kind == "drop":
            return skip(toks, i)
        if has_text:
            parts: list[str] = []
            j = self.walk(toks, j + 1, parts, _LINK_TEXT_STOP)
            text = "".join(parts)
            if kind == "file":  # [[:File:x.jpg|caption]] -> caption only
                text = text.rsplit("|", 1)[-1]
            out.append(text)
        elif kind == "sister":
            out.append(SISTER_OPEN + shown + SISTER_CLOSE)
        else:
            out.append(shown)
        return j + 1

    def _link_kind(self, target: str) -> tuple[str, str]:
        """("drop" | "file" | "sister" | "plain", text shown when the link has no label)."""
        target = target.strip()
        leading_colon = target.startswith(":")
        target = target.lstrip(":").strip()
        if ":" not in target:
            return "plain", (target.split("#", 1)[0] if not target.startswith("#") else target[1:])
        syn = self.syntax
        head, rest = target.split(":", 1)
        prefix = norm(head)
        if not leading_colon:
            if prefix in syn.file_prefixes or prefix in syn.category_prefixes or MEDIA_TARGET.search(target):
                return "drop", ""
            if prefix not in syn.namespace_prefixes and prefix not in SISTER and LANG_PREFIX.match(prefix):
                return "drop", ""  # interlanguage link: [[fr:Paris]]
        if prefix in syn.namespace_prefixes or prefix in syn.category_prefixes or prefix in syn.file_prefixes:
            kind = "file" if prefix in syn.file_prefixes else "plain"
            return kind, rest.split("#", 1)[0]  # [[:Category:People from X]] reads as "People from X"
        if prefix in SISTER:
            # [[wikipedia:el:Αθήνα]]: strip the project and language prefixes
            while ":" in rest and (norm(rest.split(":", 1)[0]) in SISTER or LANG_PREFIX.match(
                    norm(rest.split(":", 1)[0]))):
                rest = rest.split(":", 1)[1]
            return "sister", rest.split("#", 1)[0]
        return "plain", target.split("#", 1)[0]

    def _external_link(self, toks, i, out) -> int:
        brackets = toks[i].get("brackets")
        url, j = self.text_of(toks, i + 1, _EXT_URL_STOP)
        if j < len(toks) and toks[j].__class__ is T.ExternalLinkSeparator:
            j = self.walk(toks, j + 1, out, _EXT_TEXT_STOP)
        elif not brackets:
            out.append(url)  # a bare URL in running text is part of the text
        return j + 1

    def _entity(self, toks, i, out) -> int:
        j = skip(toks, i)
        body = toks[j - 2].get("text", "") if j - 2 > i else ""
        c1 = toks[i + 1].__class__ if i + 1 < len(toks) else None
        if c1 is T.HTMLEntityNumeric:
            hexa = toks[i + 2].__class__ is T.HTMLEntityHex
            try:
                out.append(chr(int(body, 16 if hexa else 10)))
            except (ValueError, OverflowError):
                pass
        else:
            out.append(html.unescape(f"&{body};"))
        return j

    def _heading(self, toks, i, out) -> int:
        level = toks[i].get("level") or 2
        title, j = self.text_of(toks, i + 1, _HEADING_STOP)
        out.append(Heading(level, title.strip()))
        return j + 1

    # ---- tags --------------------------------------------------------------------------------------
    def _tag(self, toks, i, out) -> int:
        name, j = self.text_of(toks, i + 1, _TAG_NAME_STOP)
        name = name.strip().lower()
        n = len(toks)
        while j < n and toks[j].__class__ not in (T.TagCloseOpen, T.TagCloseSelfclose):
            j = skip(toks, j) if toks[j].__class__ in OPENERS else j + 1  # attributes
        if j >= n:
            return n
        if toks[j].__class__ is T.TagCloseSelfclose:
            if name in BREAK_TAGS:
                out.append("\n")
            return j + 1
        if name in DROP_TAGS:
            return skip(toks, i)
        if name == "table":
            if not self.opt.keep_tables:
                return skip(toks, i)
            out.append("\n" + self._table(toks, j + 1) + "\n")
            return skip(toks, i)
        if name in BREAK_TAGS:
            out.append("\n")
        block = name in BLOCK_TAGS
        if block:
            out.append("\n")
        j = self.walk(toks, j + 1, out, _TAG_BODY_STOP)
        if block:
            out.append("\n")
        while j < n and toks[j].__class__ is not T.TagCloseClose:  # the closing tag's name
            j += 1
        return j + 1

    def _table(self, toks, j) -> str:
        """Rows of non-empty cells joined by " | " (keep_tables)."""
        rows = []
        for row_start, row_end in self._children(toks, j, ("tr",)):
            cells = []
            for cell_start, cell_end in self._children(toks, row_start, ("td", "th")):
                parts: list[str] = []
                self.walk(toks, cell_start, parts, _TAG_BODY_STOP)
                cell = "".join(parts).strip()
                if cell:
                    cells.append(cell)
            if cells:
                rows.append(" | ".join(cells))
        return "\n".join(rows)

    def _children(self, toks, j, names):
        """(content start, content end) of the direct child tags named `names` of the tag whose content
        starts at j."""
        n = len(toks)
        while j < n and toks[j].__class__ is not T.TagOpenClose:
            c = toks[j].__class__
            if c is T.TagOpenOpen:
                end = skip(toks, j)
                name, k = self.text_of(toks, j + 1, _TAG_NAME_STOP)
                if name.strip().lower() in names:
                    while k < end and toks[k].__class__ not in (T.TagCloseOpen, T.TagCloseSelfclose):
                        k = skip(toks, k) if toks[k].__class__ in OPENERS else k + 1
                    if k < end and toks[k].__class__ is T.TagCloseOpen:
                        yield k + 1, end
                j = end
            elif c in OPENERS:
                j = skip(toks, j)
            else:
                j += 1
