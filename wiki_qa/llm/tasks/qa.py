"""qa: N question/answer pairs per chunk, answers grounded in the chunk."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from wiki_qa.llm.tasks.base import Task, TaskConfig, default_n, items_schema, register

# The patterns rule out placeholder answers ("...", "[answer]", "<answer>") at the grammar level on servers
# that constrain decoding (llama.cpp, vLLM), which small base models otherwise copy from the prompt.
ITEM = {"type": "object", "properties": {
    "question": {"type": "string", "minLength": 8, "maxLength": 300, "pattern": "^[^.\\[<\\s][^\\n]*\\?$"},
    "answer": {"type": "string", "minLength": 1, "maxLength": 600, "pattern": "^[^.\\[<\\s][^\\n]*$"}},
    "required": ["question", "answer"], "additionalProperties": False}


@register
class QA(Task):
    name = "qa"
    VERSION = 2

    class Config(TaskConfig):
        task: Literal["qa"] = "qa"
        n: int | None = Field(None, ge=1)  # default min(10, ceil(chars/500))

    def n_items(self, row) -> int:
        return self.cfg.n or default_n(row)

    def prompt(self, row) -> list[dict]:
        return self.passage_prompt(self.template("qa"), row, self.n_items(row))

    def schema(self, row) -> dict:
        return items_schema(ITEM, self.n_items(row))

    def parse(self, row, response):
        return self.parse_pairs(row, response, "question", "answer", grounded=True)

    def estimate(self, row) -> tuple[int, int]:
        return self.n_items(row), 60
