"""qa: N question/answer pairs per chunk, answers grounded in the chunk."""
from __future__ import annotations

from wiki_qa.llm import parsing as P
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
    user = T.fill(T.template("qa", cfg), title=row["title"], text=row["text"], n=n_items(row, cfg),
                  language=T.language(row, cfg), instruction=T.instruction(row, cfg))
    return T.messages(row, cfg, user)


def schema(row, cfg) -> dict:
    return {"type": "object", "properties": {"items": {"type": "array", "items": ITEM, "minItems": 1,
            "maxItems": n_items(row, cfg)}}, "required": ["items"], "additionalProperties": False}


def parse(row, text, cfg):
    v = cfg.validate_
    good, dropped, seen = [], [], set()
    for it in P.items_of(P.parse_json(text)):
        if not isinstance(it, dict):
            dropped.append("not_an_object")
            continue
        q, a = P.as_str(it.get("question")), P.as_str(it.get("answer"))
        reason = P.check_text(q, "question", v.min_chars, v.max_question_chars) or \
            P.check_text(a, "answer", 1, v.max_answer_chars)
        if not reason and v.grounding_threshold and P.grounding(a, row["text"]) < v.grounding_threshold:
            reason = "ungrounded_answer"
        if not reason and P.norm_question(q) in seen:
            reason = "duplicate_question"
        if reason:
            dropped.append(reason)
            continue
        seen.add(P.norm_question(q))
        good.append({"prompt": T.with_context(row, cfg, q), "completion": T.completion(a, cfg)})
    return good, dropped


def estimate_items(row, cfg) -> tuple[int, int]:
    """(items, completion tokens per item) for --dry-run."""
    return n_items(row, cfg), 60
