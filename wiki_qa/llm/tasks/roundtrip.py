"""The round trip (`generate.validate.roundtrip: true`): a model answers each generated question again from
the passage, by quoting it, and an item is kept only when that answer agrees with the item's own answer
(Alberti et al. 2019, "Synthetic QA Corpora Generation with Roundtrip Consistency").
With `roundtrip_choices: true` the answer must be one of the passage's candidate answer spans (the
planner's numbers, names and terms, answers.py) under the grammar: a choice, for very small models.

Agreement is SQuAD's normalized token F1 (lowercase, no punctuation, no articles), at least
`roundtrip_min_f1`. One request per chunk holds all of that chunk's questions, so the passage is sent once,
as for the judge (judge.ChunkItems: the output is the chunk's example rows again, with
`meta.roundtrip = {answer, f1, model}` and the F1 in `_roundtrip_f1`, -1 when no answer came back).
The answerer sees the question alone, never the item's answer or evidence.
"""
from __future__ import annotations

import collections
import re
import string

import datasets

from wiki_qa.configbase import StrictModel
from wiki_qa.llm import parsing as P
from wiki_qa.llm.tasks import answers
from wiki_qa.llm.tasks.base import fill
from wiki_qa.llm.tasks.judge import ChunkItems, _int
from wiki_qa.llm.tasks.question import turns


class RoundTripConfig(StrictModel):
    """What the answering pass reads (made by the build from `generate.validate`)."""
    min_f1: float = 0.5
    # The answer is one of the passage's candidate answer spans (answers.py), chosen under the grammar,
    # instead of free words: a very small model can choose where it cannot quote.
    choices: bool = False
    prompt_file: str | None = None    # override prompts/roundtrip.txt ({title} {text} {questions})
    system_prompt: str | None = None


F1 = "_roundtrip_f1"
NO_ANSWER = -1.0
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.U)
_PUNCT = str.maketrans("", "", string.punctuation + "“”‘’«»…–—")


def normalize(s: str) -> list[str]:
    """SQuAD's answer normalization: lowercase, punctuation and English articles out, split on spaces."""
    return _ARTICLES.sub(" ", (s or "").lower().translate(_PUNCT)).split()


def f1(prediction: str, truth: str) -> float:
    """Token F1 of two answers after `normalize` (SQuAD's metric)."""
    p, t = normalize(prediction), normalize(truth)
    if not p or not t:
        return float(p == t)
    same = sum((collections.Counter(p) & collections.Counter(t)).values())
    if not same:
        return 0.0
    precision, recall = same / len(p), same / len(t)
    return 2 * precision * recall / (precision + recall)


class RoundTrip(ChunkItems):
    name = "roundtrip"
    VERSION = 1
    META, COLUMN, COLUMN_TYPE = "roundtrip", F1, datasets.Value("float32")

    def questions(self, row) -> list[str]:
        return [r.get("_question") or r.get("prompt") or "" for r in self.rows(row)]

    def prompt(self, row) -> list[dict]:
        listed = "\n".join(f"{i}. {q.strip()}" for i, q in enumerate(self.questions(row), 1))
        msgs = turns(fill(self.template("roundtrip"), title=row["title"], text=row["text"], questions=listed))
        return ([{"role": "system", "content": self.cfg.system_prompt}] if self.cfg.system_prompt else []) + msgs

    def choices(self, row) -> list[str]:
        text = row["text"]
        return sorted({text[slice(*c["answer"])] for c in answers.candidates(text, row["title"])})

    def schema(self, row) -> dict:
        n = len(row["_rows"])
        options = self.choices(row) if self.cfg.choices else []
        answer = {"type": "string", "enum": options} if options else {"type": "string", "minLength": 1,
                                                                       "maxLength": 200}
        item = {"type": "object", "properties": {
            "item": {"type": "integer", "enum": list(range(1, n + 1))}, "answer": answer},
            "required": ["item", "answer"], "additionalProperties": False}
        return {"type": "object", "properties": {"items": {"type": "array", "items": item, "minItems": n,
                "maxItems": n}}, "required": ["items"], "additionalProperties": False}

    def parse(self, row, response):
        """{k, answer, f1} per answered item; ParseError (a re-ask) when no item got an answer."""
        rows = self.rows(row)
        got: dict[int, dict] = {}
        for pos, it in enumerate(P.items_of(P.parse_json(response))):
            if not isinstance(it, dict):
                continue
            k = _int(it.get("item"))
            k = (k - 1) if k is not None else pos
            answer = P.as_str(it.get("answer"))[:200]
            if not answer or not 0 <= k < len(rows) or k in got:
                continue
            truth = rows[k].get("_answer") or rows[k].get("completion") or ""
            got[k] = {"k": k, "answer": answer, "f1": round(f1(answer, truth), 3)}
        if not got:
            raise P.ParseError("no question had an answer; answer each question with words from the passage")
        return [got[k] for k in sorted(got)], []

    def verdict(self, e):
        if e is None:
            return {"answer": None, "f1": None}, NO_ANSWER
        return {"answer": e["answer"], "f1": e["f1"]}, e["f1"]

    def estimate(self, row) -> tuple[int, int]:
        return len(row["_rows"]), 20   # {"item": 1, "answer": a few words}
