"""mcq: K four-option questions per chunk; completion is the letter or the answer text."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from wiki_qa.llm import parsing as P
from wiki_qa.llm.tasks import answers, mix
from wiki_qa.llm.tasks.base import items_schema, register
from wiki_qa.llm.tasks.question import AnswerFocus, QuestionConfig, QuestionTask
from wiki_qa.llm.tasks.roundtrip import f1

LETTERS = "ABCD"
ITEM = {"type": "object", "properties": {
    "question": {"type": "string"},
    "options": {"type": "array", "items": {"type": "string"}, "minItems": 4, "maxItems": 4},
    "answer": {"type": "string", "enum": list(LETTERS)}}, "required": ["question", "options", "answer"],
    "additionalProperties": False}
# focus: answer: the answer is planned; the model writes the question and three wrong options.
ANSWER_ITEM = {"type": "object", "properties": {
    "question": {"type": "string", "minLength": 8, "maxLength": 300},
    "distractors": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 100},
                    "minItems": 3, "maxItems": 3}},
    "required": ["question", "distractors"], "additionalProperties": False}


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
class MCQ(AnswerFocus, QuestionTask):
    name = "mcq"
    VERSION = 3
    TEMPLATE = "mcq"
    FIELDS = ' Each item also has a "quote": words copied exactly from the passage that support the correct option.'

    class Config(QuestionConfig):
        task: Literal["mcq"] = "mcq"
        n: int | None = Field(None, ge=1)  # default 3
        mcq_answer: Literal["letter", "text"] = "letter"
        # passage: the model writes whole items from the chunk. answer: the plan picks each item's answer
        # span (answers.py); the model writes the question and three distractors (wrong ones are replaced
        # by other spans of the same kind from the chunk); the evidence is the span's sentence.
        focus: Literal["passage", "answer"] = "passage"

    def n_items(self, row) -> int:
        if self.cfg.focus == "answer":
            return len(self.answer_plan(row))
        return self.cfg.n or 3

    def answer_plan(self, row) -> list[dict]:
        return answers.plan(row["text"], row["title"], self.cfg.n or 3, row["id"], self.cfg.seed)

    def asks(self, row) -> bool:
        return self.cfg.focus != "answer" or bool(self.answer_plan(row))

    def prompt(self, row) -> list[dict]:
        if self.cfg.focus == "answer":
            return self.answer_prompt(row, "mcq_answer")
        return super().prompt(row)

    def schema(self, row) -> dict:
        if self.cfg.focus == "answer":
            return items_schema(ANSWER_ITEM, self.n_items(row), exactly=True)
        return items_schema(self.with_quote(ITEM), self.n_items(row))

    def distractors(self, row, it: dict, span: dict, question: str) -> list[str]:
        """Three wrong options of the answer's kind (numbers for a number, names for a name): the model's that
        pass, then other spans of that kind from the chunk; none when fewer than three are left."""
        text, answer = row["text"], row["text"][slice(*span["answer"])]
        mine = [P.as_str(d) for d in it.get("distractors") or []] if isinstance(it.get("distractors"), list) else []
        chunk = [text[slice(*c["answer"])] for c in answers.candidates(text, row["title"])
                 if c["kind"] == span["kind"] and c["answer"] != span["answer"]]
        # an option the question or the answer's sentence already names may be right too ("in what and Togo?")
        near = text[slice(*span["sentence"])] + " " + question
        out: list[str] = []
        for o in [*mine, *chunk]:
            if len(out) < 3 and o and f1(o, answer) < 0.5 and answers.same_kind(o, span["kind"]) and \
                    not answers.gives_away(near, o) and o.casefold() not in {x.casefold() for x in [*out, answer]}:
                out.append(o)
        return out if len(out) == 3 else []

    def parse_answers(self, row, response):
        planned, text, plan = self.answer_plan(row), row["text"], self.item_plan(row)

        def check(it, k):
            q = P.as_str(it.get("question"))
            if k >= len(planned):
                return "unplanned_item", q, None
            span = planned[k]
            reason, q, source = self.answer_question(row, it, span, "mcq_answer")
            wrong = [] if reason else self.distractors(row, it, span, q)
            if not reason and not wrong:
                reason = "no_distractors"
            if reason:
                return reason, q, None
            answer = text[slice(*span["answer"])]
            at = int(mix._unit(self.cfg.seed, "mcq", row["id"], k) * 4)   # the correct option's place
            opts = wrong[:at] + [answer] + wrong[at:]
            body = q + "\n" + "\n".join(f"{L}. {o}" for L, o in zip(LETTERS, opts)) + "\nAnswer:"
            ex = self.answer_example(row, k, body, q, LETTERS[at] if self.cfg.mcq_answer == "letter" else answer,
                                     span, source, plan)
            return None, q, ex

        return self.parse_items(response, check)

    def parse(self, row, response):
        if self.cfg.focus == "answer":
            return self.parse_answers(row, response)
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
            reason = reason or self.evidence_problem(opts[LETTERS.index(letter)], spans)
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
