"""custom: the user's prompt template and per-item JSON schema, both from YAML.

The model is asked for {"items": [<item matching json_schema>]}; each item's `prompt_field` and
`completion_field` become the example's prompt and completion.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from wiki_qa.llm.tasks.base import Task, TaskConfig, default_n, items_schema, register


@register
class Custom(Task):
    name = "custom"

    class Config(TaskConfig):
        task: Literal["custom"] = "custom"
        n: int | None = Field(None, ge=1)   # default min(10, ceil(chars/500))
        # Template with {title} {text} {language} {n} {instruction}; schema of ONE item (an object).
        prompt_template: str | None = None
        json_schema: dict[str, Any] | None = None
        prompt_field: str = "question"
        completion_field: str = "answer"

        @model_validator(mode="after")
        def _needs_a_prompt(self):
            if not self.prompt_template and not self.prompt_file:
                raise ValueError("task: custom needs prompt_template (or prompt_file), and usually json_schema")
            return self

    def n_items(self, row) -> int:
        return self.cfg.n or default_n(row)

    def _item_schema(self) -> dict:
        c = self.cfg
        return c.json_schema or {"type": "object", "properties": {
            c.prompt_field: {"type": "string"}, c.completion_field: {"type": "string"}},
            "required": [c.prompt_field, c.completion_field]}

    def prompt(self, row) -> list[dict]:
        return self.passage_prompt(self.cfg.prompt_template or self.template("qa"), row, self.n_items(row))

    def schema(self, row) -> dict:
        return items_schema(self._item_schema(), self.n_items(row))

    def parse(self, row, response):
        # The user's schema: answers are whatever they asked for, so no grounding check.
        return self.parse_pairs(row, response, self.cfg.prompt_field, self.cfg.completion_field, grounded=False,
                                labels=("prompt", "completion"))

    def estimate(self, row) -> tuple[int, int]:
        return self.n_items(row), 100
