"""How the pipeline's two heavy phases are scheduled. Steps never know which executor runs them.

Every executor module provides the same two functions:
- `stages(cfg, *, num_proc, cache_dir, refresh) -> (DatasetDict, stage_stats)`: source -> clean -> chunk -> split
- `generate(dsd, cfg, *, num_proc, refresh, stats) -> DatasetDict`: the LLM map step
and must give identical rows (same ids, same splits) for the same config.
"""
from __future__ import annotations

import importlib


def get(engine: str):
    return importlib.import_module(f"wiki_qa.executor.{engine}")
