"""`corrupt`: rejected sides made without an LLM, each built so that length is not the tell.

- `swap`: the answer with one number or name replaced by another of the same kind from the same passage
  (a year by a year where there is one): fluent, the same length, and wrong.
- `vague`: hedging sentences about the topic, as many words as the answer (within the length band).
- `truncate`: the answer cut off mid-sentence, keeping as many words as the band's lower end allows (85% by
  default), so a model cannot learn "short is bad" from it.

Names are found by capitalization (a run of capitalized words not at the start of a sentence): a heuristic
that works for the Latin-script languages of the seed wikis and needs no model download; scripts without
case (Amharic, Arabic) only get number swaps.
"""
from __future__ import annotations

import hashlib
import math
import random

import regex

from wiki_qa.preference.checks import check_pair, n_words

_NUMBER = regex.compile(r"(?<![\p{L}\p{N}])\p{N}+(?:[.,]\p{N}+)*(?![\p{L}\p{N}])")
_NAME = regex.compile(r"\p{Lu}[\p{L}\p{M}'’-]*(?:[ ]+\p{Lu}[\p{L}\p{M}'’-]*)*")
_SENTENCE_START = regex.compile(r"(?:^|[.!?:;]\s+|\n\s*)$")

# Generic sentences for `vague`; {topic} is the page title when the prompt names it.
HEDGES = (
    "It depends on how you look at it.",
    "There are several ways to see this, and each of them has its own points.",
    "Some sources say one thing and others say something else.",
    "The details vary from one case to another.",
    "People have discussed this for a long time without agreeing.",
    "Much depends on the context and on the circumstances.",
    "In general terms, it has to do with {topic}.",
    "Opinions differ, and there is no simple answer.",
    "It can be described in more than one way.",
    "This is connected with {topic} in various ways.",
    "Some of it is well known, and some of it is less clear.",
    "It is hard to say in a few words.",
    "It depends.",
    "That varies.",
    "Hard to say.",
    "Not everyone agrees.",
)


def _pick(options: list, *key) -> object:
    d = hashlib.sha256("\x1f".join(map(str, key)).encode()).digest()
    return options[int.from_bytes(d[:8], "big") % len(options)]


def names(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of capitalized runs that do not begin a sentence (a possessive 's left out)."""
    out = []
    for m in _NAME.finditer(text):
        if _SENTENCE_START.search(text[: m.start()]):
            continue
        name = regex.sub(r"['’]s$", "", m.group())
        out.append((m.start(), m.start() + len(name), name))
    return out


def swap(answer: str, passage: str, key: str) -> str | None:
    """The answer with one number, else one name, replaced by a different one from the passage."""
    for found, pool in ((_numbers(answer), _numbers(passage)), (names(answer), names(passage))):
        if not found:
            continue
        start, end, old = _pick(found, key, "which")
        others = sorted({t for _, _, t in pool if t.casefold() not in answer.casefold()})
        if not others:
            continue
        # the same shape when the passage has one: a four-digit year for a year, a two-word name for one
        alike = [t for t in others if _shape(t) == _shape(old)] or others
        new = _pick(alike, key, "with")
        return answer[:start] + new + answer[end:]
    return None


def _numbers(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _NUMBER.finditer(text)]


def _shape(token: str) -> tuple:
    return (len(token.split()), sum(c.isdigit() for c in token))


def vague(answer: str, topic: str, key: str, checks) -> str | None:
    """Hedges in a seeded order, added while they fit, until the answer's length is matched."""
    target = n_words(answer)
    pool = [h.replace("{topic}", topic) for h in HEDGES]
    random.Random(f"vague|{key}").shuffle(pool)
    pool *= max(1, math.ceil(target / 60))  # long answers take the pool more than once
    out, n = [], 0
    while n < target * checks.min_word_ratio and pool:
        fits = [s for s in pool if n + n_words(s) <= target * 1.25]
        sentence = fits[0] if fits else min(pool, key=n_words)
        pool.remove(sentence)
        out.append(sentence)
        n += n_words(sentence)
    ratio = n / max(1, target)
    return " ".join(out) if checks.min_word_ratio <= ratio <= checks.max_word_ratio else None


def truncate(answer: str, checks) -> str | None:
    """The answer cut mid-sentence at the shortest length the band allows (None for answers too short)."""
    tokens = answer.split()
    keep = math.ceil(len(tokens) * checks.min_word_ratio - 1e-9)
    if keep >= len(tokens) or keep < 2:
        return None
    return " ".join(tokens[:keep]).rstrip(".,;:!?…")


def corrupt(answer: str, passage: str, topic: str, lang: str | None, key: str, modes: list[str],
            checks) -> tuple[str | None, str]:
    """(rejected, mode) for the first mode, from a seeded start, whose text passes the pair checks; else
    (None, reason): the last check that failed, or `not_corruptible` when no mode applied."""
    start = modes.index(_pick(modes, key, "mode"))
    reason = "not_corruptible"
    for mode in modes[start:] + modes[:start]:
        text = {"swap": lambda: swap(answer, passage, key), "vague": lambda: vague(answer, topic, key, checks),
                "truncate": lambda: truncate(answer, checks)}[mode]()
        if text is None:
            continue
        failed = check_pair(answer, text, lang, checks)
        if failed is None:
            return text, mode
        reason = failed
    return None, reason
