"""The one multiple-choice layout: how MC sources write a question with lettered options, and how the eval
export reads it back.

    "{question}\nA. {choice}\nB. {choice}\n...\n"        (MMLU's plain prompt; TruthfulQA MC1 the same)

MMLU's standard template and the `mcq` task add an answer cue ("Answer:") on a last line. Reading back works
on the prompt text itself, not on a side copy of the choices, because a translated set changes the prompt
(the translator keeps list markers and line structure) while the row's meta may still hold the originals.
"""
from __future__ import annotations

import re

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# A last line such as "Answer:" (or its translation) after the options: short, ends in a colon, no letter marker.
_CUE = re.compile(r"\n([^\n]{1,40}:)[ \t]*\Z")
_MARKER = re.compile(r"[A-Z]\. ")


def format_choices(question: str, choices: list[str]) -> str:
    """The prompt of one multiple-choice item, without an answer cue."""
    if len(choices) > len(LETTERS):
        raise ValueError(f"{len(choices)} choices: at most {len(LETTERS)} can be lettered")
    return question + "".join(f"\n{letter}. {choice}" for letter, choice in zip(LETTERS, choices)) + "\n"


def parse_choices(prompt: str) -> tuple[str, list[str], str] | None:
    """(question, choices, cue) from a prompt in the layout above, or None when it holds no option block of at
    least two options. The block is the last "\\nA. " followed by "\\nB. ", "\\nC. "... in order; a choice may
    span lines. `question` is everything before it (a header or worked examples included); `cue` is a last
    line such as "Answer:", or ""."""
    body = prompt[:-1] if prompt.endswith("\n") else prompt  # only the layout's own line end: a choice's
    cue = ""                                                  # trailing space is part of its text
    m = _CUE.search(body)
    if m and not _MARKER.match(m.group(1)):
        cue, body = m.group(1), body[: m.start()]
    start = body.rfind("\nA. ")
    if start < 0:
        return None
    bounds = [start]
    for letter in LETTERS[1:]:
        nxt = body.find(f"\n{letter}. ", bounds[-1] + 1)
        if nxt < 0:
            break
        bounds.append(nxt)
    if len(bounds) < 2:
        return None
    ends = bounds[1:] + [len(body)]
    choices = [body[b + 4: e] for b, e in zip(bounds, ends)]  # 4 = len("\nA. ")
    question = body[:start]
    if not question.strip() or any(not c.strip() for c in choices):
        return None
    return question, choices, cue


def answer_index(answer, choices: list[str]) -> int | None:
    """The index of the correct choice from what a row records: a letter ("B"), an index (1), or the choice's
    text; None when it names none of them."""
    if isinstance(answer, bool) or answer is None:
        return None
    if isinstance(answer, int):
        return answer if 0 <= answer < len(choices) else None
    text = str(answer).strip()
    letter = text.strip("().").upper()
    if len(letter) == 1 and letter in LETTERS[: len(choices)]:
        return LETTERS.index(letter)
    folded = [c.strip().casefold() for c in choices]
    return folded.index(text.casefold()) if text and text.casefold() in folded else None
