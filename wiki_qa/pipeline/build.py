"""A whole build: stages -> [dedup] -> [LLM] -> [decontaminate] -> format -> atomic save + report + card.

`dataset_dict(cfg)` is the one function both entry points use: `wiki-qa build` saves its result to
`output.dir`; `load_dataset("wiki_qa", …)` stores it in the datasets cache. Each step is a DatasetDict ->
DatasetDict function whose results datasets caches by fingerprint, and the LLM step caches every response
in sqlite, so a rerun after a crash repeats no paid call.
"""
from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path

import datasets

import wiki_qa
from wiki_qa.errors import UserError
from wiki_qa.pipeline import formats
from wiki_qa.pipeline.split import SPLITS

log = logging.getLogger("wiki_qa")


@functools.lru_cache(maxsize=1)
def code_hash() -> str:
    """Hash of wiki_qa's own code: a new version of a cleaning rule must not reuse old cached output."""
    root = Path(wiki_qa.__file__).parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.suffix in (".py", ".txt", ".j2", ".md") and "__pycache__" not in p.parts:
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


@contextlib.contextmanager
def user_errors_unwrapped():
    """datasets wraps whatever a generator raises in DatasetGenerationError; a UserError inside (a bad
    namespace name, a stub dump) must still reach the CLI as the one-line error it is."""
    try:
        yield
    except datasets.exceptions.DatasetGenerationError as e:
        cause = e.__cause__ or e.__context__
        while cause is not None and not isinstance(cause, UserError):
            cause = cause.__cause__ or cause.__context__
        if cause is not None:
            raise cause from None
        raise


def needs_whole_dataset(cfg) -> bool:
    """Steps that look across splits or call an LLM need the materialized dataset, not a stream."""
    return bool(cfg.generate or cfg.dedup.enabled or (cfg.decontaminate.enabled and cfg.decontaminate.evals))


def stage_builder(cfg, cache_dir: str | None = None):
    from wiki_qa.builders import make_source
    from wiki_qa.hf_builder import WikiQAStages, builder_kwargs

    inputs = make_source(cfg.source).identity()
    kw = builder_kwargs(cfg, inputs, code_hash())
    kw.pop("config_name")
    return WikiQAStages(cache_dir=cache_dir, dataset_name="wiki_qa_stages", hash=code_hash(), **kw)


class BuildResult:
    def __init__(self, dsd: datasets.DatasetDict, report: dict):
        self.dataset_dict, self.report = dsd, report


def dataset_dict(cfg, num_proc: int | None = None, cache_dir: str | None = None, refresh: bool = False,
                 with_report: bool = False):
    from wiki_qa import executor

    t0 = time.perf_counter()
    num_proc = num_proc or cfg.num_proc
    engine = executor.get(cfg.engine)
    dsd, stage_stats = engine.stages(cfg, num_proc=num_proc, cache_dir=cache_dir, refresh=refresh)
    report = new_report(cfg, stage_stats, dsd)
    report["timings_s"]["stages"] = round(time.perf_counter() - t0, 3)

    if cfg.dedup.enabled:
        from wiki_qa.quality import dedup

        dsd, report["dedup"] = dedup(dsd, cfg.dedup, column="text" if "text" in dsd["train"].column_names
                                     else "prompt")
    if cfg.generate and "text" in dsd["train"].column_names:  # example sources are examples already
        t = time.perf_counter()
        from wiki_qa.llm.stats import LLMStats

        stats = LLMStats()
        dsd = engine.generate(dsd, cfg.generate, cfg.llm, num_proc=num_proc, refresh=refresh, stats=stats)
        report["llm"] = stats.to_json()
        report["timings_s"]["generate"] = round(time.perf_counter() - t, 3)
        if cfg.dedup.enabled:
            dsd, report["dedup_generated"] = dedup(dsd, cfg.dedup, column="prompt")
    if cfg.decontaminate.enabled and cfg.decontaminate.evals:
        from wiki_qa.quality import decontaminate

        dsd, report["decontaminate"] = decontaminate(dsd, cfg.decontaminate)
    t = time.perf_counter()
    try:
        dsd = datasets.DatasetDict({s: formats.apply(dsd[s], cfg.format, num_proc=None) for s in SPLITS})
    except ValueError as e:
        raise UserError(f"{cfg.__dict__.get('_path', cfg.name)}: {e}") from None
    report["timings_s"]["format"] = round(time.perf_counter() - t, 3)
    report["splits"] = {s: dsd[s].num_rows for s in SPLITS}
    return (dsd, report) if with_report else dsd


