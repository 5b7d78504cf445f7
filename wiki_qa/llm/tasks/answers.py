"""Answer focus (`generate.focus: answer`): the planner picks the answer first, a span of the passage, and
the model writes only a question whose answer is that span (answer-aware question generation, the SQuAD
question-generation line of work). The answer is then right by construction, and its evidence is the
sentence it was taken from.

Candidate spans, found without a model, so they work the same in any language written with digits or
capital letters:
- numbers, years and quantities ("1991", "88 Earth days", "40%");
- names: runs of capitalised words, with the short joiners of place names inside ("Gulf of Guinea");
  a capitalised word that opens a sentence counts only when the chunk also capitalises it elsewhere, so
  "The" or "Farming" at a sentence start is not a name;
- short phrases a sentence introduces as a term: "called chlorophyll", "known as the Harmattan".

Spans the question would give away are left out: a span that shares a word with the page title (the
question must name its subject, so it would name the answer), a span that occurs twice in its sentence
(which one?), and a span that is most of its sentence (nothing left to ask about).

Also left out: a name used as an adjective ("the Portuguese word"), one of a list of three or more
("Chad, Cameroon, Niger and Nigeria": no single answer), half of a compound ("Niger–Congo"), a possessive.

The pick is deterministic: items go to different sentences spread over the chunk from a seeded offset
(focus.pick), and within a sentence numbers come first, then multi-word names, then single names, then
terms, ties broken by a seeded hash. A chunk with no candidate at all has an empty plan (the task does not
send it).

`draft` asks the sentence back about its answer ("Lagos is the commercial centre of what?"), in English: the
model may rewrite it, and `faithful` decides whether its rewrite still asks the same thing.
"""
from __future__ import annotations

import unicodedata

import regex

from wiki_qa.llm.tasks import focus, mix

# Words with their combining marks (Yoruba "Bẹ̀nẹ̀" is one word); `regex` knows \p{M}, `re` does not.
_WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{M}\p{N}'’\-]*")
# A number with up to two unit words, a decade, a percentage; digits of any script.
_NUMBER = regex.compile(r"(?<![\w.])\p{N}+(?:[.,]\p{N}+)*s?(?:\s?%| per ?cent)?"
                        r"(?:\s+(?!\p{Lu})\p{L}[\p{L}\p{M}]+){0,2}(?!\w)")
_YEAR = regex.compile(r"^(1[0-9]{3}|20[0-9]{2})s?$")
# Words that end a number's unit: "in 1914 the city" -> "1914", "88 days" stays whole.
_STOP_AFTER_NUMBER = {"the", "a", "an", "and", "or", "but", "to", "in", "on", "at", "of", "for", "with", "by",
                      "from", "as", "it", "its", "is", "was", "were", "are", "which", "that", "when", "than"}
# Lowercase words allowed inside a name: "Gulf of Guinea", "Leonardo da Vinci".
_JOINERS = {"of", "de", "del", "della", "da", "do", "du", "la", "le", "van", "von", "bin", "al", "y"}
# "called X", "known as X": a term the sentence introduces (English; elsewhere it finds nothing).
_TERM = regex.compile(r"\b(?:called|named|known as|termed)\s+((?:the\s+)?\p{Ll}[\p{L}\p{M}\-]*"
                      r"(?:\s+\p{Ll}[\p{L}\p{M}\-]*){0,2})", regex.I)
_DETERMINER = regex.compile(r"(?:\bthe|\ba|\ban)\s+$", regex.I)
MAX_WORDS = 6        # longer spans are not short answers
MAX_SHARE = 0.5      # of the sentence's words: more leaves nothing to ask about
PRIORITY = {"number": 0, "name": 1, "term": 2}


def _fold(w: str) -> str:
    """Casefolded without accents: "Yorùbá" and "Yoruba" are the same word for the title check."""
    return "".join(c for c in unicodedata.normalize("NFKD", w.casefold()) if not unicodedata.combining(c))


def _words(s: str) -> list[str]:
    return [_fold(w) for w in _WORD.findall(s)]


def _numbers(text: str, a: int, b: int, names_ok: set[str]) -> list[tuple[int, int, str]]:
    out = []
    for m in _NUMBER.finditer(text, a, b):
        prev = regex.search(r"(\p{L}+)\s$", text[max(a, m.start() - 30):m.start()])
        if prev and prev.group(1) in names_ok:  # "Mariner 10", "Apollo 11": part of a name
            continue
        toks = list(regex.finditer(r"\S+", m.group()))
        end = toks[0].end()
        if not _YEAR.match(toks[0].group()):  # a year is an answer by itself
            for t in toks[1:]:
                if t.group().casefold() in _STOP_AFTER_NUMBER:
                    break
                end = t.end()
        out.append((m.start(), m.start() + end, "number"))
    return out


