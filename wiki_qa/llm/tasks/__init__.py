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
