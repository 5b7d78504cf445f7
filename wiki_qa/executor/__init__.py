"""How the pipeline's two heavy phases are scheduled. Steps never know which executor runs them.

Every executor module provides the same two functions:
- `stages(cfg, *, num_proc, cache_dir, refresh) -> (DatasetDict, stage_stats)`: source -> clean -> chunk -> split
- `generate(dsd, cfg, *, num_proc, refresh, stats) -> DatasetDict`: the LLM map step
and must give identical rows (same ids, same splits, same order) for the same config. The stage rows are
put in one canonical order, (doc_id, chunk_id, id), so the order depends neither on the engine nor on how
the input was cut into parallel parts (num_proc); the LLM step keeps its input order.
"""
from __future__ import annotations

import importlib

ORDER = [("doc_id", "ascending"), ("chunk_id", "ascending"), ("id", "ascending")]


def canonical_indices(table):
    """Row indices of an Arrow table in the canonical order (the one function both engines use)."""
    import pyarrow.compute as pc

    return pc.sort_indices(table.select([c for c, _ in ORDER]), sort_keys=ORDER)


def canonical(ds):
    """A datasets.Dataset in the canonical row order (a no-op when it is already)."""
    if ds.num_rows < 2:
        return ds
    idx = canonical_indices(ds.with_format("arrow")[:]).to_pylist()
    if idx == list(range(ds.num_rows)):
        return ds
    return ds.select(idx)


def get(engine: str):
    return importlib.import_module(f"wiki_qa.executor.{engine}")
