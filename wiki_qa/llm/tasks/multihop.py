"""qa_multihop: questions that need two chunks of pages joined by a wikilink, with evidence in both.

Its input rows are chunk pairs made by the build (orchestrator/pairs.py): chunk A's columns, plus B's in
`_b_id`, `_b_title`, `_b_text`, `_b_url`; `id` is "{A id}+{B id}". An item keeps its two quotes only if one
aligns to A's text and the other to B's; meta names the second page (`pair`) so both are credited.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from wiki_qa.llm.tasks.base import register
from wiki_qa.llm.tasks.qa import QA
from wiki_qa.llm.tasks.question import QuestionConfig

PAIR_COLUMNS = ("_b_id", "_b_title", "_b_text", "_b_url")


@register
class QAMultihop(QA):
    name = "qa_multihop"
    VERSION = 1
    TEMPLATE = "qa_multihop"
    QUOTES = ("quote_1", "quote_2")
    FIELDS = (', a "quote_1" (words copied exactly from passage 1) and a "quote_2" (words copied exactly from '
              'passage 2) that together support the answer,')

    class Config(QuestionConfig):
        task: Literal["qa_multihop"] = "qa_multihop"
        n: int | None = Field(None, ge=1)   # default 2 per pair
        max_pairs_per_page: int = Field(2, ge=1)   # pairs sampled (with `seed`) among a page's links
        # qa's sentence focus picks sentences of one chunk; a multi-hop question needs both passages whole
        focus: Literal["passage"] = "passage"

    def n_items(self, row) -> int:
        return self.cfg.n or 2

    @staticmethod
    def a_id(row) -> str:
        return row["id"][: len(row["id"]) - len(row["_b_id"]) - 1]

    def passages(self, row) -> dict:
        return {"title": row["title"], "text": row["text"], "title_2": row["_b_title"], "text_2": row["_b_text"]}

    def texts(self, row) -> list[tuple[str, str]]:
        return [(self.a_id(row), row["text"]), (row["_b_id"], row["_b_text"])]

    def grounding_text(self, row) -> str:
        return f"{row['text']}\n\n{row['_b_text']}"

    def with_context(self, row, prompt: str) -> str:
        return f"{self.grounding_text(row)}\n\n{prompt}" if self.cfg.include_context else prompt

    def example(self, row, k, prompt, question, answer, spans, plan) -> dict:
        ex = super().example(row, k, prompt, question, answer, spans, plan)
        ex["meta"]["pair"] = {"chunk": row["_b_id"], "title": row["_b_title"], "url": row["_b_url"]}
        return ex

    def output_columns(self, column_names: list[str]) -> list[str]:
        return [c for c in super().output_columns(column_names) if c not in PAIR_COLUMNS]
