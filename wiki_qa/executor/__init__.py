"""How the pipeline's two heavy phases are scheduled. Steps never know which executor runs them.

Every executor module provides the same two functions:
- `stages(cfg, *, num_proc, cache_dir, refresh) -> (DatasetDict, stage_stats)`: source -> clean -> chunk -> split
- `generate(dsd, cfg, *, num_proc, refresh, stats) -> DatasetDict`: the LLM map step
and must give identical rows (same ids, same splits, same order) for the same config. Stage rows are put
in one canonical order, (doc_id, chunk_id, id), so the order depends neither on the engine nor on how the
input was cut into shards; the LLM step keeps its input order.

This room may import pipeline, builders and llm; it never imports the orchestrator (wiki_qa.orchestrator).
"""
from __future__ import annotations

import importlib

from wiki_qa.rows import SPLITS

ORDER = [("doc_id", "ascending"), ("chunk_id", "ascending"), ("id", "ascending")]


def split_indices(table) -> dict[str, list[int]]:
    """Row positions of each split in an Arrow table of stage rows (with a `split` column), each in the
    canonical order. Only the four key columns are read."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = table.select(["split", *[c for c, _ in ORDER]])
    keys = keys.append_column("_pos", pa.array(range(keys.num_rows), pa.int64()))
    out = {}
    for s in SPLITS:
        part = keys.filter(pc.equal(keys.column("split"), s))
        out[s] = pc.take(part.column("_pos"), pc.sort_indices(part, sort_keys=ORDER)).to_pylist()
    return out


def get(engine: str):
    return importlib.import_module(f"wiki_qa.executor.{engine}")
