"""Wikitext -> the plain text a reader sees, aware of the wiki's own language.

    prepass (linear: cut what is always dropped, repair broken markup)
      -> mwparserfromhell's C tokenizer -> render (token walk; inline templates rendered by the table)
      -> sections (drop "References" & co., drop headings left with nothing under them) -> tidy

What is dropped: templates without a renderer (counted by name), refs, tables (unless kept), comments,
magic words, interlanguage links, File:/Category: links under every name the wiki gives them
(`[[Mynd:…]]` on Faroese, `[[Kategorija:…]]`, `[[Файл:…]]`), lines of bare sister-project links.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import re

from wiki_qa.builders.mediawiki.clean import furniture
from wiki_qa.builders.mediawiki.clean.prepass import prepare
from wiki_qa.builders.mediawiki.clean.render import SISTER_CLOSE, SISTER_OPEN, Heading, Renderer, tokenize
from wiki_qa.builders.mediawiki.clean.templates import TemplateTable, default_table
from wiki_qa.builders.mediawiki.clean.templates.registry import Context, display_name
from wiki_qa.builders.mediawiki.siteinfo import norm

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
    templates: TemplateTable = dataclasses.field(default_factory=default_table, compare=False)


def is_redirect(text: str) -> bool:
    if _REDIRECT.match(text):
        return True
    # An unknown language's redirect word: "#WORD [[Target]]" and almost nothing else on the page.
    return bool(_GENERIC_REDIRECT.match(text)) and len([l for l in text.splitlines() if l.strip()]) <= 3


def is_disambiguation(title: str, text: str) -> bool:
    return ("__DISAMBIG__" in text or bool(DISAMBIG_TEMPLATES.search(text))
            or title.rstrip().endswith(("(disambiguation)", "(Begriffsklärung)", "(homonymie)")))


def to_text(wikitext: str, syntax: WikiSyntax = WikiSyntax(), options: CleanOptions = CleanOptions(),
            stats=None, today: str | dt.date | None = None) -> str:
    """`stats` (a SourceStats) gets the names of dropped templates; `today` (the revision's timestamp) is
    the date ages are computed at, so "(aged 41)" is what the page showed then and builds are repeatable."""
    table = options.templates
    on_dropped = None
    if stats is not None:
        def on_dropped(name: str) -> None:
            stats.tally("templates_dropped", display_name(name))
    # The tokenizer makes a small acyclic dict per token (hundreds of thousands on a long page): the cyclic
    # garbage collector would only rescan them, over and over, as they pile up. It is off for this call.
    collecting = gc.isenabled()
    gc.disable()
    try:
        text = prepare(wikitext, table.keeps, syntax.file_prefixes, options.keep_tables, on_dropped)
        renderer = Renderer(syntax, options, table, Context(today=_date(today)), on_dropped)
        return assemble(renderer.render(tokenize(text)), options)
    finally:
        if collecting:
            gc.enable()


def _date(today) -> tuple[int, int, int] | None:
    if today is None:
        return None
    if isinstance(today, (dt.date, dt.datetime)):
        return today.year, today.month, today.day
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)", str(today))
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def assemble(pieces: list[str], opt: CleanOptions) -> str:
    """Rendered pieces -> text: sections cut at headings, unwanted and empty sections dropped, tidied."""
    sections: list[tuple[int, str, str]] = []  # (level, title, body); level 0 = the lead
    level, title, body = 0, "", []
    for p in pieces:
        if p.__class__ is Heading:
            sections.append((level, title, body))
            level, title, body = p.level, p.title, []
        else:
            body.append(p)
    sections.append((level, title, body))

    kept, skip_level = [], None
    for level, title, body in sections:
        if skip_level is not None and level <= skip_level:
            skip_level = None
        title = tidy_inline(title)
        if skip_level is None and level and norm(title) in opt.drop_sections:
            skip_level = level
        if skip_level is None:
            kept.append((level, title, tidy("".join(body))))
    return "\n\n".join(part for part in furniture.with_headings(kept, opt.keep_headings) if part)


# Every pattern starts with a literal, so the regex engine can jump to candidates (a leading class or
# optional char makes it try every position: 10x slower on real pages).
_QUOTE_SPLIT = re.compile(r"(''+)")
_LEFT_LINK = re.compile(r"\[\[(?:[^\[\]|\n]*\|)?([^\[\]\n]*)\]\]?")
_LEFT_MARKERS = re.compile(r"\[\[|\]\]|\{\{|\}\}")
_TABLE_LINE = re.compile(r"^[ \t]*(?:\{\||\|[-}+]|[|!])[^\n]*$", re.M)
_SPACES = re.compile(r"  +")
_EMPTY_PARENS = re.compile(r"\((?:[\s,;:.–-]|&nbsp;)*\)")
_SPACE_BEFORE_PUNCT = re.compile(r" ([,.;:!?])")
_JUNK_LINES = re.compile(r"\n[|{}\[\]!=*#:;'\-]+(?=\n)")
_SISTER_SPAN = re.compile(SISTER_OPEN + "[^" + SISTER_CLOSE + "]*" + SISTER_CLOSE)
_LIST_PUNCT = re.compile(r"[\s*#:;,.|•·\-–]*")
_BLANK_LINES = re.compile(r"\n\n\n+")


def apostrophes(text: str) -> str:
    """Drop italic/bold quote marks the way MediaWiki's doQuotes reads them, line by line: '' italic,
    ''' bold, ''''' both, '''' an apostrophe and bold; and when a line has an odd number of both, one '''
    is an apostrophe followed by '' (``''Iliad'''s`` is "Iliad's")."""
    if "''" not in text:
        return text
    return "\n".join(_line_apostrophes(line) if "''" in line else line for line in text.split("\n"))


def _line_apostrophes(line: str) -> str:
    arr = _QUOTE_SPLIT.split(line)
    italics = bold = 0
    for i in range(1, len(arr), 2):
        n = len(arr[i])
        if n == 4:
            arr[i - 1] += "'"
            n = 3
        elif n > 5:
            arr[i - 1] += "'" * (n - 5)
            n = 5
        arr[i] = "'" * n
        italics += n in (2, 5)
        bold += n in (3, 5)
    if italics % 2 and bold % 2:
        single = multi = space = -1
        for i in range(1, len(arr), 2):
            if len(arr[i]) == 3:
                before = arr[i - 1]
                if before[-1:] == " ":
                    space = i if space < 0 else space
                elif before[-2:-1] == " ":
                    single = i
                    break
                elif multi < 0:
                    multi = i
        pick = single if single > -1 else multi if multi > -1 else space
        if pick > -1:
            arr[pick - 1] += "'"
    return "".join(arr[0::2])


def tidy_inline(text: str) -> str:
    text = apostrophes(text)
    if SISTER_OPEN in text:
        text = text.replace(SISTER_OPEN, "").replace(SISTER_CLOSE, "")
    return _spaces(text).strip()


def _spaces(text: str) -> str:
    if "\t" in text or "\xa0" in text:
        text = text.replace("\t", " ").replace("\xa0", " ")
    return _SPACES.sub(" ", text) if "  " in text else text


def tidy(text: str) -> str:
    """Every step is one regex pass or one pass over lines: linear in the text, whatever it holds."""
    text = apostrophes(text)
    if "[[" in text or "]]" in text or "{{" in text or "}}" in text:
        # Markup the tokenizer left as text (a link title it refused, such as `[[a\nb]]`).
        text = _LEFT_MARKERS.sub("", _LEFT_LINK.sub(r"\1", text))
    if "{|" in text or "|-" in text:
        text = _TABLE_LINE.sub("", text)
    if "__" in text:
        text = MAGIC_WORD.sub("", text)
    if "(" in text:
        text = _EMPTY_PARENS.sub("", text)
    if "  " in text:  # runs of spaces first: " ([,.;:!?])" on a long run would rescan it from every space
        text = _SPACES.sub(" ", text)
    text = _spaces(_SPACE_BEFORE_PUNCT.sub(r"\1", text))
    # Spaces are single now, so a line's edges are at most one space. The "\n" around the text lets the
    # line patterns start with a literal newline (fast), the first and the last line included.
    text = ("\n" + text + "\n").replace("\n ", "\n").replace(" \n", "\n")
    # Leftovers of broken markup on a line of their own carry no text.
    text = _JUNK_LINES.sub("", text)
    if SISTER_OPEN in text:
        text = "\n".join(line for line in map(_sister_line, text.split("\n")) if line is not None)
    return _BLANK_LINES.sub("\n\n", text).strip()


def _sister_line(line: str) -> str | None:
    """A line of bare sister-project links ("commons:Category:Athens") is page furniture: None."""
    if SISTER_OPEN not in line:
        return line
    if _LIST_PUNCT.fullmatch(_SISTER_SPAN.sub("", line)):
        return None
    return line.replace(SISTER_OPEN, "").replace(SISTER_CLOSE, "")
