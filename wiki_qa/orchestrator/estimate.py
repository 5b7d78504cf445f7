"""`wiki-qa build --dry-run`: what a build would produce and cost, before anything is spent.

Runs the free stages (read, clean, chunk, split; cached for the real run) and hands the chunks to the LLM
room's estimator, which counts prompt tokens with tiktoken and prices them from the YAML price table. With a
`judge:` or `validate.roundtrip`, that pass is estimated the same way: one request per chunk holding the
items the generation is expected to give (a qa_multihop build is estimated on its chunks, not on the pairs
it would make). With a `preference:`, its requests are estimated as an upper bound (every attempt made,
every pair judged).
"""
from __future__ import annotations

from wiki_qa import executor
from wiki_qa.llm import estimate
from wiki_qa.llm.config import resolve
from wiki_qa.llm.tasks.judge import Judge
from wiki_qa.orchestrator.preference import estimate_pairs
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
        if cfg.judge is not None and cfg.judge.enabled:
            out["judge"] = _judge_estimate(cfg, dsd)
        if getattr(cfg.generate, "validate_", None) is not None and cfg.generate.validate_.roundtrip:
            out["roundtrip"] = _roundtrip_estimate(cfg, dsd)
    if cfg.preference is not None:
        out["preference"] = estimate_pairs(cfg, _example_rows(cfg, dsd))
    return out


def _item_rows(cfg, dsd):
    """A stand-in row per chunk holding the items the generation is expected to give (what the judge and
    the round trip are sent)."""
    task, _ = resolve(cfg.generate, cfg.llm)
    for s in SPLITS:
        for row in dsd[s]:
            n, per = task.estimate(row) if task.asks(row) else (0, 0)
            if n:
                yield Judge.estimate_row(row, n, per)


def _example_rows(cfg, dsd):
    """The rows the preference step would get: a source's examples, or stand-ins of the generated items (the
    passage's opening as the prompt, the estimated answer length as the completion)."""
    if not cfg.generate:
        yield from (row for s in SPLITS for row in dsd[s])
        return
    task, _ = resolve(cfg.generate, cfg.llm)
    for s in SPLITS:
        for row in dsd[s]:
            n, per = task.estimate(row) if task.asks(row) else (0, 0)
            for k in range(n):
                yield {"id": f"{row['id']}/{k}", "title": row["title"], "lang": row["lang"],
                       "prompt": " ".join(row["text"].split()[:30]), "completion": " ".join(["word"] * max(1, per))}


def _judge_estimate(cfg, dsd) -> dict:
    from wiki_qa.orchestrator.steps import Judge as JudgeStep

    llm = JudgeStep().llm(cfg)
    est = estimate(_item_rows(cfg, dsd), llm, Judge(cfg.judge, None, llm.model))
    return {**est, "task": "judge", "min_score": cfg.judge.min_score}


def _roundtrip_estimate(cfg, dsd) -> dict:
    from wiki_qa.llm.tasks.roundtrip import RoundTrip, RoundTripConfig
    from wiki_qa.orchestrator.steps import RoundTrip as RoundTripStep

    llm = RoundTripStep().llm(cfg)
    est = estimate(_item_rows(cfg, dsd), llm, RoundTrip(RoundTripConfig(), None, llm.model))
    return {**est, "task": "roundtrip", "min_f1": cfg.generate.validate_.roundtrip_min_f1}
