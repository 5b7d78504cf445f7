"""How the pipeline's heavy phases are scheduled. Steps never know which executor runs them.

Every executor module provides the same four functions:
- `stages(cfg, *, num_proc, cache_dir, refresh) -> (DatasetDict, stage_stats)`: source -> clean -> chunk -> split
- `generate(dsd, cfg, *, num_proc, refresh, stats) -> DatasetDict`: the LLM map step
- `format_rows(dsd, format_cfg, *, num_proc) -> DatasetDict`: the format step, on the workers
- `save_rows(dsd, folder)`: the rows written as a save_to_disk folder (Ray: by its workers, so that its
  driver never reads every row and its memory does not grow with the input)
and must give identical rows (same ids, same splits, same order) for the same config. Stage rows are in
*input order*: shard after shard, as `source.shards()` lists them, and within a shard as `source.read`
yields them. Shards tile the input in order (files, then byte ranges of a file), so that order is the
input's own and depends neither on the engine nor on how the input was cut; and putting the splits
together is a concatenation of the shards' files, with no sort over all rows. The LLM step keeps its
input order.

This room may import pipeline, builders and llm; it never imports the orchestrator (wiki_qa.orchestrator).
"""
from __future__ import annotations

import importlib

from wiki_qa.rows import SPLITS


def split_positions(split_column) -> dict:
    """Row positions of each split, in row order, from the Arrow `split` column of a stage table (one
    column read; positions as Arrow arrays, 8 bytes a row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return {s: pc.indices_nonzero(pc.equal(split_column, s)).cast(pa.int64()) for s in SPLITS}


def get(engine: str):
    return importlib.import_module(f"wiki_qa.executor.{engine}")
