"""train/val/test assignment per document, by a stable hash of (seed, doc_id).

A hash (not a shuffle) makes the assignment independent of input order, machine and engine, and lets a
split be computed for one document without seeing the others: so no document ever spans two splits, and
every split can be produced in its own pass.
"""
from __future__ import annotations

import hashlib

from pydantic import model_validator

from wiki_qa.configbase import StrictModel


class SplitConfig(StrictModel):
    train: float = 0.9
    val: float = 0.05
    test: float = 0.05
    seed: int = 42

    @model_validator(mode="after")
    def _ratios(self):
        ratios = [self.train, self.val, self.test]
        if any(r < 0 for r in ratios) or abs(sum(ratios) - 1.0) > 1e-6:
            raise ValueError(f"split ratios must be >= 0 and sum to 1 (got {sum(ratios):g})")
        return self


def assign_split(doc_id: str, cfg: SplitConfig) -> str:
    digest = hashlib.sha256(f"{cfg.seed}\x00{doc_id}".encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < cfg.train:
        return "train"
    if u < cfg.train + cfg.val:
        return "val"
    return "test"
