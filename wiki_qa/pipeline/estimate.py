"""`wiki-qa build --dry-run`: what a build would produce and cost, before anything is spent.

Runs the free stages (read, clean, chunk, split; cached for the real run) and hands the chunks to the LLM
room's estimator, which counts prompt tokens with tiktoken and prices them from the YAML price table.
"""
from __future__ import annotations

from wiki_qa.pipeline.split import SPLITS


def dry_run(cfg, num_proc: int | None = None) -> dict:
    from wiki_qa.hf_builder import load_stage_stats
    from wiki_qa.pipeline.build import new_report, stage_builder

    builder = stage_builder(cfg)
    builder.download_and_prepare(num_proc=num_proc or cfg.num_proc)
    dsd = builder.as_dataset()
    report = new_report(cfg, load_stage_stats(builder.cache_dir), dsd)
    out = {"name": cfg.name, "documents": report["source"]["documents"],
           "pages_seen": report["source"]["pages_seen"], "skipped": report["source"]["skipped"],
           "chunks": {s: dsd[s].num_rows for s in SPLITS}, "llm": None}
    if cfg.generate:
        from wiki_qa.llm import estimate

        out["llm"] = estimate((row for s in SPLITS for row in dsd[s]), cfg.llm, cfg.generate)
    return out
