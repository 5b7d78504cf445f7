"""The LLM map step: one shared engine (concurrency, retries, cache, cost) serving small tasks.

    ds = wiki_qa.llm.generate(chunks, task="qa", llm={"model": "gpt-4o-mini", "concurrency": 32})
"""
from wiki_qa.llm.config import GenerateConfig
from wiki_qa.llm.generate import estimate, generate, preflight
from wiki_qa.llm.stats import LLMStats

__all__ = ["GenerateConfig", "LLMStats", "estimate", "generate", "preflight"]
