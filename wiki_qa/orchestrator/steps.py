"""The steps of a build after the stages. Each is small: whether it applies to a config, and what it does.

A step returns the new DatasetDict and the name and content of its build_report.json section (or None).
"""
from __future__ import annotations

import datasets

from wiki_qa.errors import UserError
from wiki_qa.llm.stats import LLMStats
from wiki_qa.pipeline import formats
from wiki_qa.quality import decontaminate, dedup
from wiki_qa.rows import SPLITS


class Step:
    name = "step"   # its key in timings_s
    section = None  # its key in build_report.json (default: name)

    def applies(self, cfg) -> bool:
        return True

    def __call__(self, dsd: datasets.DatasetDict, ctx) -> tuple[datasets.DatasetDict, dict | None]:
        raise NotImplementedError


def _is_chunks(dsd) -> bool:
    return "text" in dsd[SPLITS[0]].column_names


class Dedup(Step):
    """Exact and MinHash near-duplicates across splits: on the chunks, or on the generated prompts."""

    def __init__(self, after_generate: bool = False):
        self.after_generate = after_generate
        self.name = "dedup_generated" if after_generate else "dedup"

    def applies(self, cfg) -> bool:
        return cfg.dedup.enabled and (not self.after_generate or cfg.generate is not None)

    def __call__(self, dsd, ctx):
        if self.after_generate and _is_chunks(dsd):
            return dsd, None  # the source gave examples: nothing was generated
        return dedup(dsd, ctx.cfg.dedup, column="text" if _is_chunks(dsd) else "prompt")


class Generate(Step):
    """The LLM map step, on chunk rows only (example sources are examples already)."""

    name, section = "generate", "llm"

    def applies(self, cfg) -> bool:
        return cfg.generate is not None

    def __call__(self, dsd, ctx):
        if not _is_chunks(dsd):
            return dsd, None
        stats = LLMStats()
        dsd = ctx.executor.generate(dsd, ctx.cfg.generate, ctx.cfg.llm, num_proc=ctx.num_proc, refresh=ctx.refresh,
                                    stats=stats)
        return dsd, stats.to_json()


class Decontaminate(Step):
    name = "decontaminate"

    def applies(self, cfg) -> bool:
        return cfg.decontaminate.enabled and bool(cfg.decontaminate.evals)

    def __call__(self, dsd, ctx):
        return decontaminate(dsd, ctx.cfg.decontaminate)


class Format(Step):
    """completion | text | messages, with the fixed metadata columns."""

    name = "format"

    def __call__(self, dsd, ctx):
        try:
            out = datasets.DatasetDict({s: formats.apply(dsd[s], ctx.cfg.format) for s in SPLITS})
        except ValueError as e:
            raise UserError(f"{ctx.cfg.config_path()}: {e}") from None
        return out, None
