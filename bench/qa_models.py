"""The bundled local models on the demo wiki, side by side in one run: `wiki-qa build demo` with each model
generating and judging (cold caches, server starts included), then the figures issue 13 asks for.

    python bench/qa_models.py [--models gemma-3-270m,smollm2-135m] [--json out.json] [--set k=v ...]

`make bench` runs it as its "qa" section (bench/run_all.py: bench(), ratio_rows(), markdown()).
Both models build the same config (configs/demo.yaml, only llm.model differs), in this run, one after the
other; the builds are timed separately, so on a loaded machine compare their ratios, not their seconds.
The machine's load average before and after each build is recorded beside it.
Per model, with the round trip and again without it (from the same LLM cache): valid items per chunk (after
the LLM step's validators), what the round trip kept, rows kept in each split and their yield per chunk, how
many of them a person labelled correct and well-formed (bench/qa_labels.json, bench/qa_labels.py), judge
scores and whether the judge was flagged degenerate (when the config has one), completion tokens/s of each
pass, and what the judge adds against the generation (tokens and wall time, per kept item: both passes serve
the same items, so the ratio of their totals). Prints a markdown
section for BENCHMARKS.md. Nothing here asserts a timing.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("gemma-3-270m", "smollm2-135m")


def build(model: str, extra: list[str], cache: str | None = None) -> dict:
    """One `wiki-qa build demo`; `cache`: an LLM cache folder shared with another build (the round trip off
    after on: the generation comes from the cache, so both rows hold the same generated items)."""
    with tempfile.TemporaryDirectory(prefix="wiki_qa-qa-models-") as d:
        env = {**os.environ, "WIKI_QA_CACHE": cache or f"{d}/llm", "HF_DATASETS_CACHE": f"{d}/hf"}
        cmd = [sys.executable, "-m", "wiki_qa.cli", "build", "demo", "--quiet", "--output", f"{d}/out",
               "--set", f"llm.model={model}", *[x for kv in extra for x in ("--set", kv)]]
        load = [round(os.getloadavg()[0], 2)]
        t = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t
        load.append(round(os.getloadavg()[0], 2))
        if p.returncode not in (0, 2):
            raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr[-2000:]}")
        report = json.loads((Path(d) / "out" / "build_report.json").read_text()) if p.returncode == 0 else {}
        labelled = _labelled(Path(d) / "out", model) if p.returncode == 0 else None
        return {"model": model, "wall_s": round(wall, 1), "load": load, "exit": p.returncode,
                "error": p.stderr.strip()[-300:] if p.returncode else None, "report": report,
                "labelled": labelled}


def _labelled(out: Path, model: str) -> dict:
    """How many of the build's kept items a person labelled (bench/qa_labels.json), and how many of those
    are correct and well-formed: a fresh build's precision, as far as the labels reach."""
    sys.path.insert(0, str(Path(__file__).parent))
    import qa_labels

    labels = {x["key"]: x for x in qa_labels.load()["items"]}
    got = [labels.get(it["key"]) for it in qa_labels.items(out, model)]
    known = [x for x in got if x]
    return {"kept": len(got), "labelled": len(known),
            "good": sum(1 for x in known if x["correct"] and x["well_formed"])}


