"""LLM step throughput, printed as ratios against baselines run side by side.

1. generate() against the fault-free fake server with a fixed latency L: achieved requests/s over the
   theoretical concurrency/L, at concurrency 16, 64, 256 (target >= 0.9 at 64).
2. Under lognormal latency: generate() (concurrency 64, and 10 for a like-for-like window) vs the seed
   project's "batches of 10 awaited together" (target >= 3x).
3. The engine against the real local Gemma server vs that server's own saturated throughput, measured
   with raw concurrent requests (target >= 0.9).

Run: python bench/llm_throughput.py [--quick]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import datasets
import openai

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from wiki_qa.llm import LLMStats, generate  # noqa: E402

datasets.disable_progress_bars()


def start_fake(cfg: dict):
    p = subprocess.Popen([sys.executable, str(ROOT / "tests/servers/fake_openai.py"), "--config", json.dumps(cfg)],
                         stdout=subprocess.PIPE, text=True)
    return p, p.stdout.readline().split()[1]


def chunks(n: int) -> datasets.Dataset:
    text = "Bench\n\nThe quick brown fox jumps over the lazy dog near the river bank today."
    return datasets.Dataset.from_list([{"id": f"b:{i}#0", "doc_id": f"b:{i}", "chunk_id": 0, "title": "Bench",
                                        "text": f"{text} Item {i}.", "url": "", "lang": "en", "source": "bench",
                                        "meta": "{}"} for i in range(n)])


def run_generate(base_url: str, n: int, concurrency: int) -> float:
    with tempfile.TemporaryDirectory() as d:
        st = LLMStats()
        generate(chunks(n), "qa", {"model": "fake-model", "base_url": base_url, "concurrency": concurrency,
                                   "n": 1, "cache": f"{d}/c.sqlite"}, stats=st)
        assert st.outcomes["ok"] == n and st.requests == n, st.to_json()
        return st.requests_per_s


async def batches_of_10(base_url: str, n: int) -> float:
    client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
    msgs = lambda i: [{"role": "user", "content": f"Below is a passage from the page \"Bench\".\n\n<passage>\nItem {i} is a fine item.\n</passage>\nWrite 1"}]  # noqa
    t = time.monotonic()
    for s in range(0, n, 10):
        await asyncio.gather(*[client.chat.completions.create(model="fake-model", messages=msgs(i))
                               for i in range(s, min(n, s + 10))])
    el = time.monotonic() - t
    await client.close()
    return n / el


def _story(tag: str, i: int) -> list[dict]:
    # Distinct prompts per run, so llama.cpp's prompt cache can't favour whichever run comes second.
    return [{"role": "user", "content": f"Tell a long story ({tag}) number {i}."}]


async def saturate(base_url: str, model: str, n: int, conc: int, max_tokens: int, tag: str) -> float:
    """The server's own ceiling: a closed loop of raw requests, no engine. Returns completion tokens/s
    (a base model stops at EOS after a varying number of tokens, so requests/s alone would not compare)."""
    client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0, timeout=300)
    todo, tokens = list(range(n)), [0]

    async def worker():
        while todo:
            i = todo.pop()
            r = await client.chat.completions.create(model=model, max_tokens=max_tokens, temperature=0.2,
                                                     messages=_story(tag, i))
            tokens[0] += r.usage.completion_tokens
    t = time.monotonic()
    await asyncio.gather(*[worker() for _ in range(conc)])
    el = time.monotonic() - t
    await client.close()
    return tokens[0] / el


async def engine_on(base_url: str, model: str, n: int, conc: int, max_tokens: int, cache: str, tag: str) -> float:
    from wiki_qa.llm.config import resolve
    from wiki_qa.llm.endpoints import Endpoint
    from wiki_qa.llm.engine import Counters, Engine
    task, cfg = resolve("qa", dict(model=model, concurrency=conc, max_tokens=max_tokens, response_format="text",
                                   cache=cache, temperature=0.2))
    eng = Engine(cfg, task, endpoints=[Endpoint(base_url, "x", conc)], run="bench")
    c = Counters()
    t = time.monotonic()
    await asyncio.gather(*[eng.complete(_story(tag, i), {}, c) for i in range(n)])
    el = time.monotonic() - t
    assert c.requests == n and c.cache_hits == 0, c
    return c.completion_tokens / el


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-gemma", action="store_true")
    a = ap.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "bench")
    waves = 3 if a.quick else 5
    results = {}

    proc, url = start_fake({"latency": a.latency})
    try:
        print(f"1) fixed latency {a.latency}s, fault-free fake server: achieved / (concurrency/latency)")
        for c in (16, 64, 256):
            rps = run_generate(url, c * waves, c)
            results[f"ratio_c{c}"] = r = rps / (c / a.latency)
            print(f"   concurrency {c:>3}: {rps:7.1f} req/s  ideal {c / a.latency:6.1f}  ratio {r:.2f}"
                  + ("   (target >= 0.9)" if c == 64 else ""))
    finally:
        proc.kill()

    proc, url = start_fake({"latency": 0.2, "latency_dist": "lognormal", "sigma": 0.8})
    try:
        n = 200 if a.quick else 400
        base = asyncio.run(batches_of_10(url, n))
        ours64 = run_generate(url, n, 64)
        ours10 = run_generate(url, n, 10)
        results["vs_batches_of_10"] = ours64 / base
        print("2) lognormal latency (median 0.2 s, sigma 0.8), same requests:")
        print(f"   batches of 10 awaited together: {base:6.1f} req/s")
        print(f"   generate() concurrency 64:      {ours64:6.1f} req/s  ratio {ours64 / base:.1f}x  (target >= 3x)")
        print(f"   generate() concurrency 10:      {ours10:6.1f} req/s  ratio {ours10 / base:.1f}x  (same window, no lock-step)")
    finally:
        proc.kill()

    if not a.no_gemma:
        from wiki_qa.llm import local_server
        n, conc, mt = (16, 8, 24) if a.quick else (32, 8, 32)
        with local_server.serve() as url, tempfile.TemporaryDirectory() as d:
            asyncio.run(saturate(url, local_server.MODEL_ALIAS, 4, 4, 8, "warm-up"))
            # raw, engine, raw again: the engine is compared with the mean of the runs around it
            raw1 = asyncio.run(saturate(url, local_server.MODEL_ALIAS, n, conc, mt, "raw-1"))
            eng = asyncio.run(engine_on(url, local_server.MODEL_ALIAS, n, conc, mt, f"{d}/c.sqlite", "engine"))
            raw2 = asyncio.run(saturate(url, local_server.MODEL_ALIAS, n, conc, mt, "raw-2"))
        raw = (raw1 + raw2) / 2
        results["vs_gemma_saturated"] = eng / raw
        print(f"3) local Gemma 3 270M (4 slots, <= {mt} tokens/request): server saturated {raw:.1f} completion "
              f"tok/s ({raw1:.1f}, {raw2:.1f}), engine {eng:.1f} tok/s, ratio {eng / raw:.2f}  (target >= 0.9)")
    print(json.dumps({k: round(v, 3) for k, v in results.items()}))


if __name__ == "__main__":
    main()
