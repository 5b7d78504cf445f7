"""Before the tokenizer: one linear scan that cuts what is always dropped and repairs broken markup.

Two reasons to do this before mwparserfromhell sees the text:

- Speed. Templates without a renderer (infoboxes, citations, navboxes), refs, tables, galleries, math and
  File: links are most of a real article's markup and are all dropped. Cut here, the tokenizer never
  sees them.
- Bounded time. The C tokenizer is quadratic on unclosed constructs: every unclosed `[[a|`, `{{a|`,
  `<ref>`, `<div>`, `{|` or `[http://x` makes it try to parse to the end of the page and back off, so a
  40 KB page of `<span style="` takes 38 s and 1 MB never finishes. Here every opener is matched with its
  closer by a stack, in one left-to-right pass over the markup tokens, and unmatched ones are resolved
  before tokenizing: an unclosed template or File: link is cut to the end of its paragraph (as the old
  leftover pass did), an unclosed link, tag or table opener loses its markup and keeps its text, a stray
  closer is removed, and `<` that is not a known tag becomes `&lt;`. What reaches the tokenizer is
  balanced, so it never backs off far.

On the way, what needs no tokenizer is done here: a link without markup inside becomes its text, and a
matched formatting tag (<span>, <small>, <div>, ...) becomes nothing or a line break.

The scan only records edits (start, end, replacement); they are applied once at the end.
"""
from __future__ import annotations

import bisect
import re

from wiki_qa.builders.mediawiki.clean.render import shown_link
from wiki_qa.builders.mediawiki.clean.syntax import WikiSyntax
from wiki_qa.builders.mediawiki.siteinfo import norm
from wiki_qa.builders.mediawiki.work import Counter  # the scan's steps: markup tokens visited + characters covered

_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
# Every alternative starts with a literal character outside its group: that lets the regex engine jump
# between candidate characters instead of trying every branch at every position (20x faster).
_SCAN = re.compile(r"""
    \[(?:(?P<link>\[[^\[\]{}<>\n|]*(?:\|[^\[\]{}<>\n]*)?\]\])   # a whole link without markup inside
       | (?P<lo>\[)
       | (?P<ext>(?:https?:|ftp:|//|mailto:|irc:|news:|sftp:|git:)))
  | \{(?P<to>\{)
  | \}(?P<tc>\})
  | \](?P<lc>\])
  | <(?:(?P<tag>(?P<slash>/?)(?P<tname>[a-zA-Z][a-zA-Z0-9]*)(?=[\s/>])[^<>]*>)
       | (?P<lt>(?P<ltname>/?[a-zA-Z][a-zA-Z0-9]*)))
  | \n(?:(?P<tbo>[ \t]*\{\|)
       | (?P<tbc>[ \t]*\|\}(?!\}))
       | (?P<para>(?=[ \t]*\n)))
""", re.X)
_TABLE_LINES = re.compile(r"[^\n]*(?:\n[ \t]*[|!][^\n]*)*")
_EXT_CLOSED = re.compile(r"[^\]\n\[]*\]")
_TPL_NAME = re.compile(r"\{\{\s*([^{}|\[\]<>]{0,200}?)\s*(?=\||\}\})")
_LINK_TARGET = re.compile(r"\[\[\s*(:?)\s*([^\[\]|\n{}<>]{0,255})(\|?)")

# Tags MediaWiki knows (HTML it allows, and extension tags). Anything else is shown as text.
HTML_TAGS = frozenset("""b i u s strike strong em small big sub sup tt code kbd samp var font center div span p
    br hr blockquote pre ol ul li dl dt dd table caption thead tbody tfoot tr td th h1 h2 h3 h4 h5 h6 abbr cite
    dfn q ins del rb rp rt rtc ruby bdi bdo data time mark wbr img link meta""".split())
EXT_TAGS = frozenset("""ref references nowiki gallery math chem ce poem score timeline imagemap graph
    templatedata hiero categorytree mapframe maplink inputbox section includeonly noinclude onlyinclude
    indicator charinsert templatestyles syntaxhighlight source langconvert phonos""".split())
VOID_TAGS = frozenset("br hr wbr img link meta".split())
# Content is not wikitext: it is not scanned. Dropped ones are cut with their content.
RAW_KEPT = frozenset({"nowiki", "pre"})
CUT_TAGS = frozenset("""ref references gallery math chem ce score timeline imagemap graph templatedata hiero
    categorytree mapframe maplink inputbox section includeonly noinclude indicator charinsert templatestyles
    syntaxhighlight source phonos code""".split())