def figures(r: dict) -> dict:
    rep = r["report"]
    if not rep:
        return {"model": r["model"], "wall_s": r["wall_s"], "error": r["error"], "load": r.get("load")}
    gen, judge = rep.get("llm") or {}, rep.get("judge") or {}
    jl = judge.get("llm") or {}
    hist = judge.get("histogram") or {}
    n = sum(hist.values())
    kept = judge.get("kept") if judge else sum((rep.get("splits") or {}).values())  # the demo has no judge now
    gen_tok = (gen.get("prompt_tokens") or 0) + (gen.get("completion_tokens") or 0)
    judge_tok = (jl.get("prompt_tokens") or 0) + (jl.get("completion_tokens") or 0)
    t = rep.get("timings_s") or {}
    rt = rep.get("roundtrip") or {}
    lab = r.get("labelled") or {}
    return {
        "model": r["model"] + (" (round trip off)" if r.get("roundtrip") is False else ""),
        "wall_s": r["wall_s"], "load": r.get("load"), "chunks": rep["chunks"],
        "roundtrip_kept": f"{rt['kept']} of {rt['checked']}" if rt else None,
        "roundtrip_vs_gen_time": round(rep["timings_s"]["roundtrip"] / rep["timings_s"]["generate"], 2)
        if rt and rep["timings_s"].get("generate") else None,
        "judge_degenerate": (judge.get("signal") or {}).get("degenerate") if judge else None,
        "labelled": f"{lab.get('labelled')} of {lab.get('kept')}, {lab.get('good')} good" if lab else None,
        "yield": round((sum((rep.get("splits") or {}).values())) / rep["chunks"], 3) if rep.get("chunks") else None,
        "valid_items": gen.get("examples"), "valid_per_chunk": round((gen.get("examples") or 0) / rep["chunks"], 2),
        "outcomes": gen.get("outcomes"), "dropped_items": gen.get("dropped_items"),
        "after_question_dedup": judge.get("judged"), "judge_histogram": hist,
        "judge_mean": round(sum(int(k) * v for k, v in hist.items()) / n, 2) if n else None,
        "kept": kept, "splits": rep["splits"], "all_splits": all((rep.get("splits") or {}).values()),
        "gen_tokens_per_kept": round(gen_tok / kept, 1) if kept else None,
        "judge_tokens_per_kept": round(judge_tok / kept, 1) if kept else None,
        "gen_s_per_kept": round(t["generate"] / kept, 2) if kept and t.get("generate") else None,
        "judge_s_per_kept": round(t["judge"] / kept, 2) if kept and t.get("judge") else None,
        "gen_tok_s": round(gen["completion_tokens"] / gen["elapsed_s"], 1) if gen.get("elapsed_s") else None,
        "judge_tok_s": round(jl["completion_tokens"] / jl["elapsed_s"], 1) if jl.get("elapsed_s") else None,
        "gen_tokens": (gen.get("prompt_tokens"), gen.get("completion_tokens")),
        "judge_tokens": (jl.get("prompt_tokens"), jl.get("completion_tokens")),
        "judge_vs_gen_tokens": (judge.get("vs_generation") or {}).get("tokens"),
        "judge_vs_gen_time": round(t["judge"] / t["generate"], 2) if t.get("generate") and t.get("judge") else None,
        "timings_s": {k: rep["timings_s"].get(k) for k in ("stages", "generate", "judge", "total")},
        "evidence_round_trip": ((rep.get("items") or {}).get("evidence") or {}).get("round_trip_share"),
    }


def markdown(rows: list[dict]) -> str:
    keys = [("wall time of `wiki-qa build demo` (s)", "wall_s"), ("load average before, after", "load"),
            ("chunks", "chunks"),
            ("valid items (after validators)", "valid_items"), ("valid items per chunk", "valid_per_chunk"),
            ("after the question dedup", "after_question_dedup"), ("judge score histogram 1-5", "judge_histogram"),
            ("mean judge score", "judge_mean"), ("judge flagged degenerate", "judge_degenerate"),
            ("kept (score >= 3)", "kept"), ("round trip: kept of checked", "roundtrip_kept"),
            ("rows per split", "splits"), ("yield (rows / chunks)", "yield"),
            ("labelled rows (bench/qa_labels.json), correct and well-formed", "labelled"),
            ("round trip / generation, wall time", "roundtrip_vs_gen_time"),
            ("generation completion tok/s", "gen_tok_s"), ("judge completion tok/s", "judge_tok_s"),
            ("generation tokens (prompt, completion)", "gen_tokens"), ("judge tokens (prompt, completion)",
                                                                       "judge_tokens"),
            ("generation tokens per kept item", "gen_tokens_per_kept"),
            ("judge tokens per kept item", "judge_tokens_per_kept"),
            ("generation s per kept item", "gen_s_per_kept"), ("judge s per kept item", "judge_s_per_kept"),
            ("judge / generation, tokens per kept item", "judge_vs_gen_tokens"),
            ("judge / generation, wall time", "judge_vs_gen_time"),
            ("evidence spans that round-trip", "evidence_round_trip"),
            ("dropped items by reason", "dropped_items"), ("build timings_s", "timings_s"), ("error", "error")]
    out = ["| figure | " + " | ".join(f"`{r['model']}`" for r in rows) + " |", "|---|" + "---|" * len(rows)]
    for label, k in keys:
        if any(r.get(k) is not None for r in rows):
            out.append(f"| {label} | " + " | ".join(str(r.get(k, "")).replace("|", "/") for r in rows) + " |")
    return "\n".join(out)