def new_report(cfg, stage_stats: list[dict], stage_dsd) -> dict:
    from wiki_qa.builders.base import SourceStats
    from wiki_qa.report import config_echo

    # Every split's pass reads the whole input, so source counters come from the train passes of part 0.
    source = SourceStats()
    counts: dict[str, int] = {}
    per_split = {s: 0 for s in SPLITS}
    timings = {"read": 0.0, "clean": 0.0, "chunk": 0.0}
    for st in stage_stats:
        per_split[st["split"]] += st["counts"].get("documents_in_split", 0)
        if st["split"] == "train" and st["part"][0] == 0:
            source.merge(SourceStats.from_json(st["source"]))
        for k, v in st["counts"].items():
            counts[k] = counts.get(k, 0) + v
        for k, v in st["timings"].items():
            timings[k] = timings.get(k, 0.0) + v
    return {
        "name": cfg.name,
        "config": config_echo(cfg),
        "versions": {"wiki_qa": wiki_qa.__version__, "datasets": datasets.__version__, "code": code_hash()},
        "source": source.to_json(),
        "chunks": counts.get("chunks", sum(stage_dsd[s].num_rows for s in SPLITS)),
        "dropped": {k: v for k, v in counts.items() if k not in ("chunks", "documents_in_split")},
        "documents_per_split": per_split,
        "splits": {s: stage_dsd[s].num_rows for s in SPLITS},
        "llm": None,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }


def run(cfg, *, output: str | None = None, num_proc: int | None = None, refresh: bool = False,
        publish: bool = True) -> dict:
    """`wiki-qa build`: the DatasetDict saved atomically to output.dir, with build_report.json and card."""
    t0 = time.perf_counter()
    out = Path(output or cfg.out_dir)
    if publish and (cfg.output.push_to_hub or cfg.output.s3):
        from wiki_qa.publish import validate_destinations

        validate_destinations(cfg.output)  # before any work: an hours-long run must not die on a typo
    dsd, report = dataset_dict(cfg, num_proc=num_proc, refresh=refresh, with_report=True)
    if sum(report["splits"].values()) == 0:
        src = report["source"]
        llm = report.get("llm") or {}
        why = (f"; the LLM step kept nothing: outcomes {llm.get('outcomes')}, failures {llm.get('failures')}"
               if llm else "")
        raise UserError(f"{_inputs(cfg)}: the build is empty: {src['pages_seen']} pages seen, "
                        f"{src['documents']} documents, {report['chunks']} chunks, skipped "
                        f"{src['skipped'] or 'none'}{why}")
    t = time.perf_counter()
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        save_dataset_dict(dsd, str(tmp))
        report["timings_s"]["write"] = round(time.perf_counter() - t, 3)
        report["timings_s"]["total"] = round(time.perf_counter() - t0, 3)
        report["finished_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        (tmp / "build_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
        from wiki_qa.viz import write_report

        write_report(tmp, update_card=False)  # before the card, which embeds its main plot
        _card(tmp, report, cfg)
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if publish and (cfg.output.push_to_hub or cfg.output.s3):
        from wiki_qa.publish import publish as do_publish

        report["published"] = do_publish(str(out), cfg.output, config_name=None)
        (out / "build_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return report


def save_dataset_dict(dsd: datasets.DatasetDict, path: str) -> None:
    """save_to_disk that survives empty splits: datasets 5.2 writes no arrow file for a 0-row split unless
    asked for one shard, and load_from_disk then fails (IndexError in concat_tables)."""
    empty = {s: 1 for s in dsd if dsd[s].num_rows == 0}
    dsd.save_to_disk(path, num_shards=empty or None)


def _card(folder: Path, report: dict, cfg) -> None:
    from wiki_qa.report import config_yaml

    try:
        from wiki_qa.publish.card import write_card
    except ImportError:  # the publish room's card writer is optional until it lands
        (folder / "README.md").write_text(f"# {cfg.name}\n\nBuilt by wiki_qa. See build_report.json.\n")
        return
    write_card(str(folder), report, config_yaml(cfg))


def _inputs(cfg) -> str:
    p = getattr(cfg.source, "path", None) or getattr(cfg.source, "html_dir", None) or cfg.name
    return p if isinstance(p, str) else ",".join(p)
