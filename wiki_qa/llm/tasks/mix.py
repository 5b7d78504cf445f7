"""The question mix: which kind of question (and how hard) each item of a chunk should be.

`question_types: {factoid: 0.4, why: 0.2, how: 0.2, numeric: 0.1, comparison: 0.1}` and `difficulty:` (one
level or weights) become a per-chunk plan that goes into the prompt. The plan is systematic sampling from a
seeded offset: a chunk with N questions gets each type about N x weight times (never more than one off),
and over many chunks every type's share converges to its weight. Same seed and chunk id, same plan, in any
process or engine.

`looks_like` is a rough English heuristic for what a question turned out to be; the report compares it with
the plan so a model that ignores the plan shows up.
"""
from __future__ import annotations

import hashlib
import random
import re

from pydantic import Field, field_validator

from wiki_qa.configbase import StrictModel

TYPES = {
    "factoid": "a factual question (who, what, where or which) with a short answer",
    "why": "a 'why' question whose answer gives a reason or cause",
    "how": "a 'how' question whose answer describes a process or a way something works",
    "numeric": "a question whose answer is a number, a date or a quantity from the passage",
    "comparison": "a question that compares two things the passage mentions",
    "definition": "a question asking what a term from the passage means",
    "yes_no": "a yes/no question, answered with yes or no and the reason",
}
LEVELS = {
    "easy": "easy: answered by one sentence of the passage, close to its words",
    "medium": "medium: needs the reader to understand a sentence, not just match words",
    "hard": "hard: needs two or more sentences of the passage combined",
}


class MixConfig(StrictModel):
    """Mixin of the qa-like tasks' configs: the planned mix of question types and difficulty."""
    # Type -> weight (normalised); any name works, known ones get a description in the prompt.
    question_types: dict[str, float] | None = None
    # One level ("hard") or level -> weight; levels: easy, medium, hard (others are passed through).
    difficulty: str | dict[str, float] | None = None
    seed: int = 0   # the plan's (and qa_multihop's pair sample's) seed
    # Near-duplicate questions across the whole build are removed (MinHash over the question text) at this
    # Jaccard threshold; null keeps them.
    dedup_questions: float | None = Field(0.85, gt=0, le=1)

    @field_validator("question_types")
    @classmethod
    def _weights(cls, v):
        if v is not None:
            if not v or any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
                raise ValueError("question_types needs at least one type with a positive weight")
        return v

    @field_validator("difficulty")
    @classmethod
    def _levels(cls, v):
        if isinstance(v, dict) and (not v or any(w < 0 for w in v.values()) or sum(v.values()) <= 0):
            raise ValueError("difficulty needs a level or levels with positive weights")
        return v


def _unit(*parts) -> float:
    d = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(d[:8], "big") / 2 ** 64


def plan(weights: dict[str, float] | str | None, n: int, key: str, seed: int = 0, salt: str = "") -> list[str]:
    """n labels drawn from `weights` for one chunk (`key`): systematic sampling, then a seeded shuffle so
    item 1 is not always the heaviest type."""
    if not weights or n <= 0:
        return []
    if isinstance(weights, str):
        return [weights] * n
    names = [k for k, w in weights.items() if w > 0]
    total = sum(weights[k] for k in names)
    u = _unit(seed, salt, key)
    out = []
    for k in range(n):
        x, acc = (u + k) / n * total, 0.0
        pick = names[-1]
        for name in names:
            acc += weights[name]
            if x < acc:
                pick = name
                break
        out.append(pick)
    random.Random(f"{seed}:{salt}:{key}").shuffle(out)
    return out


def item_plan(cfg: MixConfig, n: int, key: str) -> list[dict]:
    """One {"question_type", "difficulty"} dict per item (only the keys the config asks for)."""
    types = plan(cfg.question_types, n, key, cfg.seed, "type")
    levels = plan(cfg.difficulty, n, key, cfg.seed, "difficulty")
    out = [{} for _ in range(n)]
    for i in range(n):
        if types:
            out[i]["question_type"] = types[i]
        if levels:
            out[i]["difficulty"] = levels[i]
    return out if (types or levels) else []


def describe(items: list[dict]) -> str:
    """The plan as prompt text: one line per item."""
    if not items:
        return ""
    lines = ["Write the questions in this order:"]
    for i, it in enumerate(items, 1):
        parts = []
        if it.get("question_type"):
            t = it["question_type"]
            parts.append(TYPES.get(t, f"a {t.replace('_', ' ')} question"))
        if it.get("difficulty"):
            d = it["difficulty"]
            parts.append(LEVELS.get(d, d))
        lines.append(f"{i}. " + "; ".join(parts))
    return "\n".join(lines)


_NUMERIC = re.compile(r"^(how (many|much|long|old|far|big|large|tall|high|deep|fast)|in what year|what year|"
                      r"when|what (percentage|number|date|age))\b", re.I)
_COMPARE = re.compile(r"\b(than|compared?|comparison|differ(s|ence|ent)?|versus|vs\.?|both|whereas|"
                      r"more .+ or|less .+ or|which of)\b", re.I)
_YES_NO = re.compile(r"^(is|are|was|were|do|does|did|can|could|has|have|had|will|would|should)\b", re.I)


def looks_like(question: str) -> str:
    """A rough English guess of a question's type (factoid when nothing else fits)."""
    q = question.strip()
    if _COMPARE.search(q):
        return "comparison"
    if _NUMERIC.search(q):
        return "numeric"
    if re.match(r"^why\b", q, re.I) or re.search(r"\bwhy\b", q, re.I):
        return "why"
    if re.match(r"^how\b", q, re.I):
        return "how"
    if re.match(r"^what (is|are|does) (meant by|the meaning of)\b", q, re.I):
        return "definition"
    if _YES_NO.match(q):
        return "yes_no"
    return "factoid"