def _line_or_sentence_start(text: str, i: int) -> bool:
    before = text[:i]
    stripped = before.rstrip()
    return not stripped or "\n" in before[len(stripped):] or stripped[-1] in ".!?\"(\u201c"


def _names_elsewhere(text: str) -> set[str]:
    """Words the chunk capitalises somewhere other than at a sentence or line start: names, not openers."""
    return {m.group() for m in _WORD.finditer(text)
            if m.group()[:1].isupper() and not _line_or_sentence_start(text, m.start())}


def _is_cap(w: str) -> bool:
    return w[:1].isupper()


def _names(text: str, a: int, b: int, names_ok: set[str]) -> list[tuple[int, int, str]]:
    toks = list(_WORD.finditer(text, a, b))
    out, i = [], 0
    while i < len(toks):
        if not _is_cap(toks[i].group()):
            i += 1
            continue
        j = i
        while j + 1 < len(toks) and not text[toks[j].end():toks[j + 1].start()].strip():  # punctuation ends it
            nxt = toks[j + 1].group()
            if _is_cap(nxt):
                j += 1
            elif nxt in _JOINERS and j + 2 < len(toks) and _is_cap(toks[j + 2].group()) \
                    and not text[toks[j + 1].end():toks[j + 2].start()].strip():
                j += 2
            else:
                break
        first = i
        if toks[i].start() == a:  # a sentence opener is a name only if the chunk capitalises it elsewhere
            while first <= j and toks[first].group() not in names_ok:
                first += 1
            # "The Kainji Dam" -> "Kainji Dam"; "Nigerian Pidgin" -> nothing (half a name is no answer)
            if first > i and first <= j and len(toks[first - 1].group()) > 3:
                first = j + 1
        if first <= j and toks[first].group() not in _JOINERS:
            s, e = toks[first].start(), toks[j].end()
            possessive = text[e - 2:e] in ("'s", "’s")
            # "Niger–Congo", "Yoruba-speaking": half of a compound is no answer
            compound = (s > 0 and text[s - 1] in "-–—") or text[e:e + 1] in ("-", "–", "—")
            if not possessive and not compound and not _in_list(text, a, b, s, e) and not _modifier(text, s, e):
                out.append((s, e, "name"))
        i = j + 1
    return out


_DEMONYM = regex.compile(r"(?:an|ese|ic|ish|ian|i)$")


def _modifier(text: str, s: int, e: int) -> bool:
    """A name used as an adjective: "the Portuguese word", "a Chadic language", "uses Arabic letters"."""
    nxt = regex.match(r"\s+(\p{Ll}+)", text[e:e + 40])
    if not nxt or nxt.group(1) in _STOP_AFTER_NUMBER or nxt.group(1) in _JOINERS:
        return False
    single = " " not in text[s:e]
    return bool(_DETERMINER.search(text[max(0, s - 5):s])) or (single and bool(_DEMONYM.search(text[s:e])))


_LIST_ITEM = r"\p{Lu}[\p{L}\p{M}'’\-]*(?:\s+\p{Lu}[\p{L}\p{M}'’\-]*)*"
_LIST = regex.compile(rf"{_LIST_ITEM}(?:\s*,\s*{_LIST_ITEM})+,?\s+(?:and|or)\s+{_LIST_ITEM}")


def _in_list(text: str, a: int, b: int, s: int, e: int) -> bool:
    """A name among three or more ("Chad, Cameroon, Niger and Nigeria"): one of them is no single answer."""
    return any(m.start() <= s and e <= m.end() for m in _LIST.finditer(text, a, b))


def _terms(text: str, a: int, b: int) -> list[tuple[int, int, str]]:
    return [(m.start(1), m.end(1), "term") for m in _TERM.finditer(text, a, b)]


def candidates(text: str, title: str = "") -> list[dict]:
    """Every answer span the planner would consider, in reading order: {"sentence": (a, b),
    "answer": (a, b), "kind"}."""
    names_ok = _names_elsewhere(text) | set(_WORD.findall(title))
    title_words = set(_words(title))
    out = []
    for a, b in focus.sentences(text):
        sentence = text[a:b]
        n_words = len(_words(sentence))
        seen = set()
        for s, e, kind in sorted(_numbers(text, a, b, names_ok) + _names(text, a, b, names_ok) + _terms(text, a, b)):
            span = text[s:e]
            w = _words(span)
            key = " ".join(w)
            if not w or key in seen or len(w) > MAX_WORDS or len(w) > MAX_SHARE * n_words:
                continue
            if title_words & set(w):  # the question names the page: it would name the answer too
                continue
            if sentence.casefold().count(span.casefold()) > 1:  # which of the two?
                continue
            seen.add(key)
            out.append({"sentence": (a, b), "answer": (s, e), "kind": kind})
    return out


