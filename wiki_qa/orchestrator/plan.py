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
    chunks: Any = None            # the LLM step's input rows (the judge and item stats read passages there)
    generation: Any = None        # the LLM step's LLMStats (the judge reports its cost against them)


def plan(cfg) -> list[steps.Step]:
    candidates = [steps.Dedup(), steps.PairChunks(), steps.Generate(), steps.Dedup(after_generate=True),
                  steps.DedupQuestions(), steps.RoundTrip(), steps.Judge(), steps.Preference(),
                  steps.Decontaminate(), steps.ItemStats(), steps.Format()]
    chosen = [s for s in candidates if s.applies(cfg)]
    for s in chosen:
        s.check(cfg)
    return chosen


def needs_whole_dataset(cfg) -> bool:
    """Steps that look across splits or call an LLM need the materialized dataset, not a stream."""
    return any(not isinstance(s, steps.Format) for s in plan(cfg))
