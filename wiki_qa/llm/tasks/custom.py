"""custom: the user's prompt template and per-item JSON schema, both from YAML.

The model is asked for {"items": [<item matching json_schema>]}; each item's `prompt_field` and
`completion_field` become the example's prompt and completion.
"""
from __future__ import annotations

from wiki_qa.llm import parsing as P
from wiki_qa.llm import tasks as T

VERSION = 1


def _item_schema(cfg) -> dict:
    return cfg.json_schema or {"type": "object", "properties": {
        cfg.prompt_field: {"type": "string"}, cfg.completion_field: {"type": "string"}},
        "required": [cfg.prompt_field, cfg.completion_field]}


def prompt(row, cfg) -> list[dict]:
    tmpl = cfg.prompt_template or T.template("qa", cfg)
    user = T.fill(tmpl, title=row["title"], text=row["text"], n=cfg.n or T.default_n(row),
                  language=T.language(row, cfg), instruction=T.instruction(row, cfg))
    return T.messages(row, cfg, user)


def schema(row, cfg) -> dict:
    n = cfg.n or T.default_n(row)
    return {"type": "object", "properties": {"items": {"type": "array", "items": _item_schema(cfg),
            "minItems": 1, "maxItems": n}},
            "required": ["items"], "additionalProperties": False}


def parse(row, text, cfg):
    v = cfg.validate_
    good, dropped, seen = [], [], set()
    for it in P.items_of(P.parse_json(text)):
        if not isinstance(it, dict):
            dropped.append("not_an_object")
            continue
        p, c = P.as_str(it.get(cfg.prompt_field)), P.as_str(it.get(cfg.completion_field))
        reason = P.check_text(p, "prompt", v.min_chars, v.max_question_chars) or \
            P.check_text(c, "completion", 1, v.max_answer_chars)
        if not reason and P.norm_question(p) in seen:
            reason = "duplicate_question"
        if reason:
            dropped.append(reason)
            continue
        seen.add(P.norm_question(p))
        good.append({"prompt": T.with_context(row, cfg, p), "completion": T.completion(c, cfg)})
    return good, dropped


def estimate_items(row, cfg) -> tuple[int, int]:
    return cfg.n or T.default_n(row), 100