def plan(text: str, title: str, n: int, key: str, seed: int = 0) -> list[dict]:
    """Up to n answer spans in different sentences spread over the chunk, in reading order."""
    by_sentence: dict[tuple[int, int], list[dict]] = {}
    for c in candidates(text, title):
        by_sentence.setdefault(c["sentence"], []).append(c)
    if not by_sentence or n <= 0:
        return []
    return [min(by_sentence[s], key=lambda c: _rank(c, text, key, seed))
            for s in focus.pick(list(by_sentence), n, key, seed)]


def _rank(c: dict, text: str, key: str, seed: int) -> tuple:
    """Numbers first, then names (longer first), then terms; ties by a seeded hash."""
    longer = -len(_words(text[slice(*c["answer"])])) if c["kind"] == "name" else 0
    return PRIORITY[c["kind"]], longer, mix._unit(seed, "answer", key, *c["answer"])


# -- the draft question: the sentence asked back, with its answer replaced by a question phrase ------------
# English only (the wh-words): elsewhere the draft is None and the model writes the question alone.
_TERM_CUE = regex.compile(r"\b(?:called|named|known as)\s+$")
_CLAUSE = regex.compile(r",\s+(?:and|but|while|whereas|so|which|where)\s+|;\s+|,\s+(?=\p{Ll}+ing\b)")
_MONTH = regex.compile(r"\b(?:January|February|March|April|May|June|July|August|September|October|November|"
                       r"December)\s+$")
_PRONOUN = regex.compile(r"^(?:it|they|he|she)\b", regex.I)
_POSSESSIVE = regex.compile(r"^(?:its|their|his|her)\b", regex.I)


# A name that says what it is names its own question phrase: "Gulf of Guinea" -> "which gulf".
TYPE_NOUNS = {"gulf", "ocean", "sea", "river", "lake", "mount", "mountain", "desert", "dam", "valley", "delta",
              "island", "islands", "bay", "highlands", "university", "church", "kingdom", "empire", "state",
              "province", "region", "city", "county", "district", "park", "bridge", "castle", "museum"}


def subject(title: str) -> str:
    """The page's name as a question says it: "Mercury (planet)" -> "Mercury"."""
    return regex.sub(r"\s*\([^)]*\)\s*$", "", title).strip() or title


# What the chunk itself says a name is: "the town of Lokoja", "cities such as Timbuktu", "a Latin alphabet
# known as Boko", "Aso Rock, a large granite hill", "Nigeria is a country". English; elsewhere none.
_NOUN = r"(\p{Ll}{3,})"
_ADJS = r"(?:[\p{Ll}\-]+\s+){0,3}?"
_ENDS = r"(?=[,.;:]|\s+(?:on|in|of|that|which|with|near|at|from|and|where|spoken|used|made)\b)"
_PLACES = "town|city|village|island|state|province|region|kingdom|empire|country|river|lake|district|county"
_CUE_OF = regex.compile(rf"\bthe\s+({_PLACES})\s+of\s+$")
_CUES_BEFORE = [_CUE_OF,
                regex.compile(rf"\b{_NOUN}\s+(?:such as|like|including)\s+(?:\S+,\s+)*$"),
                regex.compile(rf"\b(?:a|an|the)\s+{_ADJS}{_NOUN}\s+(?:called|named|known as)\s+$")]
_CUES_AFTER = [regex.compile(rf"^,\s+(?:a|an|the)\s+{_ADJS}{_NOUN}{_ENDS}"),
               regex.compile(rf"^\s+(?:is|was)\s+(?:a|an|the)\s+{_ADJS}{_NOUN}{_ENDS}")]
_NOT_TYPES = {"one", "part", "kind", "type", "sort", "lot", "number", "way", "place", "name", "home", "area",
              "first", "second", "third", "main", "most", "largest", "same", "other", "capital", "centre", "center",
              "middle", "edge", "side", "end", "coast", "north", "south", "east", "west", "member", "result"}


def _singular(w: str) -> str:
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    return w[:-1] if w.endswith("s") and not w.endswith("ss") else w


def type_in_text(text: str, s: int, e: int) -> str | None:
    """The kind of thing the name at text[s:e] is, when the chunk says it next to the name."""
    for pat in _CUES_BEFORE:
        m = pat.search(text[max(0, s - 80):s])
        if m:
            w = _singular(m.group(1))
            if w not in _NOT_TYPES:
                return w
    for pat in _CUES_AFTER:
        m = pat.search(text[e:e + 80])
        if m:
            w = m.group(1)
            if w not in _NOT_TYPES:
                return w
    name = text[s:e]  # "Nigeria is a country" anywhere in the chunk
    m = regex.search(rf"\b{regex.escape(name)}\s+(?:is|was)\s+(?:a|an|the)\s+{_ADJS}{_NOUN}{_ENDS}", text)
    return m.group(1) if m and m.group(1) not in _NOT_TYPES else None


