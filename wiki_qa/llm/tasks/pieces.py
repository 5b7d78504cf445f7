"""Long texts cut into pieces a translation request can hold, and the sentence counts that check a piece.

`split(text, max_tokens)` cuts at paragraph breaks first, then between sentences, never inside a sentence
(a single sentence longer than the budget stays one piece: a cut sentence translates badly and cannot be
checked). Pieces keep their separators, so `"".join(p.text + p.sep for p in pieces) == text` and the
translated pieces rejoin with the source's own layout. Token counts are tiktoken's (wiki_qa.tokens).

`sentences(text)` is the splitter behind both the cuts and the truncation check: terminal punctuation
followed by a space and a word that does not start in lower case, except after common abbreviations.
It runs on masked text, so decimal points and URLs are never sentence ends.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from wiki_qa.tokens import count_tokens

_END = re.compile(r"[.!?…。！？؟।]+[\"'”’»)\]]*(?=\s|$)")
_ABBREV = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Sr|Jr|Gen|Col|Capt|Lt|Sgt|Gov|Sen|Rep|Rev|Hon|No|Nos|"
                     r"vs|etc|e\.g|i\.e|cf|al|Inc|Ltd|Co|Corp|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|"
                     r"Dec|Fig|Vol|pp|approx)|\b[A-Z])\.$")
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")


@dataclass
class Piece:
    text: str
    sep: str = ""  # what followed it in the source (a paragraph break, a space between sentences)


def sentences(text: str) -> list[str]:
    """The sentences of one text (a line break also ends one: list items and headings are separate)."""
    out = []
    for line in text.split("\n"):
        start = 0
        for m in _END.finditer(line):
            after = line[m.end():].lstrip()
            if after and (after[0].islower() or _ABBREV.search(line[start:m.end()])):
                continue  # "e.g. the", "Dr. Ade": not an end
            piece = line[start:m.end()].strip()
            if piece:
                out.append(piece)
            start = m.end()
        rest = line[start:].strip()
        if rest:
            out.append(rest)
    return out


def spans(text: str) -> list[tuple[str, str, str]]:
    """(whitespace before, sentence, whitespace after) for every sentence of text, such that joining all
    three parts in order gives text back exactly. Only the first span has text before it."""
    out: list[list[str]] = []
    pos = 0
    for s in sentences(text):
        i = text.find(s, pos)
        if i < 0:  # cannot happen for sentences() of this text; keep the rest whole rather than lose it
            break
        if out:
            out[-1][2] = text[pos:i]
            out.append(["", s, ""])
        else:
            out.append([text[pos:i], s, ""])
        pos = i + len(s)
    if not out:
        return [(text, "", "")] if text else []
    out[-1][2] += text[pos:]
    return [tuple(x) for x in out]


def ends_sentence(text: str) -> bool:
    """Whether text ends like a finished sentence (terminal punctuation, maybe in quotes or brackets)."""
    return bool(re.search(r"[.!?…。！？؟।:;][\"'”’»)\]*_⟧\d]*\s*$", text))


def split(text: str, max_tokens: int) -> list[Piece]:
    """Pieces of at most `max_tokens` (except a single longer sentence), at paragraph then sentence breaks."""
    if count_tokens(text) <= max_tokens:
        return [Piece(text)]
    out: list[Piece] = []
    pos = 0
    for m in list(_PARAGRAPH.finditer(text)) + [None]:
        end, sep = (m.start(), m.group()) if m else (len(text), "")
        para = text[pos:end]
        pos = m.end() if m else len(text)
        if count_tokens(para) <= max_tokens:
            _add(out, para, sep, max_tokens)
        else:
            parts = spans(para)
            for i, (pre, s, gap) in enumerate(parts):
                _add(out, pre + s, gap + (sep if i == len(parts) - 1 else ""), max_tokens)
    return out


def join(pieces: list[Piece], texts: list[str]) -> str:
    """Translated pieces put back together with the source's separators."""
    return "".join(t + p.sep for p, t in zip(pieces, texts))


def _add(out: list[Piece], text: str, sep: str, budget: int) -> None:
    """Append text, merged into the previous piece while both fit the budget (fewer, fuller requests)."""
    if out and count_tokens(out[-1].text + out[-1].sep + text) <= budget:
        out[-1] = Piece(out[-1].text + out[-1].sep + text, sep)
    else:
        out.append(Piece(text, sep))
