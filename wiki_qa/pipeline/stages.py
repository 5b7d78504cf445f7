"""source -> split -> clean -> chunk for one input shard, as one row generator for all three splits.

The split is decided from doc_id before cleaning, so every document is read once and cleaned once, and
each row carries its `split`; the executor cuts the rows into splits afterwards (a cheap Arrow filter).
Memory stays constant: one document at a time.
"""
from __future__ import annotations

import time
from typing import Iterator

import datasets

from wiki_qa.builders import make_source
from wiki_qa.builders.base import SourceStats
from wiki_qa.pipeline import formats
from wiki_qa.pipeline.chunk import Chunker, chunk_rows
from wiki_qa.pipeline.split import assign_split
from wiki_qa.rows import SPLITS, example_row


class StageStats:
    """Counters and timings of one shard's job; saved as JSON and summed into the report."""

    def __init__(self):
        self.source = SourceStats()
        self.counts: dict[str, int] = {}
        self.timings = {"read": 0.0, "clean": 0.0, "chunk": 0.0}
        # split -> {chunk size: chunks}, in the chunker's unit: the report draws token lengths from these
        # instead of counting every row again
        self.sizes: dict[str, dict[int, int]] = {}

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def to_json(self) -> dict:
        return {"source": self.source.to_json(), "counts": self.counts, "timings": self.timings,
                "sizes": {s: {str(k): v for k, v in sorted(h.items())} for s, h in self.sizes.items()}}


def features(source_kind: str) -> datasets.Features:
    """Stage rows: chunk rows (`text`) or example rows (`prompt`/`completion`), plus their `split`."""
    feats = formats.features("text" if source_kind == "documents" else "completion")
    return datasets.Features({**feats, "split": datasets.Value("string")})


def stage_rows(cfg, shard: str, stats: StageStats) -> Iterator[dict]:
    """Rows of every split from `shard`: chunk rows for document sources, example rows for example sources."""
    source = make_source(cfg.source, clean=cfg.clean)
    chunker = Chunker(cfg.chunk) if source.kind == "documents" else None
    docs = source.read(shard, stats.source, limit=cfg.limit)
    t = time.perf_counter()
    for doc in docs:
        now = time.perf_counter()
        stats.timings["read"] += now - t
        split = doc.get("split") or assign_split(doc["doc_id"], cfg.split)
        stats.add(f"documents_{split}")
        if source.kind == "examples":
            yield {**example_row(doc), "split": split}
        else:
            text = source.to_text(doc, stats.source)
            t2 = time.perf_counter()
            stats.timings["clean"] += t2 - now
            if not text.strip():
                stats.add("empty_after_clean")
            sizes: list[int] = []
            for row in chunk_rows(doc, text, chunker, stats.counts, sizes):
                row["split"] = split
                yield row
            hist = stats.sizes.setdefault(split, {})
            for n in sizes:
                hist[n] = hist.get(n, 0) + 1
            stats.add("chunks", len(sizes))
            stats.timings["chunk"] += time.perf_counter() - t2
        t = time.perf_counter()


def documents_per_split(counts: dict) -> dict:
    return {s: counts.get(f"documents_{s}", 0) for s in SPLITS}