# Formatting tags whose markup shows nothing: once matched, they are replaced here ("\n" for a block, ""
# inline) instead of becoming tag tokens for the tokenizer and the renderer. Table tags stay (keep_tables
# renders rows and cells).
BLOCK_HTML = frozenset("div p center blockquote poem ul ol li dl dt dd h1 h2 h3 h4 h5 h6".split())
INLINE_HTML = frozenset("""b i u s strike strong em small big sub sup tt kbd samp var font span abbr cite dfn q
    ins del rb rp rt rtc ruby bdi bdo data time mark onlyinclude""".split())
_DEFAULT_SYNTAX = WikiSyntax()
# A line that starts with one of these is a list, a heading, a table row or a rule: a link's text must not
# become one when its brackets go.
_LINE_START = frozenset("*#:;=!|{-")
_MAX_LOOKBACK = 16  # how deep a closer looks past other open constructs for its opener


class _Closes:
    """Where the next `</name>` is, for raw and cut tags. The scan only moves forward, so each search starts
    where the last one for that name ended: every character is searched at most once per tag name."""

    _patterns: dict[str, re.Pattern] = {}

    def __init__(self, text: str):
        self.text, self.found, self.searched = text, {}, 0

    def after(self, name: str, pos: int) -> tuple[int, int] | None:
        hit = self.found.get(name)
        if hit is not None:
            start, end, searched_from = hit
            if start is None and pos >= searched_from:
                return None  # searched to the end already: there is none
            if start is not None and start >= pos:
                return start, end
        pat = self._patterns.get(name)
        if pat is None:
            pat = self._patterns[name] = re.compile(rf"</{name}\s*>", re.I)
        m = pat.search(self.text, pos)
        self.searched += (m.end() if m else len(self.text)) - pos
        self.found[name] = (m.start(), m.end(), pos) if m else (None, None, pos)
        return m.span() if m else None


def prepare(text: str, keeps, syntax=None, keep_tables=False, on_dropped=None, counter: Counter | None = None
            ) -> str:
    """The text to tokenize. `keeps(name)` says whether a template renders (stays for the tokenizer);
    `syntax` is the wiki's WikiSyntax (its File:/Category: names)."""
    syntax = syntax or _DEFAULT_SYNTAX
    file_prefixes = syntax.file_prefixes
    if "<!--" in text:
        text = _COMMENT.sub("", text)
    if not any(c in text for c in "{[<|"):
        return text
    text = "\n" + text  # line-start constructs match after a newline; this one is taken off at the end
    # An edit is (start, -end, replacement): sorted as plain tuples, an enclosing cut comes first.
    edits: list[tuple[int, int, str]] = []
    cut = edits.append
    stack: list[tuple] = []  # (kind, start, end_of_opener, extra)
    push, pop = stack.append, stack.pop
    n_tpl = 0  # open {{ on the stack
    paras: list[int] = []
    closes = _Closes(text)
    skip_to = steps = 0
    for m in _SCAN.finditer(text):
        kind = m.lastgroup
        s, e = m.span()
        if s < skip_to:
            continue
        steps += 1
        if kind == "link":
            # A link with no markup inside, outside templates (where removing its brackets could make a
            # "|" or "=" in its label a parameter): its text goes in now, the tokenizer never sees it.
            if not n_tpl:
                target, bar, label = text[s + 2:e - 2].partition("|")
                if "|" not in label:
                    shown = shown_link(target, label if bar else None, syntax)
                    if not (shown[:1] in _LINE_START and text[s - 1] == "\n"):
                        cut((s, -e, shown))
        elif kind == "lo":
            push(("[[", s, e, None))
        elif kind == "lc":
            if stack and stack[-1][0] == "[[":
                start = pop()[1]
                if _is_media(text, start, file_prefixes):
                    cut((start, -e, ""))
            else:
                cut((s, -e, ""))  # stray ]]
        elif kind == "to":
            nm = _TPL_NAME.match(text, s)
            push(("{{", s, e, nm.group(1) if nm else None))
            n_tpl += 1
        elif kind == "tc":
            if not n_tpl:
                cut((s, -e, ""))  # stray }}
                continue
            while stack[-1][0] != "{{":
                _abandon(pop(), text, cut, paras, e, file_prefixes)
            _, start, _, name = pop()
            n_tpl -= 1
            if name is None or not keeps(name):
                cut((start, -e, ""))
                if on_dropped is not None and name:
                    on_dropped(name)
        elif kind == "tag":
            slash, name = m.group("slash"), m.group("tname").lower()
            if name not in HTML_TAGS and name not in EXT_TAGS:
                cut((s, -(s + 1), "&lt;"))  # shown as text by MediaWiki, and the tokenizer must not try it
            elif slash:
                if name in VOID_TAGS:
                    continue
                opener = _close_to(stack, "tag", name, text, cut, paras, e, file_prefixes)
                if opener is None:
                    cut((s, -e, ""))  # stray closing tag
                elif name == "table" and not keep_tables:
                    cut((opener[1], -e, ""))
                elif name in BLOCK_HTML or name in INLINE_HTML:
                    shown = "\n" if name in BLOCK_HTML else ""
                    cut((opener[1], -opener[2], shown))
                    cut((s, -e, shown))
            elif name in VOID_TAGS or text[e - 2] == "/":
                if name in CUT_TAGS or name in INLINE_HTML or name in BLOCK_HTML:
                    cut((s, -e, ""))
                elif name == "br" or name == "hr":
                    cut((s, -e, "\n"))
            elif name in CUT_TAGS or name in RAW_KEPT:
                close = closes.after(name, e)
                if close is None:
                    cut((s, -e, ""))  # an unclosed <ref>: its markup goes, its text stays
                else:
                    if name in CUT_TAGS:
                        cut((s, -close[1], ""))
                    skip_to = close[1]
            else:
                push(("tag", s, e, name))
        elif kind == "para":  # links cannot span a paragraph break
            paras.append(s)
            while stack and stack[-1][0] == "[[":
                _abandon(pop(), text, cut, paras, s, file_prefixes)
        elif kind == "ext":
            if not _EXT_CLOSED.match(text, e):
                cut((s, -(s + 1), ""))  # an unclosed [http://… shows as text without its bracket
        elif kind == "tbo":
            push(("{|", s + 1, e, None))
        elif kind == "tbc":
            opener = _close_to(stack, "{|", None, text, cut, paras, e, file_prefixes)
            if opener is None:
                cut((s + 1, -e, ""))  # stray |}
            elif not keep_tables:
                cut((opener[1], -e, ""))
        else:  # "lt": `<span style="` that never ends: the tokenizer would try it to the end of the page
            name = m.group("ltname").lstrip("/").lower()
            cut((s, -e, "") if name in HTML_TAGS or name in EXT_TAGS else (s, -(s + 1), "&lt;"))
    while stack:
        _abandon(pop(), text, cut, paras, None, file_prefixes, on_dropped)
    if counter is not None:
        # Work done: markup tokens handled, edits applied, and the characters the scan and the searches
        # for closing tags covered (each character once: see _Closes).
        counter.steps += steps + len(edits) + len(text) + closes.searched
    return _apply(text, edits)[1:] if edits else text[1:]