# ---- the `qa` section of bench/run_all.py ---------------------------------------------------------------
def bench(models=MODELS, extra=()) -> dict:
    """Each model builds the demo with the round trip, then again without it (the demo's own setting) from the
    same LLM cache."""
    rows = []
    for m in models:
        with tempfile.TemporaryDirectory(prefix="wiki_qa-qa-llm-") as cache:
            print(f"   building the demo with {m}, round trip on", flush=True)
            rows.append(figures(build(m, [*extra, "generate.validate.roundtrip=true"], cache)))
            print(f"   building the demo with {m}, round trip off", flush=True)
            off = build(m, [*extra, "generate.validate.roundtrip=false"], cache)
            rows.append(figures({**off, "roundtrip": False}))
    return {"rows": rows}


def ratio_rows(r: dict) -> list[tuple[str, str, str, str]]:
    """(what, ratio, figures it comes from, target/note) for run_all's table."""
    by = {x["model"]: x for x in r.get("rows") or [] if x.get("chunks")}
    out = []
    old, new = by.get("gemma-3-270m"), by.get("smollm2-135m")
    if old and new and old.get("valid_per_chunk"):
        out.append(("qa: valid items per chunk, SmolLM2 / Gemma 3 270M on the demo",
                    f"{new['valid_per_chunk'] / old['valid_per_chunk']:.2f}x" if old["valid_per_chunk"] else "inf",
                    f"{new['valid_per_chunk']} vs {old['valid_per_chunk']} ({new['chunks']} chunks)", "target > 1x"))
    for x in by.values():
        if x.get("judge_vs_gen_tokens") is not None:
            out.append((f"qa: judge / generation tokens per kept item ({x['model']})",
                        f"{x['judge_vs_gen_tokens']:.2f}x",
                        f"{x['judge_tokens_per_kept']} vs {x['gen_tokens_per_kept']} tokens", "target <= 1.1x"))
        if x.get("judge_vs_gen_time") is not None:
            out.append((f"qa: judge / generation wall time ({x['model']})", f"{x['judge_vs_gen_time']:.2f}x",
                        f"{x['judge_s_per_kept']} vs {x['gen_s_per_kept']} s per kept item", "target <= 1.1x"))
        out.append((f"qa: demo kept items, all three splits ({x['model']})", str(x.get("kept")),
                    f"{x['splits']} in {x['wall_s']} s, load {x.get('load')}", ">= 20, all splits, < 120 s"))
    return out


def section(r: dict) -> list[str]:
    """run_all's BENCHMARKS.md section."""
    rows = r.get("rows") or []
    if not rows:
        return []
    sys.path.insert(0, str(Path(__file__).parent))
    import qa_labels

    labelled = ["", "### Labelled precision and yield (bench/qa_labels.py, bench/qa_labels.json)", "",
                "A person read every kept item of these demo builds (before issue 23: `focus: sentence` and the "
                "judge; after: `focus: answer`, round trip on and off). precision = correct and well-formed / kept; "
                "yield = kept / chunks.", "", qa_labels.table()]
    return ["", "## Local models for the demo (bench/qa_models.py)", "",
            "`wiki-qa build demo` (configs/demo.yaml: answer-first generation by the bundled model) with the round "
            "trip by the same model, cold caches, server start included, once per model in the same run, then again "
            "with the round trip off (the demo's setting) from the same LLM cache; only `llm.model` differs. "
            "Issue 13's baseline (the earlier demo config with Gemma 3 270M): 3 examples kept from 11 chunks, val "
            "and test empty.", "",
            markdown(rows), *labelled]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--set", action="append", default=[], help="more overrides for every build")
    ap.add_argument("--json")
    a = ap.parse_args()
    rows = bench(a.models.split(","), a.set)["rows"]
    for x in rows:
        print(json.dumps(x), flush=True)
    print(markdown(rows))
    for what, ratio, frm, target in ratio_rows({"rows": rows}):
        print(f"{what}: {ratio}  ({frm})  [{target}]")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
