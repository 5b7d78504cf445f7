"""custom: the user's prompt template and per-item JSON schema, both from YAML.

The model is asked for {"items": [<item matching json_schema>]}; each item's `prompt_field` and
`completion_field` become the example's prompt and completion.
"""
from __future__ import annotations

from wiki_qa.llm import tasks as T

VERSION = 1


def _item_schema(cfg) -> dict:
    return cfg.json_schema or {"type": "object", "properties": {
        cfg.prompt_field: {"type": "string"}, cfg.completion_field: {"type": "string"}},
        "required": [cfg.prompt_field, cfg.completion_field]}


def prompt(row, cfg) -> list[dict]:
    return T.passage_prompt(cfg.prompt_template or T.template("qa", cfg), row, cfg, cfg.n or T.default_n(row))


def schema(row, cfg) -> dict:
    return T.items_schema(_item_schema(cfg), cfg.n or T.default_n(row))


def parse(row, text, cfg):
    # The user's schema: answers are whatever they asked for, so no grounding check.
    return T.parse_pairs(row, text, cfg, cfg.prompt_field, cfg.completion_field, grounded=False,
                         labels=("prompt", "completion"))


def estimate_items(row, cfg) -> tuple[int, int]:
    return cfg.n or T.default_n(row), 100
