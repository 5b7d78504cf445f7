"""`wiki-qa build --dry-run`: what a build would produce and cost, before anything is spent.

Runs the free stages (read, clean, chunk, split; cached for the real run) and hands the chunks to the LLM
room's estimator, which counts prompt tokens with tiktoken and prices them from the YAML price table.
"""
from __future__ import annotations

from wiki_qa import executor
from wiki_qa.llm import estimate
from wiki_qa.orchestrator.report import new_report
from wiki_qa.rows import SPLITS


def dry_run(cfg, num_proc: int | None = None) -> dict:
    dsd, stage_stats = executor.get("local").stages(cfg, num_proc=num_proc or cfg.num_proc)
    report = new_report(cfg, stage_stats, dsd)
    out = {"name": cfg.name, "documents": report["source"]["documents"],
           "pages_seen": report["source"]["pages_seen"], "skipped": report["source"]["skipped"],
           "chunks": {s: dsd[s].num_rows for s in SPLITS}, "llm": None}
    if cfg.generate:
        out["llm"] = estimate((row for s in SPLITS for row in dsd[s]), cfg.llm, cfg.generate)
    return out
