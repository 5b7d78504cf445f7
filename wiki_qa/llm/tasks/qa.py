"""qa: N question/answer pairs per chunk, answers grounded in the chunk, each with its evidence span."""
from __future__ import annotations

from typing import Literal

from wiki_qa.llm import parsing as P
from wiki_qa.llm.tasks import evidence, focus
from wiki_qa.llm.tasks.base import fill, items_schema, register
from wiki_qa.llm.tasks.question import AnswerFocus, QuestionConfig, QuestionTask

# The patterns rule out placeholder answers ("...", "[answer]", "<answer>") at the grammar level on servers
# that constrain decoding (llama.cpp, vLLM), which small base models otherwise copy from the prompt.
ITEM = {"type": "object", "properties": {
    "question": {"type": "string", "minLength": 8, "maxLength": 300, "pattern": "^[^.\\[<\\s][^\\n]*\\?$"},
    "answer": {"type": "string", "minLength": 1, "maxLength": 600, "pattern": "^[^.\\[<\\s][^\\n]*$"}},
    "required": ["question", "answer"], "additionalProperties": False}
# focus: sentence: no quote (the planned sentence is the evidence) and no patterns: llama.cpp's schema
# converter turns a pattern with anchors into a grammar whose output its chat parser then rejects.
FOCUS_ITEM = {"type": "object", "properties": {
    "question": {"type": "string", "minLength": 8, "maxLength": 300},
    "answer": {"type": "string", "minLength": 1, "maxLength": 600}},
    "required": ["question", "answer"], "additionalProperties": False}
# focus: answer: the answer is planned; the model writes only the question.
ANSWER_ITEM = {"type": "object", "properties": {"question": {"type": "string", "minLength": 8, "maxLength": 300}},
               "required": ["question"], "additionalProperties": False}


@register
class QA(AnswerFocus, QuestionTask):
    name = "qa"
    VERSION = 4
    TEMPLATE = "qa"

    class Config(QuestionConfig):
        task: Literal["qa"] = "qa"
        # passage: the model reads the chunk, writes n items and quotes its evidence. sentence: the plan
        # picks one sentence of the chunk per item and the model writes a question it answers (focus.py):
        # for very small models. answer: the plan picks an answer span per item (answers.py) and the model
        # writes a question it answers; the evidence is the span's sentence (a chunk without a candidate
        # span is not sent).
        focus: Literal["passage", "sentence", "answer"] = "passage"

    def focus_spans(self, row) -> list[tuple[int, int]]:
        n = self.cfg.n or 1
        return focus.pick(focus.sentences(row["text"]), n, row["id"], self.cfg.seed)

    def asks(self, row) -> bool:
        """focus: answer asks only about chunks with an answer span (numbers, names, terms)."""
        return self.cfg.focus != "answer" or bool(self.answer_plan(row))

    def n_items(self, row) -> int:
        if self.cfg.focus == "answer":
            return len(self.answer_plan(row))
        if self.cfg.focus == "sentence":
            return max(1, len(self.focus_spans(row)))
        return super().n_items(row)

    def prompt(self, row) -> list[dict]:
        if self.cfg.focus == "answer":
            return self.answer_prompt(row, "qa_answer")
        if self.cfg.focus != "sentence":
            return super().prompt(row)
        plan, text = self.item_plan(row), row["text"]
        spans = self.focus_spans(row) or [(0, len(text))]
        lines = "\n".join(f'{k}. {focus.lead(plan[k - 1] if plan else {})}: "{text[a:b]}"'
                          for k, (a, b) in enumerate(spans, 1))
        instruction = self.instruction(row)
        return self.messages(fill(self.template("qa_sentence"), title=row["title"],
                                  sentences=lines, language=self.language(row),
                                  instruction=f"{instruction}\n" if instruction else ""))

    def schema(self, row) -> dict:
        if self.cfg.focus == "answer":
            return items_schema(ANSWER_ITEM, self.n_items(row), exactly=True)
        if self.cfg.focus == "sentence":
            return items_schema(FOCUS_ITEM, self.n_items(row))
        return items_schema(self.with_quote(ITEM), self.n_items(row))

    def spans(self, row, it: dict, k: int = 0):
        if self.cfg.focus != "sentence" or not self.cfg.validate_.evidence:
            return super().spans(row, it)
        planned = self.focus_spans(row)
        if k >= len(planned):
            return ("ungrounded" if self.cfg.validate_.require_evidence else None), []
        return None, [evidence.span(row["text"], *planned[k], chunk=row["id"])]

    def grounding_text(self, row) -> str:
        return row["text"]

    def parse(self, row, response):
        v, plan = self.cfg.validate_, self.item_plan(row)
        if self.cfg.focus == "answer":
            return self.parse_answers(row, response, plan)
        sentence = self.cfg.focus == "sentence"

        def check(it, k):
            q, a = P.as_str(it.get("question")), P.as_str(it.get("answer"))
            reason = P.check_text(q, "question", v.min_chars, v.max_question_chars) or \
                P.check_text(a, "answer", 1, v.max_answer_chars) or \
                self.question_problem(q, "qa_sentence" if sentence else self.TEMPLATE)
            if not reason and v.grounding_threshold and \
                    P.grounding(a, self.grounding_text(row)) < v.grounding_threshold:
                reason = "ungrounded_answer"
            spans = []
            if not reason:
                reason, spans = self.spans(row, it, k)
            reason = reason or self.evidence_problem(a, spans)
            return reason, q, None if reason else self.example(row, k, q, q, a, spans, plan)

        return self.parse_items(response, check)

    def estimate(self, row) -> tuple[int, int]:
        if self.cfg.focus == "answer":
            return self.n_items(row), 30   # {"question": "..."}: the answer is planned
        return super().estimate(row)

    def parse_answers(self, row, response, plan):
        """focus: answer: the k-th item is the question for the k-th planned span; the answer is the span
        and the evidence its sentence, both the chunk's own text."""
        planned, text = self.answer_plan(row), row["text"]

        def check(it, k):
            if k >= len(planned):
                return "unplanned_item", P.as_str(it.get("question")), None
            reason, q, source = self.answer_question(row, it, planned[k], "qa_answer")
            if reason:
                return reason, q, None
            span = planned[k]
            answer = text[slice(*span["answer"])]
            return None, q, self.answer_example(row, k, q, q, answer, span, source, plan)

        return self.parse_items(response, check)
