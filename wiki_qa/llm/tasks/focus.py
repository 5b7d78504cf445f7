"""Sentence focus (`generate.focus: sentence`): the planner picks the sentence each item must be answered
by, and the model writes only the question and the answer.

Why: a very small instruct model (the demo's 135M SmolLM2) given a whole passage and asked for N items
writes vague questions ("What is the answer?"), invents quotes, or copies a worked example. Given one
sentence and the question type, it writes a real question about that sentence. The evidence is then the
planned sentence itself, so its span round-trips by construction; the answer is still checked for
grounding in the chunk and the judge still scores the item against the whole chunk.

Sentences come from the chunk's body (the first line is the title the chunker repeats); headings and
fragments are skipped. The pick is systematic from a seeded offset, spread over the chunk, so a chunk
with N items gets N different sentences, the same ones in any process.
"""
from __future__ import annotations

import re

from wiki_qa.llm.tasks import mix

_LINE = re.compile(r"[^\n]+")
# A sentence ends at . ! or ? followed by a space and a capital, digit or quote ("3.5 km" and "e.g. x" stay).
_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\d\w])(?=[^a-z])", re.U)
MIN_WORDS = 6   # shorter lines are headings or fragments: nothing to ask about
# The question type as the model reads it beside a sentence: a short lead word, not the passage-mode text.
LEADS = {"factoid": "Which", "why": "Why", "how": "How", "numeric": "How many or when",
         "comparison": "Compare", "definition": "What is", "yes_no": "Yes or no"}


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of at least MIN_WORDS words in the chunk's body."""
    body = text.find("\n")
    if body < 0:
        body = 0
    out = []
    for line in _LINE.finditer(text, body):
        start = line.start()
        for cut in [*_END.finditer(line.group()), None]:
            end = line.start() + cut.start() if cut else line.end()
            s = text[start:end]
            lo = len(s) - len(s.lstrip())
            if len(s.split()) >= MIN_WORDS:
                out.append((start + lo, start + len(s.rstrip())))
            if cut:
                start = line.start() + cut.end()
    return out


def pick(spans: list[tuple[int, int]], n: int, key: str, seed: int = 0) -> list[tuple[int, int]]:
    """Up to n distinct sentences spread over the chunk, from a seeded offset (in reading order)."""
    if not spans or n <= 0:
        return []
    n = min(n, len(spans))
    u = mix._unit(seed, "focus", key)
    return sorted({spans[int((u + k) / n * len(spans)) % len(spans)] for k in range(n)})


def lead(plan_item: dict) -> str:
    t = plan_item.get("question_type")
    return LEADS.get(t, t.replace("_", " ").capitalize()) if t else "Which"
