"""A build's steps after the stages, in order. Each step is `DatasetDict -> (DatasetDict, report section)`
and gets the executor from the context: a step never imports one, and executors never import this room."""
from __future__ import annotations

import dataclasses
from typing import Any

from wiki_qa.orchestrator import steps


@dataclasses.dataclass
class Context:
    cfg: Any                      # the BuildConfig
    executor: Any                 # wiki_qa.executor.local or .ray
    num_proc: int | None = None
    refresh: bool = False


def plan(cfg) -> list[steps.Step]:
    candidates = [steps.Dedup(), steps.Generate(), steps.Dedup(after_generate=True), steps.Decontaminate(),
                  steps.Format()]
    return [s for s in candidates if s.applies(cfg)]


def needs_whole_dataset(cfg) -> bool:
    """Steps that look across splits or call an LLM need the materialized dataset, not a stream."""
    return any(not isinstance(s, steps.Format) for s in plan(cfg))
