"""The LLM map step: one shared engine (concurrency, retries, cache, cost) serving small tasks.

    ds = wiki_qa.llm.generate(chunks, task="qa", llm={"model": "gpt-4o-mini", "concurrency": 32})

Layout: config.py (the `llm:` and `generate:` sections), tasks/ (one class per task), engine.py (one
request and one row: retries, AIMD, re-asks, cache, cost), endpoints.py (routing, breaker, preflight),
step.py (the Dataset map and the --dry-run estimate). Imports only wiki_qa.{configbase,errors,paths,tokens}.
"""
from __future__ import annotations

# Imported on first use: a build's config reads llm.config (its sections' models) without paying for the
# engine's transport (aiohttp) when it has no LLM step.
_LAZY = {"GenerateConfig": "config", "LLMConfig": "config", "preflight": "endpoints", "LLMStats": "stats",
         "estimate": "step", "generate": "step", "Task": "tasks", "TaskConfig": "tasks"}

__all__ = ["GenerateConfig", "LLMConfig", "LLMStats", "Task", "TaskConfig", "estimate", "generate", "preflight"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"wiki_qa.llm.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'wiki_qa.llm' has no attribute {name!r}")
