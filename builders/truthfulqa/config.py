"""YAML `source:` section for TruthfulQA."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from wiki_qa.configbase import StrictModel


class TruthfulQAConfig(StrictModel):
    type: Literal["truthfulqa"] = "truthfulqa"
    # TruthfulQA.csv in the original layout (a local path or fsspec URL, optionally compressed).
    path: str
    # generation: prompt = the question, completion = the best answer (all correct/incorrect answers in meta);
    # mc1: one correct choice (the best answer) among incorrect ones, lettered as MMLU's plain prompt.
    form: Literal["generation", "mc1"] = "generation"
    # mc1: the best answer plus up to max_choices - 1 incorrect answers (the file's best incorrect answer
    # first); 4 matches MMLU's A-D, null keeps them all (lm-eval's MC1 uses all of them).
    max_choices: int | None = Field(4, ge=2, le=26)
    # mc1: choices are put in an order drawn from (seed, doc_id), so the answer is not always A.
    seed: int = 0
    # mc1: the completion is the correct choice's text (as MMLU's default) or its letter.
    completion: Literal["text", "letter"] = "text"
    lang: str | None = "en"
