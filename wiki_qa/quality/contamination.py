"""Drop training rows that share a long word n-gram with an eval item (benchmark leakage).

Texts are compared as normalized word sequences (see text.normalize), so case, punctuation and spacing
differences do not hide a copied question. Eval fields shorter than `ngram` words but at least `min_words`
long are matched as a whole phrase: many MMLU questions are shorter than 13 words.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from datasets import DatasetDict

from wiki_qa.quality.config import DecontaminateConfig
from wiki_qa.quality.evalsets import load_eval_items
from wiki_qa.quality.text import iter_strings, words

log = logging.getLogger(__name__)

# Columns that can hold text a model trains on, across chunk rows and all three output formats.
DEFAULT_COLUMNS = ("text", "prompt", "completion", "messages")


@dataclass
class EvalIndex:
    """n-gram (space-joined normalized words) -> first eval item id that contains it."""

    ngram: int
    grams: dict[str, str] = field(default_factory=dict)
    # gram length -> first words of grams of that length: a cheap filter before joining a window.
    starts: dict[int, set[str]] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)  # eval set label -> item count

    def add(self, eval_id: str, text: str, min_words: int) -> None:
        w = words(text)
        if len(w) >= self.ngram:
            spans = [w[i : i + self.ngram] for i in range(len(w) - self.ngram + 1)]
        elif len(w) >= min_words:
            spans = [w]
        else:
            return
        for span in spans:
            self.grams.setdefault(" ".join(span), eval_id)
            self.starts.setdefault(len(span), set()).add(span[0])

    def find(self, text: str) -> tuple[str, str] | None:
        """(eval id, matched n-gram) for the first eval n-gram found in `text`, else None."""
        w = words(text)
        for length, firsts in self.starts.items():
            for i in range(len(w) - length + 1):
                if w[i] in firsts:
                    gram = " ".join(w[i : i + length])
                    hit = self.grams.get(gram)
                    if hit is not None:
                        return hit, gram
        return None


def _rows(ds, batch_size: int = 1000):
    """Rows as dicts, read in Arrow batches (much faster than indexing row by row)."""
    for batch in ds.iter(batch_size=batch_size):
        cols = list(batch)
        for values in zip(*(batch[c] for c in cols)):
            yield dict(zip(cols, values))


def build_index(cfg: DecontaminateConfig) -> EvalIndex:
    """Read every eval set once. Build it once and pass it to several decontaminate() calls."""
    index = EvalIndex(ngram=cfg.ngram)
    for spec in cfg.evals:
        n = 0
        for eval_id, texts in load_eval_items(spec):
            n += 1
            for t in texts:
                index.add(eval_id, t, cfg.min_words)
        index.items[spec.label] = index.items.get(spec.label, 0) + n
        log.info("decontaminate: %s: %d eval items", spec.label, n)
    return index


def decontaminate(
    dsd: DatasetDict,
    cfg: DecontaminateConfig,
    *,
    columns: Sequence[str] | None = None,
    index: EvalIndex | None = None,
) -> tuple[DatasetDict, dict[str, Any]]:
    """Remove rows of `cfg.splits` (train) whose `columns` share an n-gram with an eval item.

    `columns=None` checks whichever of text/prompt/completion/messages exist. Returns (new DatasetDict, stats);
    stats["matches"] lists (row id, eval id, n-gram) and stats["matched_eval_items"] counts rows per eval item.
    """
    stats: dict[str, Any] = {"ngram": cfg.ngram, "evals": {}, "eval_items": 0, "removed": 0,
                             "by_split": {}, "matched_eval_items": {}, "matches": [], "matches_truncated": False}
    if not cfg.enabled or not cfg.evals:
        stats["skipped"] = True
        return dsd, stats
    if index is None:
        index = build_index(cfg)
    stats["evals"] = dict(index.items)
    stats["eval_items"] = sum(index.items.values())
    matched: Counter[str] = Counter()
    out = dict(dsd)
    for split in cfg.splits:
        if split not in dsd:
            continue
        ds = dsd[split]
        cols = [c for c in (columns or DEFAULT_COLUMNS) if c in ds.column_names]
        if not cols:
            raise KeyError(f"decontaminate: split {split!r} has none of the columns {list(columns or DEFAULT_COLUMNS)}")
        has_id = "id" in ds.column_names
        keep: list[int] = []
        removed = 0
        read = ds.select_columns(cols + (["id"] if has_id else []))
        for idx, row in enumerate(_rows(read)):
            hit = None
            for c in cols:
                for text in iter_strings(row[c]):  # message contents one by one: no n-gram spans two turns
                    hit = index.find(text)
                    if hit:
                        break
                if hit:
                    break
            if hit is None:
                keep.append(idx)
                continue
            removed += 1
            matched[hit[0]] += 1
            if len(stats["matches"]) < cfg.max_matches:
                stats["matches"].append({"row_id": row["id"] if has_id else idx, "split": split,
                                         "eval_id": hit[0], "ngram": hit[1]})
            else:
                stats["matches_truncated"] = True
        stats["by_split"][split] = {"before": len(ds), "removed": removed, "after": len(keep)}
        stats["removed"] += removed
        if removed:
            out[split] = ds.select(keep)
        log.info("decontaminate %s: %d of %d rows dropped", split, removed, len(ds))
    stats["matched_eval_items"] = dict(matched.most_common())
    return DatasetDict(out), stats
