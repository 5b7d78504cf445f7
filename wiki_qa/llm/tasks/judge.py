"""The judge: a second pass through the same engine that scores generated items against their chunk.

One request per chunk, holding all of that chunk's items (the passage is sent once, which keeps the judge's
cost near the generation's): each item gets a score from 1 to 5 on a short rubric and a one-sentence
reason. The judge annotates; the build step (orchestrator) drops items under `min_score` as `judge_low`.

Input rows (built by the orchestrator's judge step): `id` (the chunk id), `title`, `text` (the passage the
items were written from), `_rows` (the chunk's example rows as JSON, in order); other columns pass through.
Output rows: the example rows again, in the same order, with `meta.judge = {score, reason, model}` and a
`_judge_score` column (0: the judge gave no usable score for the item).
"""
from __future__ import annotations

import json
from typing import Any

import datasets
from pydantic import Field, model_validator

from wiki_qa.configbase import StrictModel
from wiki_qa.llm import parsing as P
from wiki_qa.llm.tasks.base import Task, fill, item_meta

GROUP_COLUMNS = ("id", "title", "text", "_rows")
SCORE = "_judge_score"
REASON_CHARS = 300
# The judge's own engine settings unless judge.llm says otherwise: deterministic, short replies.
LLM_DEFAULTS = {"temperature": 0.0, "max_tokens": 512}


class JudgeConfig(StrictModel):
    """`judge:` in YAML. `judge: true` turns it on with these defaults."""
    enabled: bool = True
    min_score: int = Field(3, ge=1, le=5)   # items scored below are dropped (reason judge_low)
    # Overrides of the top-level `llm:` section for the judge (another model or endpoint); keys as in llm:.
    llm: dict[str, Any] = Field(default_factory=dict)
    # Items the judge gave no score (a failed request after all retries): dropped (judge_failed) or kept.
    keep_unjudged: bool = False
    prompt_file: str | None = None    # override prompts/judge.txt ({title} {text} {items} {n})
    system_prompt: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v):
        if isinstance(v, bool):  # judge: true / judge: false
            return {"enabled": v}
        return v



def item_text(prompt: str, completion: str, context: str) -> str:
    """One item as the judge reads it: the question without the passage (include_context repeats it)."""
    q = prompt[len(context):].lstrip() if context and prompt.startswith(context) else prompt
    return f"Question: {q.strip()}\nAnswer: {completion.strip()}"


class ChunkItems(Task):
    """A second pass over a chunk's generated items (the judge, the round trip): one request per chunk,
    and its output is the chunk's example rows again, in order, each with this pass's verdict in
    `meta.<META>` and its number in the `COLUMN` column. Not a `generate:` task (not registered): the
    build's step makes it with the rows' features."""
    META: str = "judge"
    COLUMN: str = SCORE
    COLUMN_TYPE = datasets.Value("int32")

    def __init__(self, cfg, row_features: datasets.Features, model: str):
        self.cfg, self.row_features, self.model = cfg, row_features, model

    def rows(self, row) -> list[dict]:
        return [json.loads(raw) for raw in row["_rows"]]

    def verdict(self, e: dict | None) -> tuple[dict, float]:
        """(meta entry, column value) of one item; `e` is its parsed verdict, None when it got none."""
        raise NotImplementedError

    def output_columns(self, column_names: list[str]) -> list[str]:
        through = [c for c in column_names if c not in GROUP_COLUMNS and c not in self.row_features]
        return [*self.row_features, *through, self.COLUMN]

    def output_features(self, features: datasets.Features, keep: list[str]) -> datasets.Features:
        feats = dict(self.row_features)
        feats.update({c: features[c] for c in keep if c not in feats and c != self.COLUMN})
        feats[self.COLUMN] = self.COLUMN_TYPE
        return datasets.Features(feats)

    def output_rows(self, row: dict, examples: list[dict], keep: list[str]):
        got = {e["k"]: e for e in examples}
        through = [c for c in keep if c not in self.row_features and c != self.COLUMN]
        for k, r in enumerate(self.rows(row)):
            meta, value = self.verdict(got.get(k))
            if "meta" in r:
                r["meta"] = item_meta(r["meta"], {self.META: {**meta, "model": self.model}})
            r[self.COLUMN] = value
            r.update({c: row[c] for c in through})
            yield r


class Judge(ChunkItems):
    """Scores each item 1-5 against its chunk."""
    name = "judge"
    VERSION = 2

    # -- request ------------------------------------------------------------------------------------
    def items(self, row) -> list[str]:
        return [item_text(r.get("prompt") or "", r.get("completion") or "", row["text"]) for r in self.rows(row)]

    def prompt(self, row) -> list[dict]:
        items = self.items(row)
        listed = "\n\n".join(f"Item {i}\n{t}" for i, t in enumerate(items, 1))
        return self.messages(fill(self.template("judge"), title=row["title"], text=row["text"], items=listed,
                                  n=len(items)))

    def schema(self, row) -> dict:
        n = len(row["_rows"])
        item = {"type": "object", "properties": {
            "item": {"type": "integer", "enum": list(range(1, n + 1))},
            # no pattern: llama.cpp's converter makes an anchored pattern a grammar that is not enforced
            # (its chat parser then rejects the reply, or replies run on past maxItems)
            "reason": {"type": "string", "minLength": 3, "maxLength": 200},
            "score": {"type": "integer", "enum": [1, 2, 3, 4, 5]}},
            "required": ["item", "reason", "score"], "additionalProperties": False}
        return {"type": "object", "properties": {"items": {"type": "array", "items": item, "minItems": n,
                "maxItems": n}}, "required": ["items"], "additionalProperties": False}

    def parse(self, row, response):
        """{k, score, reason} per scored item; ParseError (a re-ask) when no item got a usable score."""
        n = len(row["_rows"])
        got: dict[int, dict] = {}
        for pos, it in enumerate(P.items_of(P.parse_json(response))):
            if not isinstance(it, dict):
                continue
            score, k = _int(it.get("score")), _int(it.get("item"))
            k = (k - 1) if k is not None else pos
            if score is None or not 1 <= score <= 5 or not 0 <= k < n or k in got:
                continue
            got[k] = {"k": k, "score": score, "reason": P.as_str(it.get("reason"))[:REASON_CHARS]}
        if not got:
            raise P.ParseError("no item had a score from 1 to 5; give each item an integer score")
        return [got[k] for k in sorted(got)], []

    def estimate(self, row) -> tuple[int, int]:
        return len(row["_rows"]), 35   # {"item": 1, "reason": one sentence, "score": 4}

    @staticmethod
    def estimate_row(chunk: dict, n_items: int, tokens_per_item: int) -> dict:
        """A stand-in judge row for --dry-run: the chunk with n items of about the estimated length."""
        filler = " ".join(["word"] * max(1, tokens_per_item))
        rows = [json.dumps({"prompt": filler, "completion": ""})] * n_items
        return {"id": chunk["id"], "title": chunk["title"], "text": chunk["text"], "_rows": rows}

    def verdict(self, e):
        if e is None:
            return {"score": None, "reason": "judge_failed"}, 0
        return {"score": e["score"], "reason": e["reason"]}, e["score"]


def _int(v) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and v.strip().isdigit():
        return int(v.strip())
    return None
