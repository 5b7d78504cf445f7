"""Copied into every exported lm-eval task folder as `wiki_qa_task.py`; the task YAMLs name its functions with
lm-eval's `!function` tag. It needs only `datasets` (which lm-eval needs too), never wiki_qa, so the folder runs
on any machine with the harness.

- `load`: the data files beside this file (lm-eval resolves relative `data_files` against the working folder,
  so a folder that is copied elsewhere would otherwise lose its data);
- `score_answer`: generative QA, exact match and token F1 against every reference answer (the best of them);
- `score_choice`: multiple choice answered by generation, the letter (or the option's text) the model says.

Answers are compared after Unicode NFKC, case folding, dropping punctuation and collapsing white space, and
nothing language-specific (no English article removal as in SQuAD's script): the sets are multilingual.
Token F1 is SQuAD's definition; the libraries that carry it (`evaluate`'s squad metric, which lm-eval's
squadv2 task loads) fetch their scripts from the Hub at run time, which an offline eval machine cannot.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import datasets

HERE = Path(__file__).resolve().parent
SPLITS = {"test": "test", "validation": "val"}  # lm-eval's split name -> the file in data/


def load(**_metadata) -> datasets.DatasetDict:
    splits = {}
    for name, stem in SPLITS.items():
        path = HERE / "data" / f"{stem}.jsonl"
        if path.exists() and path.stat().st_size:
            with path.open(encoding="utf-8") as f:
                splits[name] = datasets.Dataset.from_list([json.loads(line) for line in f if line.strip()])
    return datasets.DatasetDict(splits)


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    return " ".join(text.split())


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = normalize(prediction).split(), normalize(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def score_answer(doc: dict, results: list[str]) -> dict:
    prediction = results[0] if results else ""
    refs = doc["answers"]
    return {"exact_match": max(float(normalize(prediction) == normalize(r)) for r in refs),
            "f1": max(token_f1(prediction, r) for r in refs)}


_LETTER = re.compile(r"^\W*([A-Z])(?![^\W\d_])")  # "B", " (B)", "B. Paris"; not the "T" of "The"


def chosen(doc: dict, output: str) -> int | None:
    """The option the model's output names, or None."""
    if doc["style"] == "letter":
        m = _LETTER.match(output.strip())
        return doc["options"].index(m.group(1)) if m and m.group(1) in doc["options"] else None
    said = normalize(output)
    hits = [i for i, o in enumerate(doc["options"]) if normalize(o) == said]
    return hits[0] if hits else None


def score_choice(doc: dict, results: list[str]) -> dict:
    return {"exact_match": float(chosen(doc, results[0] if results else "") == doc["answer"])}
