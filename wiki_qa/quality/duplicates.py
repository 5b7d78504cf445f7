"""Exact and near-duplicate removal over a DatasetDict, across splits.

One greedy pass: splits in `keep_order` (train, val, test), rows in order. A row survives if neither its
normalized text nor a MinHash-similar text was seen before. Because train is visited first, a duplicate pair
split across train and test always keeps the train copy and drops the test copy, so the test split never
contains something the model trained on.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np
from datasets import DatasetDict
from datasketch import MinHash, MinHashLSH

from wiki_qa.quality.config import DedupConfig
from wiki_qa.quality.text import batched_column, digest, normalize, row_text

log = logging.getLogger(__name__)


def _shingles(norm: str, cfg: DedupConfig) -> list[bytes]:
    if cfg.shingle == "chars":
        units: list[str] = list(norm)
        sep = ""
    else:
        units = norm.split()
        sep = " "
    k = cfg.shingle_size
    if len(units) <= k:  # a text shorter than one shingle is its own single shingle
        return [norm.encode("utf-8")]
    return list({sep.join(units[i : i + k]).encode("utf-8") for i in range(len(units) - k + 1)})


def _split_order(dsd: DatasetDict, cfg: DedupConfig) -> list[str]:
    first = [s for s in cfg.keep_order if s in dsd]
    return first + sorted(s for s in dsd if s not in first)


class _NearIndex:
    """MinHash LSH plus the kept signatures, so LSH candidates are confirmed by their estimated Jaccard
    (LSH alone returns false positives near the threshold)."""

    def __init__(self, cfg: DedupConfig):
        self.cfg = cfg
        # weights favour recall (false negatives cost 9x false positives): every candidate is verified
        # below, so an extra candidate costs one comparison while a missed one leaves a duplicate in.
        self.lsh = MinHashLSH(threshold=cfg.threshold, num_perm=cfg.num_perm, weights=(0.1, 0.9))
        self.sigs: dict[int, np.ndarray] = {}
        # One permutation set shared by every MinHash: building them is the expensive part of MinHash().
        self._proto = MinHash(num_perm=cfg.num_perm, seed=cfg.seed)

    def signature(self, norm: str) -> MinHash:
        m = MinHash(num_perm=self.cfg.num_perm, seed=self.cfg.seed, permutations=self._proto.permutations,
                    scheme=self._proto.scheme)
        m.update_batch(_shingles(norm, self.cfg))
        return m

    def find(self, m: MinHash) -> int | None:
        for key in self.lsh.query(m):
            if float(np.mean(self.sigs[key] == m.hashvalues)) >= self.cfg.threshold:
                return key
        return None

    def add(self, key: int, m: MinHash) -> None:
        self.lsh.insert(key, m, check_duplication=False)
        self.sigs[key] = m.hashvalues.copy()


def dedup(dsd: DatasetDict, cfg: DedupConfig, *, column: str = "text") -> tuple[DatasetDict, dict[str, Any]]:
    """Drop exact (normalized) and near duplicates of `column` across all splits, keeping the earliest copy
    in `cfg.keep_order`. `column` may hold strings or message lists. Returns (new DatasetDict, stats)."""
    order = _split_order(dsd, cfg)
    stats: dict[str, Any] = {
        "column": column, "exact": 0, "near": 0, "threshold": cfg.threshold,
        "by_split": {}, "examples": [],
    }
    if not cfg.enabled or not (cfg.exact or cfg.near):
        stats["skipped"] = True
        return dsd, stats
    for name in order:
        if column not in dsd[name].column_names:
            raise KeyError(f"dedup: split {name!r} has no column {column!r} (columns: {dsd[name].column_names})")

    seen: dict[bytes, int] = {}          # normalized-text digest -> global key of the kept row
    near = _NearIndex(cfg) if cfg.near else None
    kept_ids: dict[int, str] = {}        # global key -> (split, index) label, only for report examples
    out: dict[str, Any] = {}
    key = 0
    for name in order:
        ds = dsd[name]
        keep: list[int] = []
        n_exact = n_near = 0
        idx = 0
        has_id = "id" in ds.column_names
        ids = iter(ds["id"]) if has_id and cfg.max_examples else None
        for batch in batched_column(ds, column):
            for value in batch:
                key += 1
                rid = next(ids) if ids is not None else f"{name}[{idx}]"
                norm = normalize(row_text(value)) if value is not None else ""
                dup_of: int | None = None
                kind = ""
                if not norm:
                    # Empty rows are not dedup's business: the format check reports them.
                    keep.append(idx)
                    idx += 1
                    continue
                d = digest(norm)
                if cfg.exact and d in seen:
                    dup_of, kind = seen[d], "exact"
                elif near is not None:
                    m = near.signature(norm)
                    dup_of = near.find(m)
                    kind = "near"
                    if dup_of is None:
                        near.add(key, m)
                if dup_of is None:
                    seen.setdefault(d, key)
                    keep.append(idx)
                    if cfg.max_examples:
                        kept_ids[key] = rid
                else:
                    if kind == "exact":
                        n_exact += 1
                    else:
                        n_near += 1
                    if len(stats["examples"]) < cfg.max_examples:
                        stats["examples"].append(
                            {"removed": rid, "split": name, "kept": kept_ids.get(dup_of), "kind": kind})
                idx += 1
        stats["exact"] += n_exact
        stats["near"] += n_near
        stats["by_split"][name] = {"before": len(ds), "exact": n_exact, "near": n_near, "after": len(keep)}
        out[name] = ds if len(keep) == len(ds) else ds.select(keep)
        log.info("dedup %s[%s]: %d exact, %d near duplicates dropped", name, column, n_exact, n_near)
    # Preserve the caller's split order in the returned DatasetDict.
    return DatasetDict({name: out[name] for name in dsd}), stats
