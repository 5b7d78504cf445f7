"""Tasks are plain modules: `prompt(row, cfg) -> messages`, `schema(row, cfg) -> JSON schema`,
`parse(row, text, cfg) -> (examples, dropped_reasons)`, `estimate_items(row, cfg) -> int`, `VERSION`.

`parse` raises ParseError when nothing usable came back (the engine re-asks with that message);
otherwise it returns the good examples ({"prompt", "completion"}) and one reason per dropped item.
"""
from __future__ import annotations

import importlib
import json
import math
from importlib import resources

LANGUAGES = {"en": "English", "simple": "simple English", "yo": "Yoruba", "ha": "Hausa", "ig": "Igbo",
             "pcm": "Nigerian Pidgin", "sw": "Swahili", "fr": "French", "de": "German", "es": "Spanish",
             "pt": "Portuguese", "ar": "Arabic", "am": "Amharic", "zu": "Zulu", "xh": "Xhosa"}
TASKS = ("qa", "mcq", "paraphrase", "custom")


def get(name: str):
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}")
    return importlib.import_module(f"wiki_qa.llm.tasks.{name}")


def language(row, cfg) -> str:
    code = cfg.language or row.get("lang") or "en"
    return LANGUAGES.get(code, code)


def template(name: str, cfg) -> str:
    if cfg.prompt_file:
        with open(cfg.prompt_file, encoding="utf-8") as f:
            return f.read()
    return resources.files("wiki_qa.llm").joinpath(f"prompts/{name}.txt").read_text(encoding="utf-8")


def instruction(row, cfg) -> str:
    """Per subject/domain instruction (the exam seed's idea): meta.subject/topic/domain, then source."""
    meta = row.get("meta") or {}
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            meta = {}
    keys = [meta.get(k) for k in ("subject", "topic", "domain") if isinstance(meta, dict)] + [row.get("source")]
    parts = [cfg.instructions[k] for k in keys if k and k in cfg.instructions]
    if cfg.instruction:
        parts.append(cfg.instruction)
    return "\n".join(parts)


def fill(tmpl: str, **values) -> str:
    # Plain replacement, not str.format: templates contain JSON braces.
    for k, v in values.items():
        tmpl = tmpl.replace("{" + k + "}", str(v))
    return tmpl


def messages(row, cfg, user: str) -> list[dict]:
    msgs = [{"role": "system", "content": cfg.system_prompt}] if cfg.system_prompt else []
    return msgs + [{"role": "user", "content": user}]


def default_n(row, default_mcq=3) -> int:
    return min(10, max(1, math.ceil(len(row.get("text") or "") / 500)))


def completion(text: str, cfg) -> str:
    return (" " + text) if cfg.completion_leading_space else text


def with_context(row, cfg, prompt: str) -> str:
    return f"{row['text']}\n\n{prompt}" if cfg.include_context else prompt


# --- pieces several tasks share ------------------------------------------------------------------------

def passage_prompt(tmpl: str, row, cfg, n: int) -> list[dict]:
    """The chat request for a task whose template asks for `n` items about one passage."""
    user = fill(tmpl, title=row["title"], text=row["text"], n=n, language=language(row, cfg),
                instruction=instruction(row, cfg))
    return messages(row, cfg, user)


def items_schema(item: dict, n: int) -> dict:
    """{"items": [item, ...]} with 1..n items: the response shape every item-producing task asks for."""
    return {"type": "object", "properties": {"items": {"type": "array", "items": item, "minItems": 1,
            "maxItems": n}}, "required": ["items"], "additionalProperties": False}


def parse_pairs(row, text, cfg, prompt_key: str, completion_key: str, *, grounded: bool,
                labels: tuple[str, str] = ("question", "answer")):
    """Items with a prompt-like and a completion-like field -> (good examples, drop reasons). Each item is
    judged on its own: length bounds, grounding in the chunk (when asked), no repeated prompt."""
    from wiki_qa.llm import parsing as P

    v = cfg.validate_
    good, dropped, seen = [], [], set()
    for it in P.items_of(P.parse_json(text)):
        if not isinstance(it, dict):
            dropped.append("not_an_object")
            continue
        q, a = P.as_str(it.get(prompt_key)), P.as_str(it.get(completion_key))
        reason = P.check_text(q, labels[0], v.min_chars, v.max_question_chars) or \
            P.check_text(a, labels[1], 1, v.max_answer_chars)
        if not reason and grounded and v.grounding_threshold and \
                P.grounding(a, row["text"]) < v.grounding_threshold:
            reason = "ungrounded_answer"
        if not reason and P.norm_question(q) in seen:
            reason = "duplicate_question"
        if reason:
            dropped.append(reason)
            continue
        seen.add(P.norm_question(q))
        good.append({"prompt": with_context(row, cfg, q), "completion": completion(a, cfg)})
    return good, dropped
