"""Rows of a build folder -> eval items: multiple choice or generative QA.

A row gives a prompt and its answer: `prompt`/`completion` (completion format) or the last user and
assistant messages (messages format); the text format has neither and cannot be scored.

- Multiple choice (MMLU, translated MMLU, TruthfulQA MC1, the `mcq` task): the prompt holds lettered options
  in the shared layout (wiki_qa/choices.py). The correct index comes from `meta.answer` (a letter or an index,
  as MMLU and TruthfulQA record it), else from the completion (a letter, or one option's text). Whether the
  model is to say the letter or the option's text follows the completions the build trained on.
- Generative QA (the `qa` task, TruthfulQA's generation form, instruction data): the prompt and its answer;
  a row whose completion is still its source's best answer also brings that source's other correct answers
  (`meta.correct_answers`); a translated row does not, since those stay in the source language.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Iterable, Literal

from wiki_qa.choices import LETTERS, answer_index, format_choices, parse_choices

Kind = Literal["mc", "qa"]
CUE = "Answer:"  # the cue after a question when the prompt has none of its own (lm-eval's MMLU uses it too)


def prompt_and_answer(row: dict) -> tuple[str, str]:
    """(prompt, answer) of a completion or messages row; ("", "") when it has none."""
    if "messages" in row:
        msgs = row["messages"] or []
        user = [m["content"] for m in msgs if m.get("role") == "user"]
        reply = [m["content"] for m in msgs if m.get("role") == "assistant"]
        return (user[-1] if user else ""), (reply[-1] if reply else "")
    return row.get("prompt") or "", row.get("completion") or ""


def _meta(row: dict) -> dict:
    meta = row.get("meta")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta or "{}")
        except json.JSONDecodeError:
            return {}
    return meta if isinstance(meta, dict) else {}


def _base(row: dict) -> dict:
    return {"id": row.get("id") or row.get("doc_id") or "", "lang": row.get("lang") or "",
            "source": row.get("source") or ""}


def mc_item(row: dict) -> tuple[dict | None, str | None]:
    """(item, None), or (None, why not): a multiple-choice item with its correct index and answer style."""
    prompt, completion = prompt_and_answer(row)
    if not prompt.strip() or not completion.strip():
        return None, "empty"
    parsed = parse_choices(prompt)
    if parsed is None:
        return None, "no_lettered_options"
    question, choices, cue = parsed
    recorded = _meta(row).get("answer")
    index = answer_index(recorded, choices) if recorded is not None else answer_index(completion, choices)
    if index is None:
        return None, "no_answer_key"
    letter = LETTERS[index]
    style = "letter" if completion.strip().strip("().").upper() == letter else "text"
    return {**_base(row), "question": question, "choices": choices, "answer": index, "style": style,
            "prompt": format_choices(question, choices) + (cue or CUE)}, None


def qa_item(row: dict) -> tuple[dict | None, str | None]:
    prompt, completion = prompt_and_answer(row)
    if not prompt.strip() or not completion.strip():
        return None, "empty"
    meta = _meta(row)
    answers = [completion.strip()]
    if meta.get("best_answer") == completion.strip():  # untranslated: the source's other correct answers count
        answers += [a for a in meta.get("correct_answers") or [] if isinstance(a, str) and a not in answers]
    return {**_base(row), "question": prompt.strip(), "answers": answers,
            "prompt": f"{prompt.strip()}\n{CUE}"}, None


def detect_kind(rows: Iterable[dict]) -> Kind:
    """mc when most rows are multiple-choice items, else qa."""
    ok = total = 0
    for row in rows:
        total += 1
        ok += mc_item(row)[0] is not None
    return "mc" if total and ok * 2 > total else "qa"


def items(rows: Iterable[dict], kind: Kind) -> tuple[list[dict], Counter]:
    """The items of one split and the rows skipped, by reason. Multiple-choice items all take the answer
    style most of them have (a build trains on one completion style)."""
    make = mc_item if kind == "mc" else qa_item
    out, skipped = [], Counter()
    for row in rows:
        item, why = make(row)
        if item is None:
            skipped[why] += 1
        else:
            out.append(item)
    return out, skipped


def answer_style(items_: list[dict]) -> Literal["letter", "text"]:
    styles = Counter(it["style"] for it in items_)
    return "letter" if styles["letter"] > styles["text"] else "text"


def with_targets(items_: list[dict], style: str) -> list[dict]:
    """MC items with `options` (what the model says: letters or the choices' text) and `target`."""
    out = []
    for it in items_:
        options = list(LETTERS[: len(it["choices"])]) if style == "letter" else list(it["choices"])
        out.append({**{k: v for k, v in it.items() if k != "style"}, "style": style, "options": options,
                    "target": options[it["answer"]]})
    return out