def wh_phrase(answer: str, kind: str, answer_type: str | None = None, follows: str = "") -> str:
    """The question phrase that stands for the answer: "which year", "how many kilometres", "which country"."""
    toks = answer.split()
    if kind == "number":
        if _YEAR.match(toks[0]):
            return "which decade" if toks[0].endswith("s") else "which year"
        if "%" in answer or "cent" in answer:
            return "what percentage"
        if len(toks) > 1 or follows[:1] == " " and follows[1:2].isalpha():  # "88 Earth days"
            return " ".join(["how many", *toks[1:]])
        return "what number"
    head = [w for w in _WORD.findall(answer) if w.casefold() in TYPE_NOUNS]
    t = head[0] if head else " ".join(_WORD.findall(answer_type or "")[:2])
    return f"which {t.lower()}" if t else "what"


def draft(text: str, item: dict, title: str) -> str:
    """The planned item's sentence asked back about its answer, in place: "Lagos is the largest city in
    which country?". A clause after the answer is cut; a pronoun opening the sentence becomes the page's
    name, and a sentence that never names the page gets it in front ("Lagos: ...")."""
    a, b = item["sentence"]
    s, e = item["answer"]
    m = _CLAUSE.search(text, e, b)
    before, after = text[a:s], text[e:m.start() if m else b].rstrip(" .!?")
    before = _DETERMINER.sub("", _MONTH.sub("", before))
    cue = _CUE_OF.search(before)
    if cue:  # "at the town of Lokoja" -> "at which town"
        before = before[:cue.start()]
    name = subject(title)
    if _POSSESSIVE.match(before):
        before = _POSSESSIVE.sub(f"{name}'s", before, count=1)
    elif _PRONOUN.match(before):
        before = _PRONOUN.sub(name, before, count=1)
    if item["kind"] == "term" or _TERM_CUE.search(before):  # "a green pigment called what"
        wh = "what"
    else:
        wh = wh_phrase(text[s:e], item["kind"], type_in_text(text, s, e), text[e:e + 2])
    q = f"{before}{wh}{after}".strip()
    q = q[:1].upper() + q[1:] + "?"
    if not set(_words(name)) <= {w.removesuffix("'s").removesuffix("’s") for w in _words(q)}:
        q = f"{name}: {q}"
    return q


# Words of an English sentence: the draft's question words are English, so it is made only for one.
_ENGLISH = {"the", "is", "are", "was", "were", "of", "and", "in", "to", "with", "by", "for", "on", "from", "that",
            "it", "as", "its", "their", "has", "have"}


def reads_english(sentence: str) -> bool:
    return len(_ENGLISH & set(_words(sentence))) >= 2


def anchors(question: str, answer: str) -> set[str]:
    """The names and numbers a question hangs on (besides its answer): a rewrite must keep them all."""
    skip = set(_words(answer))
    out = set()
    for m in _WORD.finditer(question):
        w = m.group()
        if (w[:1].isupper() and m.start() > 0 and not _line_or_sentence_start(question, m.start())) \
                or any(c.isdigit() for c in w):
            f = _fold(w).removesuffix("'s").removesuffix("’s")
            if f not in skip and f not in _ENGLISH and not question[:m.start()].rstrip().endswith(":"):
                out.add(f)
    return out


def gives_away(question: str, answer: str) -> bool:
    """The question already holds the answer's words (all of them, folded): nothing is left to ask."""
    want = set(_words(answer)) - {"the", "a", "an", "of"}
    have = {w.removesuffix("'s").removesuffix("’s") for w in _words(question)}
    return bool(want) and want <= have


def _stems(s: str, skip: set[str]) -> set[str]:
    return {w[:5] for w in _words(s) if len(w) >= 4 and w not in skip}


def faithful(question: str, draft: str, answer: str) -> bool:
    """A model's question asks what the draft asks: it keeps every name and number the draft hangs on and
    at least half of its content words (5-letter stems: "flows" ~ "flow"). A question that drifts ("What
    is the process of photosynthesis?" for "chlorophyll") fails, and the draft stands in."""
    skip = set(_words(answer)) | {"which", "what", "many", "much"}
    want = _stems(draft, skip)
    kept = len(want & _stems(question, skip)) / len(want) if want else 1.0
    have = anchors(question, answer) | set(_words(question))
    return anchors(draft, answer) <= have and kept >= 0.5


def same_kind(option: str, kind: str) -> bool:
    """An mcq option that could stand for an answer of this kind: a number for a number, a capitalised name
    for a name, a lowercase term for a term (a year among city names gives the answer away)."""
    digits = any(c.isdigit() for c in option)
    if kind == "number":
        return digits
    first = option.strip()[:1]
    return not digits and bool(first) and (first.isupper() if kind == "name" else True)
