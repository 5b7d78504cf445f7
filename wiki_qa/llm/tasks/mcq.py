"""mcq: K four-option questions per chunk; completion is the letter or the answer text."""
from __future__ import annotations

from wiki_qa.llm import parsing as P
from wiki_qa.llm import tasks as T

VERSION = 1
LETTERS = "ABCD"
ITEM = {"type": "object", "properties": {
    "question": {"type": "string"},
    "options": {"type": "array", "items": {"type": "string"}, "minItems": 4, "maxItems": 4},
    "answer": {"type": "string", "enum": list(LETTERS)}}, "required": ["question", "options", "answer"],
    "additionalProperties": False}


def n_items(row, cfg) -> int:
    return cfg.n or 3


def prompt(row, cfg) -> list[dict]:
    return T.passage_prompt(T.template("mcq", cfg), row, cfg, n_items(row, cfg))


def schema(row, cfg) -> dict:
    return T.items_schema(ITEM, n_items(row, cfg))


def _letter(ans, options) -> str | None:
    s = P.as_str(ans).strip().strip("().").upper()
    if len(s) == 1 and s in LETTERS:
        return s
    if s.isdigit() and 0 <= int(s) - 1 < 4:  # 1-based index
        return LETTERS[int(s) - 1]
    for i, o in enumerate(options):  # the option text itself
        if P.as_str(ans).strip().lower() == o.lower():
            return LETTERS[i]
    return None


def parse(row, text, cfg):
    v = cfg.validate_
    good, dropped, seen = [], [], set()
    for it in P.items_of(P.parse_json(text)):
        if not isinstance(it, dict):
            dropped.append("not_an_object")
            continue
        q = P.as_str(it.get("question"))
        opts = [P.as_str(o) for o in it.get("options") or []] if isinstance(it.get("options"), list) else []
        reason = P.check_text(q, "question", v.min_chars, v.max_question_chars)
        if not reason and (len(opts) != 4 or len({o.lower() for o in opts}) != 4):
            reason = "options_not_4_distinct"
        if not reason and any(P.check_text(o, "option", 1, v.max_answer_chars) for o in opts):
            reason = "bad_option"
        letter = None if reason else _letter(it.get("answer"), opts)
        if not reason and letter is None:
            reason = "bad_answer_key"
        if not reason and P.norm_question(q) in seen:
            reason = "duplicate_question"
        if reason:
            dropped.append(reason)
            continue
        seen.add(P.norm_question(q))
        body = q + "\n" + "\n".join(f"{L}. {o}" for L, o in zip(LETTERS, opts)) + "\nAnswer:"
        ans = letter if cfg.mcq_answer == "letter" else opts[LETTERS.index(letter)]
        good.append({"prompt": T.with_context(row, cfg, body), "completion": T.completion(ans, cfg)})
    return good, dropped


def estimate_items(row, cfg) -> tuple[int, int]:
    return n_items(row, cfg), 90
