"""mcq: K four-option questions per chunk; completion is the letter or the answer text."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from wiki_qa.llm import parsing as P
from wiki_qa.llm.tasks.base import items_schema, register
from wiki_qa.llm.tasks.question import QuestionConfig, QuestionTask

LETTERS = "ABCD"
ITEM = {"type": "object", "properties": {
    "question": {"type": "string"},
    "options": {"type": "array", "items": {"type": "string"}, "minItems": 4, "maxItems": 4},
    "answer": {"type": "string", "enum": list(LETTERS)}}, "required": ["question", "options", "answer"],
    "additionalProperties": False}


def _letter(ans, options) -> str | None:
    s = P.as_str(ans).strip().strip("().").upper()
    if len(s) == 1 and s in LETTERS:
        return s
    if s.isdigit() and 0 <= int(s) - 1 < 4:  # 1-based index
        return LETTERS[int(s) - 1]
    for i, o in enumerate(options):  # the option text itself
        if P.as_str(ans).strip().lower() == o.lower():
            return LETTERS[i]
    return None


@register
class MCQ(QuestionTask):
    name = "mcq"
    VERSION = 2
    TEMPLATE = "mcq"
    FIELDS = ' Each item also has a "quote": words copied exactly from the passage that support the correct option.'

    class Config(QuestionConfig):
        task: Literal["mcq"] = "mcq"
        n: int | None = Field(None, ge=1)  # default 3
        mcq_answer: Literal["letter", "text"] = "letter"

    def n_items(self, row) -> int:
        return self.cfg.n or 3

    def schema(self, row) -> dict:
        return items_schema(self.with_quote(ITEM), self.n_items(row))

    def parse(self, row, response):
        v, plan = self.cfg.validate_, self.item_plan(row)

        def check(it, k):
            q = P.as_str(it.get("question"))
            opts = [P.as_str(o) for o in it.get("options") or []] if isinstance(it.get("options"), list) else []
            reason = P.check_text(q, "question", v.min_chars, v.max_question_chars)
            if not reason and (len(opts) != 4 or len({o.lower() for o in opts}) != 4):
                reason = "options_not_4_distinct"
            if not reason and any(P.check_text(o, "option", 1, v.max_answer_chars) for o in opts):
                reason = "bad_option"
            letter = None if reason else _letter(it.get("answer"), opts)
            if not reason and letter is None:
                reason = "bad_answer_key"
            spans = []
            if not reason:
                reason, spans = self.spans(row, it)
            if reason:
                return reason, q, None
            body = q + "\n" + "\n".join(f"{L}. {o}" for L, o in zip(LETTERS, opts)) + "\nAnswer:"
            ans = letter if self.cfg.mcq_answer == "letter" else opts[LETTERS.index(letter)]
            ex = self.example(row, k, body, q, ans, spans, plan)
            ex["answer"] = opts[LETTERS.index(letter)]  # the round trip compares answer texts, not letters
            return None, q, ex

        return self.parse_items(response, check)

    def estimate(self, row) -> tuple[int, int]:
        n, per = super().estimate(row)
        return n, per + 30
