"""The bundled local models on the demo wiki, side by side in one run: `wiki-qa build demo` with each model
generating and judging (cold caches, server starts included), then the figures issue 13 asks for.

    python bench/qa_models.py [--models gemma-3-270m,smollm2-135m] [--json out.json] [--set k=v ...]

Per model: valid items per chunk (after the LLM step's validators), judge scores by the same model, rows kept
in each split, completion tokens/s of each pass, and what the judge adds against the generation (tokens and
wall time, per kept item: both passes serve the same items, so the ratio of their totals). Prints a markdown
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


def build(model: str, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="wiki_qa-qa-models-") as d:
        env = {**os.environ, "WIKI_QA_CACHE": f"{d}/llm", "HF_DATASETS_CACHE": f"{d}/hf"}
        cmd = [sys.executable, "-m", "wiki_qa.cli", "build", "demo", "--quiet", "--output", f"{d}/out",
               "--set", f"llm.model={model}", *[x for kv in extra for x in ("--set", kv)]]
        t = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t
        if p.returncode not in (0, 2):
            raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr[-2000:]}")
        report = json.loads((Path(d) / "out" / "build_report.json").read_text()) if p.returncode == 0 else {}
        return {"model": model, "wall_s": round(wall, 1), "exit": p.returncode, "error": p.stderr.strip()[-300:]
                if p.returncode else None, "report": report}


def figures(r: dict) -> dict:
    rep = r["report"]
    if not rep:
        return {"model": r["model"], "wall_s": r["wall_s"], "error": r["error"]}
    gen, judge = rep.get("llm") or {}, rep.get("judge") or {}
    jl = judge.get("llm") or {}
    hist = judge.get("histogram") or {}
    n = sum(hist.values())
    return {
        "model": r["model"], "wall_s": r["wall_s"], "chunks": rep["chunks"],
        "valid_items": gen.get("examples"), "valid_per_chunk": round((gen.get("examples") or 0) / rep["chunks"], 2),
        "outcomes": gen.get("outcomes"), "dropped_items": gen.get("dropped_items"),
        "after_question_dedup": judge.get("judged"), "judge_histogram": hist,
        "judge_mean": round(sum(int(k) * v for k, v in hist.items()) / n, 2) if n else None,
        "kept": judge.get("kept"), "splits": rep["splits"],
        "gen_tok_s": round(gen["completion_tokens"] / gen["elapsed_s"], 1) if gen.get("elapsed_s") else None,
        "judge_tok_s": round(jl["completion_tokens"] / jl["elapsed_s"], 1) if jl.get("elapsed_s") else None,
        "gen_tokens": (gen.get("prompt_tokens"), gen.get("completion_tokens")),
        "judge_tokens": (jl.get("prompt_tokens"), jl.get("completion_tokens")),
        "judge_vs_gen_tokens": (judge.get("vs_generation") or {}).get("tokens"),
        "judge_vs_gen_time": round(rep["timings_s"]["judge"] / rep["timings_s"]["generate"], 2)
        if rep["timings_s"].get("generate") else None,
        "timings_s": {k: rep["timings_s"].get(k) for k in ("stages", "generate", "judge", "total")},
        "evidence_round_trip": ((rep.get("items") or {}).get("evidence") or {}).get("round_trip_share"),
    }


def markdown(rows: list[dict]) -> str:
    keys = [("wall time of `wiki-qa build demo` (s)", "wall_s"), ("chunks", "chunks"),
            ("valid items (after validators)", "valid_items"), ("valid items per chunk", "valid_per_chunk"),
            ("after the question dedup", "after_question_dedup"), ("judge score histogram 1-5", "judge_histogram"),
            ("mean judge score", "judge_mean"), ("kept (score >= 3)", "kept"), ("rows per split", "splits"),
            ("generation completion tok/s", "gen_tok_s"), ("judge completion tok/s", "judge_tok_s"),
            ("generation tokens (prompt, completion)", "gen_tokens"), ("judge tokens (prompt, completion)",
                                                                       "judge_tokens"),
            ("judge / generation, tokens per kept item", "judge_vs_gen_tokens"),
            ("judge / generation, wall time", "judge_vs_gen_time"), ("evidence spans that round-trip", "evidence_round_trip"),
            ("dropped items by reason", "dropped_items"), ("build timings_s", "timings_s"), ("error", "error")]
    out = ["| figure | " + " | ".join(f"`{r['model']}`" for r in rows) + " |", "|---|" + "---|" * len(rows)]
    for label, k in keys:
        if any(r.get(k) is not None for r in rows):
            out.append(f"| {label} | " + " | ".join(str(r.get(k, "")).replace("|", "/") for r in rows) + " |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--set", action="append", default=[], help="more overrides for every build")
    ap.add_argument("--json")
    a = ap.parse_args()
    rows = []
    for m in a.models.split(","):
        print(f"== {m}", flush=True)
        rows.append(figures(build(m, a.set)))
        print(json.dumps(rows[-1]), flush=True)
    print(markdown(rows))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
