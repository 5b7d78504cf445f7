"""Language identification for the languages wiki_qa's users work in: one home for the whole project.

    detect("Ọmọ náà ń lọ sí ilé ìwé")   -> Detection(lang="yo", score=0.93)
    detect_many(texts)                   -> [Detection, ...]
    is_lang(text, "pcm")                 -> bool

Codes are ISO 639-1 where the language has one (`yo`, `ha`, `ig`, `en`, `fr`), else ISO 639-3 (`pcm`, `knc`);
`und` when the text has too few letters to tell.

No single package covers yo, ha, ig, pcm and en (bench/langid.py measures each on BBC World Service news
paragraphs, English BBC and Wikipedia paragraphs, and MAFAND-MT news sentences), so three measured parts
are combined, and each decides only what it was measured best at:
- heliport (HeLI-OTS, 220 languages, models in the wheel): Yoruba, Igbo, English and the rest. It has no
  Hausa model and reads Nigerian Pidgin as English.
- CLD3 (cld3-py): Hausa, where heliport answers Kanuri or "undetermined". CLD3 alone reads diacritic
  Yoruba as Vietnamese, so it decides nothing else.
- A Pidgin rule, for text either model reads as English (or heliport is unsure of, and which has no
  Yoruba/Igbo dot below): Nigerian Pidgin's function words and spellings (di, dey, wey, don, dem, wetin,
  pipo, ...; `am` as an object, `no` before a verb) against the English grammar words Pidgin does without
  (the, is, was, has, which, ...). The word lists are the language's, not tuned to the test data;
  bench/langid.py reports the rule on BBC Pidgin and, held out, on MAFAND-MT's Pidgin.

Models load once per process on first use (heliport: about 2 s and 0.85 GB of memory); nothing is
downloaded at run time. Only `errors` is imported from wiki_qa (a leaf module).
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from typing import Iterable, NamedTuple

from wiki_qa.errors import UserError

UNDETERMINED = "und"
MIN_LETTERS = 3  # fewer letters than this: und

_URL = re.compile(r"\b(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_LETTER = re.compile(r"[^\W\d_]")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“'‘(\n]\s*)$")
_DOT_BELOW = re.compile("\u0323")  # ẹ ọ ṣ (Yoruba), ị ọ ụ (Igbo), after NFD

# Nigerian Pidgin words English does not use (BBC Pidgin's spelling): function words first, then common
# spellings and vocabulary. English homographs (chop, gist, yarn, ova) are left out on purpose; `den`
# ("and", in the Ghanaian Pidgin BBC Pidgin also prints) stays: English "den" is a rare noun.
PIDGIN_WORDS = frozenset("""
di dey wey na im don dem dis dat wetin una oda afta wit bin wia sef abi neva dia sey tins sometin evri den
pipo tok tori pikin sabi goment govment kontri plenti pesin taim laik wan wahala comot commot katakata
palava oyinbo oyibo ogbonge kasala sotey abeg
""".split())
# Pidgin negates verbs with `no` ("e no get", "dem no follow"); English puts `no` before nouns.
PIDGIN_NO_VERBS = frozenset("get go fit wan dey be know follow gree see give make do take come want like".split())
# English grammar words Pidgin replaces (di, na/dey, bin, don, wey, dis/dat, dem/dia, go).
ENGLISH_WORDS = frozenset("""
the is are was were has have had been its their this that these those which who an would will does did
""".split())


class Detection(NamedTuple):
    lang: str     # ISO 639-1 where there is one, else 639-3; "und" when undetermined
    score: float  # confidence in [0, 1]; compare scores of one language, not across languages


def detect(text: str) -> Detection:
    return detect_many([text])[0]


def detect_many(texts: Iterable[str]) -> list[Detection]:
    return [_detect(t) for t in texts]


def is_lang(text: str, lang: str, min_score: float = 0.0) -> bool:
    """Whether `text` reads as `lang` (a code as `detect` returns them; 3-letter codes are normalized)."""
    d = detect(text)
    return d.lang == normalize(lang) and d.score >= min_score


def normalize(code: str) -> str:
    """`yor` -> `yo`, `hau` -> `ha`, `pcm` -> `pcm`, `en-GB` -> `en`: the codes `detect` returns."""
    code = (code or "").strip().replace("_", "-")
    base = code.split("-")[0].lower()
    if not base:
        return UNDETERMINED
    return _to_639_1(base)


# -- the combination ------------------------------------------------------------------------------------
def _detect(text: str) -> Detection:
    text = unicodedata.normalize("NFC", _URL.sub(" ", text or ""))
    if len(_LETTER.findall(text)) < MIN_LETTERS:
        return Detection(UNDETERMINED, 0.0)
    top = _heliport().identify_topk_with_score(text, 2)
    if not top:
        return Detection(UNDETERMINED, 0.0)
    margin = top[1][1] - top[0][1] if len(top) > 1 else 1.0
    heli = Detection(_to_639_1(top[0][0]), 1.0 - math.exp(-margin))  # HeLI's confidence: the top-2 margin
    cld = _cld3().FindLanguage(text=text)
    cld_lang = normalize(cld.language)
    # Pidgin reads as English to both models, or, when short and full of names, as nothing in particular
    # (a low margin). Hausa is CLD3's to decide, and the dot below of Yoruba and Igbo never spells Pidgin.
    unsure = heli.score < 0.3 and cld_lang != "ha"
    if (heli.lang == "en" or cld_lang == "en" or unsure) and not _DOT_BELOW.search(unicodedata.normalize("NFD", text)):
        p, e = pidgin_evidence(text)
        if p and p >= e:
            return Detection("pcm", 1.0 - 0.5 ** (p - e + 1))
    if cld_lang == "ha":  # heliport has no Hausa model: CLD3 decides Hausa
        return Detection("ha", float(cld.probability))
    return heli


def pidgin_evidence(text: str) -> tuple[int, int]:
    """(Pidgin markers, English grammar words) in text. Capitalized words count only at a sentence start,
    so names (Don, Di Maria) are not markers."""
    p = e = 0
    for m in _WORD.finditer(text):
        w = m.group()
        lw = w.lower()
        if not (w.islower() or (w[:1].isupper() and w[1:].islower() and _SENTENCE_START.search(text[:m.start()]))):
            continue
        if text[m.end():m.end() + 1] == "-" or text[m.start() - 1:m.start()] == "-":
            continue  # "na-akpọ" (an Igbo verb prefix), "Di-Maria": parts of a word, not Pidgin words
        if lw in PIDGIN_WORDS:
            p += 1
        elif lw in ENGLISH_WORDS:
            e += 1
        elif w == "am" and not re.search(r"\bI\s*$", text[:m.start()]):  # "make am", not "I am"
            p += 1
        elif lw == "no":
            nxt = _WORD.match(text, m.end() + 1) if m.end() < len(text) else None
            if nxt and nxt.group() in PIDGIN_NO_VERBS:
                p += 1
    return p, e


# -- models, loaded once per process ---------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _heliport():
    try:
        import heliport
    except ImportError:
        raise UserError("language ID needs heliport and cld3-py: pip install 'wiki_qa[translate]' "
                        "(heliport needs Python 3.11 or newer)") from None
    return heliport.Identifier()


@functools.lru_cache(maxsize=1)
def _cld3():
    try:
        import gcld3  # the cld3-py wheel's module
    except ImportError:
        raise UserError("language ID needs heliport and cld3-py: pip install 'wiki_qa[translate]'") from None
    return gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=4000)


@functools.lru_cache(maxsize=512)
def _to_639_1(code: str) -> str:
    """ISO 639-3 (heliport) or CLD3's codes (`hi-Latn`, `fil`) -> 639-1 where one exists."""
    import langcodes

    try:
        return langcodes.standardize_tag(code.split("-")[0], macro=True)
    except (ValueError, LookupError):
        return code
