"""qa: N question/answer pairs per chunk, answers grounded in the chunk."""
from __future__ import annotations

from wiki_qa.llm import tasks as T

VERSION = 2
# The patterns rule out placeholder answers ("...", "[answer]", "<answer>") at the grammar level on servers
# that constrain decoding (llama.cpp, vLLM), which small base models otherwise copy from the prompt.
ITEM = {"type": "object", "properties": {
    "question": {"type": "string", "minLength": 8, "maxLength": 300, "pattern": "^[^.\\[<\\s][^\\n]*\\?$"},
    "answer": {"type": "string", "minLength": 1, "maxLength": 600, "pattern": "^[^.\\[<\\s][^\\n]*$"}},
    "required": ["question", "answer"], "additionalProperties": False}


def n_items(row, cfg) -> int:
    return cfg.n or T.default_n(row)


def prompt(row, cfg) -> list[dict]:
    return T.passage_prompt(T.template("qa", cfg), row, cfg, n_items(row, cfg))


def schema(row, cfg) -> dict:
    return T.items_schema(ITEM, n_items(row, cfg))


def parse(row, text, cfg):
    return T.parse_pairs(row, text, cfg, "question", "answer", grounded=True)


def estimate_items(row, cfg) -> tuple[int, int]:
    """(items, completion tokens per item) for --dry-run."""
    return n_items(row, cfg), 60
