"""The LLM map step: one shared engine (concurrency, retries, cache, cost) serving small tasks.

    ds = wiki_qa.llm.generate(chunks, task="qa", llm={"model": "gpt-4o-mini", "concurrency": 32})

Layout: config.py (the `llm:` and `generate:` sections), tasks/ (one class per task), engine.py (one
request and one row: retries, AIMD, re-asks, cache, cost), endpoints.py (routing, breaker, preflight),
step.py (the Dataset map and the --dry-run estimate). Imports only wiki_qa.{configbase,errors,paths,tokens}.
"""
from wiki_qa.llm.config import GenerateConfig, LLMConfig
from wiki_qa.llm.endpoints import preflight
from wiki_qa.llm.stats import LLMStats
from wiki_qa.llm.step import estimate, generate
from wiki_qa.llm.tasks import Task, TaskConfig

__all__ = ["GenerateConfig", "LLMConfig", "LLMStats", "Task", "TaskConfig", "estimate", "generate", "preflight"]
