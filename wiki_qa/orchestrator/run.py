"""A whole build: stages -> the planned steps -> atomic save + build_report.json + card + HTML report.

`dataset_dict(cfg)` is the one function both entry points use: `wiki-qa build` saves its result to
`output.dir`; `load_dataset("wiki_qa", …)` stores it in the datasets cache. Each step is a DatasetDict ->
DatasetDict function whose results datasets caches by fingerprint, and the LLM step caches every response
in sqlite, so a rerun after a crash repeats no paid call.
"""
from __future__ import annotations

import datetime
import json
import logging
import shlex
import time
from pathlib import Path

from wiki_qa import executor
from wiki_qa.errors import UserError
from wiki_qa.llm.cache_check import repair as repair_cache
from wiki_qa.llm.stats import transient
from wiki_qa.orchestrator.plan import Context, plan
from wiki_qa.orchestrator.report import new_report
from wiki_qa.orchestrator.save import claim_output_dir, save_atomically
from wiki_qa.publish import publish as do_publish
from wiki_qa.publish import validate_destinations
from wiki_qa.publish.card import write_card
from wiki_qa.rows import SPLITS
from wiki_qa.viz import write_page

log = logging.getLogger("wiki_qa")
TRANSIENT_SHARE = 0.05  # of the LLM step's chunks: more failed for transient reasons makes the build partial


def dataset_dict(cfg, num_proc: int | None = None, cache_dir: str | None = None, refresh: bool = False,
                 with_report: bool = False):
    t0 = time.perf_counter()
    ctx = Context(cfg, executor.get(cfg.engine), num_proc or cfg.num_proc, refresh)
    dsd, stage_stats = ctx.executor.stages(cfg, num_proc=ctx.num_proc, cache_dir=cache_dir, refresh=refresh)
    report = new_report(cfg, stage_stats, dsd)
    report["timings_s"]["stages"] = round(time.perf_counter() - t0, 3)
    for step in plan(cfg):
        t = time.perf_counter()
        dsd, section = step(dsd, ctx)
        if section is not None:
            report[step.section or step.name] = section
        report["timings_s"][step.name] = round(time.perf_counter() - t, 3)
    report["splits"] = {s: dsd[s].num_rows for s in SPLITS}
    return (dsd, report) if with_report else dsd


def run(cfg, *, output: str | None = None, num_proc: int | None = None, refresh: bool = False,
        publish: bool = True, force: bool = False) -> dict:
    """`wiki-qa build`: the DatasetDict saved atomically to output.dir, with build_report.json and card.
    `force` lets the build replace an output.dir that is not an earlier build (never /, ~ or the cwd)."""
    t0 = time.perf_counter()
    out = claim_output_dir(Path(output or cfg.out_dir).expanduser(), force=force)  # before any work
    if refresh:
        _repair_llm_cache(cfg)
    if publish and (cfg.output.push_to_hub or cfg.output.s3):
        # before any work: an hours-long run must not die on a typo, a public repo or another build's config
        validate_destinations(cfg.output, build={"name": cfg.name, "format": cfg.format.type})
    dsd, report = dataset_dict(cfg, num_proc=num_proc, refresh=refresh, with_report=True)
    if sum(report["splits"].values()) == 0:
        raise UserError(f"{cfg.inputs_label()}: the build is empty: {_why_empty(report)}")
    t = time.perf_counter()

    def finish(folder: Path) -> None:
        report["timings_s"]["write"] = round(time.perf_counter() - t, 3)
        report["timings_s"]["total"] = round(time.perf_counter() - t0, 3)
        report["finished_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        _write_extras(folder, report, cfg)

    save_atomically(dsd, out, finish, write=executor.get(cfg.engine).save_rows)
    if retry := _partial_llm(report):
        log.warning("%s: %s; saved, not published: rerun `wiki-qa build %s --output %s` (with the same --set "
                    "options) to ask them again, every answer so far comes from the cache", out, retry,
                    shlex.quote(cfg.config_path()), shlex.quote(str(out)))
    if publish and (cfg.output.push_to_hub or cfg.output.s3):
        partial = _partial_source(cfg, report) or retry
        if partial:
            log.warning("%s: not published: %s; check the build, then `wiki-qa push %s`", out, partial, out)
            report["published"] = {"skipped": partial}
        else:
            report["published"] = do_publish(str(out), cfg.output, config_name=None)
        (out / "build_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return report


def _partial_source(cfg, report: dict) -> str | None:
    """Why this build saw only part of its input (then it is saved but never pushed automatically)."""
    if report["source"].get("truncated"):
        return "the input ends early (truncated)"
    if cfg.limit:
        return f"--limit {cfg.limit} read only part of the input"
    return None


def _partial_llm(report: dict) -> str | None:
    """Why the LLM step's result is partial: more than TRANSIENT_SHARE of its chunks failed for reasons a
    rerun can fix (timeouts, connection errors, 429s, 5xx, unfinished batches). Such a build is saved but
    never pushed as finished."""
    llm = report.get("llm") or {}
    chunks = sum((llm.get("outcomes") or {}).values())
    failed = {r: n for r, n in (llm.get("failures") or {}).items() if transient(r)}
    if not chunks or sum(failed.values()) <= TRANSIENT_SHARE * chunks:
        return None
    reasons = ", ".join(f"{r} {n}" for r, n in sorted(failed.items(), key=lambda kv: -kv[1]))
    return f"the LLM step failed for {sum(failed.values())} of {chunks} chunks for reasons a rerun can fix ({reasons})"


def _repair_llm_cache(cfg) -> None:
    """--refresh moves a damaged LLM response cache aside (else the build stops on it with one line)."""
    if cfg.llm is not None and (aside := repair_cache(path := cfg.llm.cache_path())):
        log.warning("%s: the LLM response cache was damaged; moved aside to %s", path, aside)


def _why_empty(report: dict) -> str:
    src, llm = report["source"], report.get("llm") or {}
    why = (f"; the LLM step kept nothing: outcomes {llm.get('outcomes')}, failures {llm.get('failures')}"
           if llm else "")
    return (f"{src['pages_seen']} pages seen, {src['documents']} documents, {report['chunks']} chunks, "
            f"skipped {src['skipped'] or 'none'}{why}")


def _write_extras(folder: Path, report: dict, cfg) -> None:
    """build_report.json, the HTML report, then the card (which embeds the report's main plot)."""
    (folder / "build_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    write_page(folder, update_card=False)
    write_card(str(folder), report, cfg.echo_yaml())
