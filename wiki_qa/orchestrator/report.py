"""build_report.json: what a build read, kept, dropped and spent. Scripts read it; its keys are stable.

The report is published with the build, so it records paths as wiki_qa.publish.public shows them: relative
to the config's folder, or the file name alone (beside its sha256); URLs lose their credentials."""
from __future__ import annotations

import datasets

from wiki_qa import fingerprint
from wiki_qa.builders import make_source
from wiki_qa.builders.base import SourceStats
from wiki_qa.pipeline.stages import documents_per_split
from wiki_qa.publish.public import public_path, public_text
from wiki_qa.rows import SPLITS
from wiki_qa.version import __version__


def new_report(cfg, stage_stats: list[dict], stage_dsd) -> dict:
    """The report after the stages: one StageStats record per shard, summed."""
    source = SourceStats()
    counts: dict[str, int] = {}
    timings = {"read": 0.0, "clean": 0.0, "chunk": 0.0}
    sizes: dict[str, dict[str, int]] = {}
    for st in stage_stats:
        for split, hist in (st.get("sizes") or {}).items():
            into = sizes.setdefault(split, {})
            for k, v in hist.items():
                into[k] = into.get(k, 0) + v
        source.merge(SourceStats.from_json(st["source"]))
        for k, v in st["counts"].items():
            counts[k] = counts.get(k, 0) + v
        for k, v in st["timings"].items():
            timings[k] = timings.get(k, 0.0) + v
    return {
        "name": cfg.name,
        "config": cfg.echo(),
        "versions": {"wiki_qa": __version__, "datasets": datasets.__version__, "code": fingerprint.code()},
        "source": _public_source({**source.to_json(), **make_source(cfg.source).card_facts()}, cfg.base_dir()),
        "chunks": counts.get("chunks", sum(stage_dsd[s].num_rows for s in SPLITS)),
        "dropped": {k: v for k, v in counts.items() if k != "chunks" and not k.startswith("documents_")},
        "documents_per_split": documents_per_split(counts),
        "splits": {s: stage_dsd[s].num_rows for s in SPLITS},
        "chunk_lengths": _chunk_lengths(cfg, sizes),
        "llm": None,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }


def _chunk_lengths(cfg, sizes: dict) -> dict | None:
    """The chunks' sizes as the chunker counted them (the HTML report's token lengths, counted once):
    {unit, by_split: {split: {size: chunks}}}, sizes in ascending order."""
    if not sizes:
        return None
    unit = f"tokens ({cfg.chunk.encoding})" if cfg.chunk.by == "tokens" else "characters"
    return {"unit": unit, "by_split": {s: dict(sorted(sizes.get(s, {}).items(), key=lambda kv: int(kv[0])))
                                       for s in SPLITS}}


def _public_source(src: dict, base) -> dict:
    """The source section without local paths or credentials (files, warnings, per-item errors)."""
    src["files"] = [{**f, "path": public_path(str(f.get("path", "")), base)} for f in src.get("files", [])]
    src["warnings"] = [public_text(w, base) for w in src.get("warnings", [])]
    src["errors"] = [{k: public_path(v, base) if k in ("file", "path", "url") else public_text(v, base)
                      if isinstance(v, str) else v for k, v in e.items()} for e in src.get("errors", [])]
    return src
