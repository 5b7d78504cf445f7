"""qa: N question/answer pairs per chunk, answers grounded in the chunk, each with its evidence span."""
from __future__ import annotations

from typing import Literal

from wiki_qa.llm import parsing as P
from wiki_qa.llm.tasks.base import items_schema, register
from wiki_qa.llm.tasks.question import QuestionConfig, QuestionTask

# The patterns rule out placeholder answers ("...", "[answer]", "<answer>") at the grammar level on servers
# that constrain decoding (llama.cpp, vLLM), which small base models otherwise copy from the prompt.
ITEM = {"type": "object", "properties": {
    "question": {"type": "string", "minLength": 8, "maxLength": 300, "pattern": "^[^.\\[<\\s][^\\n]*\\?$"},
    "answer": {"type": "string", "minLength": 1, "maxLength": 600, "pattern": "^[^.\\[<\\s][^\\n]*$"}},
    "required": ["question", "answer"], "additionalProperties": False}


@register
class QA(QuestionTask):
    name = "qa"
    VERSION = 3
    TEMPLATE = "qa"

    class Config(QuestionConfig):
        task: Literal["qa"] = "qa"

    def schema(self, row) -> dict:
        return items_schema(self.with_quote(ITEM), self.n_items(row))

    def grounding_text(self, row) -> str:
        return row["text"]

    def parse(self, row, response):
        v, plan = self.cfg.validate_, self.item_plan(row)

        def check(it, k):
            q, a = P.as_str(it.get("question")), P.as_str(it.get("answer"))
            reason = P.check_text(q, "question", v.min_chars, v.max_question_chars) or \
                P.check_text(a, "answer", 1, v.max_answer_chars)
            if not reason and v.grounding_threshold and \
                    P.grounding(a, self.grounding_text(row)) < v.grounding_threshold:
                reason = "ungrounded_answer"
            spans = []
            if not reason:
                reason, spans = self.spans(row, it)
            return reason, q, None if reason else self.example(row, k, q, q, a, spans, plan)

        return self.parse_items(response, check)
