"""The checks every preference pair passes: a reason string for the first one that fails, None when all pass.

Order matters only for which reason a bad pair is counted under: furniture and emptiness are properties of one
side, an identical pair has ratio 1 (so `identical` comes before the band), and language ID, the slowest,
comes last. A reply the server cut off (finish_reason `length`) never reaches these: the engine reports it
and the step counts it as `truncated`.
"""
from __future__ import annotations

import importlib.util

from wiki_qa import langid
from wiki_qa.quality.text import normalize

# langid's models come with the `translate` extra (heliport needs Python >= 3.11); without them the check is
# skipped and the report and the card say so.
LANGID_PACKAGES = ("heliport", "gcld3", "langcodes")

LANG_ALIASES = {"simple": "en"}   # simplewiki rows are English
UNKNOWN_LANGS = {"", "und", "mul", "zxx"}


def n_words(text: str) -> int:
    return len(text.split())


def language_check_available() -> bool:
    return all(importlib.util.find_spec(p) is not None for p in LANGID_PACKAGES)


def in_language(text: str, lang: str | None, checks) -> bool:
    """False only when language ID is confident (score >= min_lang_score) that `text` is in another language
    than `lang`: a short or mixed text that it cannot place is not dropped for it. True when it cannot be told
    (unknown language, too few words, no language ID installed)."""
    code = LANG_ALIASES.get(lang or "", lang or "")
    if not checks.language or code in UNKNOWN_LANGS or n_words(text) < checks.lang_min_words \
            or not language_check_available():
        return True
    found = langid.detect(text)
    return found.lang in (langid.normalize(code), langid.UNDETERMINED) or found.score < checks.min_lang_score


def _bare(text: str | None, checks) -> str | None:
    if not text or not text.strip():
        return "empty"
    low = text.lower()
    if any(f.lower() in low for f in checks.furniture):
        return "furniture"
    return None


def check_side(text: str | None, lang: str | None, checks) -> str | None:
    """One reply on its own: sample_and_judge's candidates, and each side of a pair."""
    return _bare(text, checks) or (None if in_language(text, lang, checks) else "language")


def check_pair(chosen: str, rejected: str | None, lang: str | None, checks) -> str | None:
    reason = _bare(chosen, checks) or _bare(rejected, checks)
    if reason:
        return reason
    if normalize(chosen) == normalize(rejected):
        return "identical"
    if checks.one_paragraph and _paragraphs(rejected) > _paragraphs(chosen):
        return "paragraphs"
    ratio = n_words(rejected) / max(1, n_words(chosen))
    if not checks.min_word_ratio <= ratio <= checks.max_word_ratio:
        return "length_ratio"
    if not (in_language(chosen, lang, checks) and in_language(rejected, lang, checks)):
        return "language"
    return None


def _paragraphs(text: str) -> int:
    return sum(1 for p in text.strip().split("\n\n") if p.strip())
