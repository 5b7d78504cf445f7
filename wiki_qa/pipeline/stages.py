"""source -> split filter -> clean -> chunk, for one split of one input shard, as a row generator.

The split is decided from doc_id before cleaning, so each document is cleaned once even though every split
makes its own pass over the input. Memory stays constant: one document at a time.
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Iterator

from wiki_qa.builders import make_source
from wiki_qa.builders.base import SourceStats
from wiki_qa.pipeline.chunk import Chunker, chunk_rows
from wiki_qa.pipeline.split import assign_split


class StageStats:
    """Counters and timings of one (split, shard) job; saved as JSON and summed into the report."""

    def __init__(self):
        self.source = SourceStats()
        self.counts: dict[str, int] = {}
        self.timings = {"read": 0.0, "clean": 0.0, "chunk": 0.0}

    def to_json(self) -> dict:
        return {"source": self.source.to_json(), "counts": self.counts, "timings": self.timings}


def in_part(doc_id: str, part: tuple[int, int] | None) -> bool:
    """Jobs k of n over one file each parse it all but clean only their 1/n of the documents."""
    if not part or part[1] == 1:
        return True
    return int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:8], 16) % part[1] == part[0]


def split_rows(cfg, split: str, shard: str, stats: StageStats, part: tuple[int, int] | None = None
               ) -> Iterator[dict]:
    """Rows of `split` from `shard`: chunk rows for document sources, example rows for example sources."""
    source = make_source(cfg.source, clean=cfg.clean)
    chunker = Chunker(cfg.chunk) if source.kind == "documents" else None
    docs = source.read(shard, stats.source, limit=cfg.limit)
    t = time.perf_counter()
    for doc in docs:
        now = time.perf_counter()
        stats.timings["read"] += now - t
        doc_split = doc.get("split") or assign_split(doc["doc_id"], cfg.split)
        if doc_split == split and in_part(doc["doc_id"], part):
            if source.kind == "examples":
                yield _example_row(doc)
            else:
                text = source.to_text(doc, stats.source)
                t2 = time.perf_counter()
                stats.timings["clean"] += t2 - now
                if not text.strip():
                    stats.counts["empty_after_clean"] = stats.counts.get("empty_after_clean", 0) + 1
                n = 0
                for row in chunk_rows(doc, text, chunker, stats.counts):
                    n += 1
                    yield row
                stats.counts["chunks"] = stats.counts.get("chunks", 0) + n
                stats.counts["documents_in_split"] = stats.counts.get("documents_in_split", 0) + 1
                stats.timings["chunk"] += time.perf_counter() - t2
        t = time.perf_counter()


def _example_row(doc: dict) -> dict:
    return {
        "id": doc.get("id") or doc["doc_id"], "doc_id": doc["doc_id"], "chunk_id": doc.get("chunk_id", -1),
        "title": doc.get("title") or "", "prompt": doc["prompt"], "completion": doc["completion"],
        "url": doc.get("url") or "", "lang": doc.get("lang") or "und", "source": doc.get("source") or "",
        "meta": json.dumps(doc.get("meta") or {}, ensure_ascii=False, sort_keys=True, default=str),
    }
