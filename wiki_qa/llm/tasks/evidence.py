"""Evidence spans: the passage text that supports an item, as character offsets into the chunk.

The model is asked to copy a short quote from the passage; `align` finds it in the chunk text:
1. exactly;
2. after folding case, whitespace, quote marks and dashes (models retype these);
3. fuzzily, word by word (difflib): the window of the chunk whose words best match the quote's, kept
   when the match ratio reaches `min_ratio`.
The span's `quote` is always the chunk's own text at the offsets, so `text[start:end] == quote` holds for
every span by construction; what the model typed is not kept.
"""
from __future__ import annotations

import collections
import difflib
import re

_WORD = re.compile(r"\w+", re.U)
# Characters models retype: curly quotes, primes, dashes, non-breaking and other spaces.
_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                       "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
                       "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-"})
_EDGE = " \t\n\"'.,;:!?()[]"


def span(text: str, start: int, end: int, chunk: str | None = None) -> dict:
    out = {"start": start, "end": end, "quote": text[start:end]}
    return {"chunk": chunk, **out} if chunk is not None else out


def _folded(text: str) -> tuple[str, list[int]]:
    """Folded text and, for each of its characters, the offset of the original character it came from.
    Runs of whitespace become one space; case folding may lengthen a character (ß -> ss)."""
    out, where = [], []
    prev_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not prev_space:
                out.append(" ")
                where.append(i)
            prev_space = True
            continue
        prev_space = False
        for c in ch.translate(_FOLD).casefold():
            out.append(c)
            where.append(i)
    return "".join(out), where


def _exact(quote: str, text: str) -> tuple[int, int] | None:
    i = text.find(quote)
    if i >= 0:
        return i, i + len(quote)
    fq = _folded(quote)[0].strip()
    if not fq:
        return None
    ft, where = _folded(text)
    j = ft.find(fq)
    if j < 0:
        return None
    return where[j], where[j + len(fq) - 1] + 1


def _fuzzy(quote: str, text: str, min_ratio: float) -> tuple[int, int] | None:
    words = [(m.group().casefold(), m.start(), m.end()) for m in _WORD.finditer(text)]
    q = [w.casefold() for w in _WORD.findall(quote)]
    m = len(q)
    if not m or not words:
        return None
    need = collections.Counter(q)
    # Sliding multiset overlap picks a few candidate windows in one pass; difflib scores only those.
    have: collections.Counter = collections.Counter()
    overlap, best = 0, []
    for i, (w, _, _) in enumerate(words):
        have[w] += 1
        if have[w] <= need[w]:
            overlap += 1
        if i >= m:
            old = words[i - m][0]
            if have[old] <= need[old]:
                overlap -= 1
            have[old] -= 1
        if overlap * 2 >= m:
            best.append((overlap, -max(0, i - m + 1)))
    best = sorted(best, reverse=True)[:8]
    slack = max(2, m // 4)  # a quote that skipped or added a few words
    top, found = 0.0, None
    for _, neg in best:
        lo = max(0, -neg - slack)
        window = [w for w, _, _ in words[lo:-neg + m + slack]]
        blocks = _core(difflib.SequenceMatcher(None, q, window, autojunk=False).get_matching_blocks())
        if not blocks:
            continue
        got = sum(b.size for b in blocks)
        first, last = blocks[0].b, blocks[-1].b + blocks[-1].size - 1
        # share of the quote found, times how densely it sits in the chunk's stretch
        score = got / m * (got / (last - first + 1)) ** 0.5
        if score > top:
            top, found = score, (words[lo + first][1], words[lo + last][2])
    return found if found and top >= min_ratio else None


def _core(blocks) -> list:
    """Matching blocks without stray single words at either edge (a lone "the" three words away)."""
    blocks = [b for b in blocks if b.size]
    while len(blocks) > 1 and blocks[0].size == 1 and blocks[1].b - blocks[0].b > 3:
        blocks = blocks[1:]
    while len(blocks) > 1 and blocks[-1].size == 1 and blocks[-1].b - (blocks[-2].b + blocks[-2].size) > 2:
        blocks = blocks[:-1]
    return blocks


def align(quote: str, text: str, min_ratio: float = 0.8) -> tuple[int, int] | None:
    """(start, end) of `quote` in `text`: exact, then folded, then fuzzy; None when it is not there."""
    quote = (quote or "").strip().strip(_EDGE).strip()
    if len(_WORD.findall(quote)) == 0:
        return None
    hit = _exact(quote, text) or _fuzzy(quote, text, min_ratio)
    if hit is None:
        return None
    start, end = hit
    # Trim what the fuzzy/folded match may have pulled in at the edges (spaces, punctuation).
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return (start, end) if end > start else None


def round_trips(spans: list[dict], texts: dict[str, str]) -> bool:
    """Every span's quote is its chunk's text at its offsets (`texts`: chunk id -> chunk text)."""
    return bool(spans) and all(
        s.get("chunk") in texts and texts[s["chunk"]][s["start"]:s["end"]] == s["quote"] for s in spans)