def _is_media(text: str, start: int, file_prefixes) -> bool:
    return _media_target(_LINK_TARGET.match(text, start), file_prefixes)


def _media_target(t: re.Match | None, file_prefixes) -> bool:
    return t is not None and not t.group(1) and ":" in t.group(2) and \
        norm(t.group(2).split(":", 1)[0]) in file_prefixes


def _abandon(entry, text, cut, paras, para_end, file_prefixes, on_dropped=None) -> None:
    """An opener that never closed: an unclosed template or File: link is cut to the end of its paragraph;
    a link, table or tag loses its markup and keeps its text."""
    kind, start, end, extra = entry
    if kind == "[[":
        t = _LINK_TARGET.match(text, start)
        if not _media_target(t, file_prefixes):
            if t and t.group(3):
                cut((start, -t.end(), ""))  # "[[target|" goes, the label stays
            else:
                cut((start, -end, ""))
                if t and text.startswith("]", t.end()):
                    cut((t.end(), -(t.end() + 1), ""))  # a typo such as [[Thrissur]: the lone ] goes too
            return
    elif kind == "{|":  # the opener's line and the row/cell lines under it: shown as text they are junk
        cut((start, -_TABLE_LINES.match(text, end).end(), ""))
        return
    elif kind != "{{":  # an unclosed tag: drop the markup
        cut((start, -end, ""))
        return
    if para_end is None:
        i = bisect.bisect_left(paras, start)
        para_end = paras[i] if i < len(paras) else len(text)
    cut((start, -para_end, ""))
    if kind == "{{" and on_dropped is not None and extra:
        on_dropped(extra)


def _close_to(stack, kind, name, text, cut, paras, pos, file_prefixes) -> tuple | None:
    """Pop to the nearest open `kind` (`name`) if only tags, links and tables lie above it (at most a few:
    the look-back is bounded, so the scan stays linear); those are abandoned. Returns the opener's stack
    entry, or None when there is no such opener: the closer is stray."""
    for depth in range(1, min(len(stack), _MAX_LOOKBACK) + 1):
        entry = stack[-depth]
        if entry[0] == kind and (name is None or entry[3] == name):
            for _ in range(depth - 1):
                _abandon(stack.pop(), text, cut, paras, pos, file_prefixes)
            return stack.pop()
        if entry[0] == "{{":
            return None
    return None


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    edits.sort()
    out, pos = [], 0
    for s, neg_e, r in edits:
        e = -neg_e
        if e <= pos and not (s == e == pos):
            continue  # inside a span already cut
        if s < pos:
            s, r = pos, ""
        out.append(text[pos:s])
        out.append(r)
        pos = e
    out.append(text[pos:])
    return "".join(out)
