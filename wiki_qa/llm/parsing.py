"""Tolerant parsing of model output and per-item validators shared by the tasks."""
from __future__ import annotations

import json
import re

_FENCE = re.compile(r"```(?:json|jsonl)?\s*\n?(.*?)```", re.S | re.I)
_WORD = re.compile(r"\w+", re.U)
_PLACEHOLDER = re.compile(
    r"^\W*$|^\s*(\.{2,}|…|n/?a|none|null|todo|tbd|lorem ipsum.*)\s*$|\[(answer|question|option|text|insert[^\]]*)\]"
    r"|<(answer|question|option)>|\{(answer|question)\}", re.I)


class ParseError(ValueError):
    """The response holds no usable JSON at all: the chunk is re-asked with this message."""


def _objects_in(text: str) -> list:
    """Every top-level JSON value found in text: a single document, JSONL, or objects joined by commas."""
    dec = json.JSONDecoder()
    out, i = [], 0
    while i < len(text):
        j = min((k for k in (text.find("{", i), text.find("[", i)) if k >= 0), default=-1)
        if j < 0:
            break
        try:
            val, end = dec.raw_decode(text, j)
        except json.JSONDecodeError:
            i = j + 1
            continue
        out.append(val)
        i = end
    return out


def parse_json(text: str):
    """The model's JSON answer, tolerantly: plain, fenced, JSONL, comma-joined objects."""
    text = (text or "").strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    for block in _FENCE.findall(text):
        try:
            return json.loads(block.strip())
        except json.JSONDecodeError:
            text = block + "\n" + text
    vals = _objects_in(text)
    if not vals:
        raise ParseError("the reply contained no JSON")
    return vals[0] if len(vals) == 1 else vals


def items_of(data, key: str = "items") -> list:
    """The list of items whatever shape they came in: {"items": [...]}, [...], or one bare item."""
    if isinstance(data, dict):
        for k in (key, "items", "questions", "paraphrases", "data", "results"):
            if isinstance(data.get(k), list):
                return data[k]
        return [data]
    if isinstance(data, list):
        # [[...]] from comma-joined documents, or [{"items": [...]}, ...]
        flat = []
        for d in data:
            flat.extend(items_of(d, key) if isinstance(d, (dict, list)) and not _is_item(d) else [d])
        return flat
    raise ParseError("expected a JSON object or array")


def _is_item(d) -> bool:
    return isinstance(d, dict) and not any(isinstance(v, list) and v and isinstance(v[0], dict) for v in d.values())


def as_str(v) -> str:
    """Arrays/numbers coerced to strings: small models often answer ["Paris"] or 1889."""
    if isinstance(v, list):
        return ", ".join(as_str(x) for x in v)
    if v is None:
        return ""
    return str(v).strip()


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text or "")]


def is_placeholder(s: str) -> bool:
    return bool(_PLACEHOLDER.search(s))


def grounding(answer: str, chunk: str | set) -> float:
    """Share of the answer's word tokens that occur in the chunk (its text, or its set of words).
    Language-agnostic on purpose (no stop-word list exists for most low-resource languages)."""
    aw = words(answer)
    if not aw:
        return 0.0
    cw = chunk if isinstance(chunk, set) else set(words(chunk))
    return sum(w in cw for w in aw) / len(aw)


def check_text(s: str, what: str, lo: int, hi: int) -> str | None:
    """Reason string when s is not an acceptable non-empty, non-placeholder text of bounded length."""
    if not s:
        return f"empty_{what}"
    if len(s) < lo or len(s) > hi:
        return f"{what}_length"
    if is_placeholder(s):
        return f"placeholder_{what}"
    return None


def norm_question(q: str) -> str:
    return " ".join(words(q))
