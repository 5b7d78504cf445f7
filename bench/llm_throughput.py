"""LLM step throughput and client CPU, printed as ratios against baselines run side by side.

1. generate() against the fault-free fake server (same machine, same run) with a fixed latency L, at
   concurrency C: achieved requests/s over the ideal C/L, and the client's CPU time per request (the client
   process's user+sys CPU over the call, divided by the requests sent). Targets: ratio >= 0.9 at (64, 0.2 s)
   and (256, 1 s); CPU <= 1 ms per request. Side by side, scenario by scenario, the same generate() of the
   engine as it was on the official openai client (git ref BASELINE_REF, extracted to a temporary folder);
   each run is a fresh process against a fresh fake server, so neither inherits the other's warm state.
   Then the same closed loop through bare aiohttp (no engine): the ratio the loaded machine allows now.
2. The same requests sent by bare transports (no engine, no datasets): the openai client (raw post and
   typed create), httpx and aiohttp. Their CPU per request is the floor any engine on them pays.
3. Under lognormal latency: generate() vs a naive client that awaits batches of 10 together (target >= 3x).
4. The engine against the real local Gemma server vs that server's own saturated throughput (target >= 0.9).

Run: python bench/llm_throughput.py [--quick] [--no-gemma] [--no-baseline] [--tree DIR]
`--tree DIR` imports wiki_qa from another checkout (e.g. the main branch) to measure it in the same run.
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

ROOT = Path(__file__).resolve().parents[1]
FAKE = ROOT / "tests/servers/fake_openai.py"
# The last commit whose engine sent through the openai client (AsyncOpenAI over httpx, pydantic responses,
# one sqlite commit per response, a datasets map of one row per call); 2b78563 replaced it.
BASELINE_REF = "2b78563^"


def start_fake(cfg: dict):
    p = subprocess.Popen([sys.executable, str(FAKE), "--config", json.dumps(cfg)], stdout=subprocess.PIPE,
                         text=True)
    return p, p.stdout.readline().split()[1]


def chunks(n: int, tag: str = ""):
    import datasets

    text = "Bench\n\nThe quick brown fox jumps over the lazy dog near the river bank today."
    return datasets.Dataset.from_list([{"id": f"b{tag}:{i}#0", "doc_id": f"b{tag}:{i}", "chunk_id": 0,
                                        "title": "Bench", "text": f"{text} Item {i}.", "url": "", "lang": "en",
                                        "source": "bench", "meta": "{}"} for i in range(n)])


def cpu() -> float:
    t = os.times()
    return t.user + t.system  # this process, all threads (the map runs here with num_proc=None)


def proc_cpu(pid: int) -> float:
    """Another process's user+sys CPU seconds (the fake server's), from /proc."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def run_generate(base_url: str, n: int, concurrency: int, extra: dict | None = None) -> dict:
    from wiki_qa.llm import LLMStats, generate

    ds = chunks(n)
    with tempfile.TemporaryDirectory() as d:
        st = LLMStats()
        c0, t0 = cpu(), time.perf_counter()
        generate(ds, "qa", {"model": "fake-model", "base_url": base_url, "concurrency": concurrency, "n": 1,
                            "cache": f"{d}/c.sqlite", **(extra or {})}, stats=st)
        wall, used = time.perf_counter() - t0, cpu() - c0
        assert st.outcomes["ok"] == n and st.requests == n, st.to_json()
    return {"n": n, "wall_s": wall, "rps": n / wall, "cpu_ms": 1000 * used / n}


def _body(i: int) -> dict:
    user = f"Below is a passage from the page \"Bench\".\n\n<passage>\nItem {i} is a fine item.\n</passage>\nWrite 1"
    return {"model": "fake-model", "temperature": 0.2, "max_tokens": 64,
            "messages": [{"role": "user", "content": user}]}


async def _closed_loop(send, n: int, conc: int):
    todo = iter(range(n))

    async def worker():
        for i in todo:
            await send(_body(i))
    await asyncio.gather(*[worker() for _ in range(conc)])


async def transport(kind: str, base_url: str, n: int, conc: int) -> dict:
    """n requests, conc in flight, through one bare transport; returns req/s and CPU ms per request."""
    import httpx2 as httpx
    import openai

    limits = httpx.Limits(max_connections=conc + 8, max_keepalive_connections=conc + 8)
    if kind.startswith("openai"):
        client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0,
                                    http_client=openai.DefaultAsyncHttpxClient(limits=limits))
        if kind == "openai-post":
            async def send(b):
                await client.post("/chat/completions", body=b, cast_to=object)
        else:
            async def send(b):
                await client.chat.completions.create(**b)
        close = client.close
    elif kind == "httpx":
        client = httpx.AsyncClient(base_url=base_url, limits=limits, headers={"Authorization": "Bearer x"})

        async def send(b):
            r = await client.post("/chat/completions", json=b)
            r.raise_for_status()
            json.loads(r.content)
        close = client.aclose
    else:
        import aiohttp

        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conc + 8),
                                        headers={"Authorization": "Bearer x"})

        async def send(b):
            async with session.post(base_url + "/chat/completions", json=b) as r:
                r.raise_for_status()
                json.loads(await r.read())
        close = session.close
    c0, t0 = cpu(), time.perf_counter()
    await _closed_loop(send, n, conc)
    wall, used = time.perf_counter() - t0, cpu() - c0
    await close()
    return {"rps": n / wall, "cpu_ms": 1000 * used / n}


async def batches_of_10(base_url: str, n: int) -> float:
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
    t = time.monotonic()
    for s in range(0, n, 10):
        await asyncio.gather(*[client.chat.completions.create(**_body(i)) for i in range(s, min(n, s + 10))])
    el = time.monotonic() - t
    await client.close()
    return n / el


def _story(tag: str, i: int) -> list[dict]:
    # Distinct prompts per run, so llama.cpp's prompt cache can't favour whichever run comes second.
    return [{"role": "user", "content": f"Tell a long story ({tag}) number {i}."}]


async def saturate(base_url: str, model: str, n: int, conc: int, max_tokens: int, tag: str,
                   api_key: str = "x") -> float:
    """The server's own ceiling: a closed loop of raw requests, no engine. Returns completion tokens/s
    (a base model stops at EOS after a varying number of tokens, so requests/s alone would not compare)."""
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=300)
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


async def engine_on(base_url: str, model: str, n: int, conc: int, max_tokens: int, cache: str, tag: str,
                    api_key: str = "x") -> float:
    from wiki_qa.llm.config import resolve
    from wiki_qa.llm.endpoints import Endpoint
    from wiki_qa.llm.engine import Counters, Engine
    task, cfg = resolve("qa", dict(model=model, concurrency=conc, max_tokens=max_tokens, response_format="text",
                                   cache=cache, temperature=0.2))
    eng = Engine(cfg, task, endpoints=[Endpoint(base_url, api_key, conc)], run="bench")
    c = Counters()
    t = time.monotonic()
    await asyncio.gather(*[eng.complete(_story(tag, i), {}, c) for i in range(n)])
    el = time.monotonic() - t
    assert c.requests == n and c.cache_hits == 0, c
    return c.completion_tokens / el


def extract_tree(ref: str, dest: str) -> str | None:
    """The repository at `ref` in `dest` (git archive), or None outside a git checkout."""
    try:
        data = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    subprocess.run(["tar", "-x", "-C", dest], input=data, check=True)
    return dest


def child_generate(tree: str, url: str, n: int, conc: int) -> dict:
    """run_generate in a fresh process importing wiki_qa from `tree`."""
    out = subprocess.run([sys.executable, __file__, "--tree", tree, "--child", json.dumps([url, n, conc])],
                         capture_output=True, text=True)
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"bench child ({tree}) failed:\n{out.stderr[-2000:]}")
    return json.loads(line[len("RESULT "):])


def scenario(tree: str, c: int, lat: float, n: int) -> tuple[dict, float]:
    """(client figures, server CPU ms per request) of one generate() run against a fresh fake server."""
    proc, url = start_fake({"latency": lat})
    try:
        s0 = proc_cpu(proc.pid)
        r = child_generate(tree, url, n, c)
        return r, 1000 * (proc_cpu(proc.pid) - s0) / n
    finally:
        proc.kill()
        proc.wait()


SCENARIOS = [(64, 0.2, "target >= 0.9"), (256, 1.0, "target >= 0.9"), (16, 1.0, ""), (64, 1.0, "")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-gemma", action="store_true")
    ap.add_argument("--no-transports", action="store_true")
    ap.add_argument("--tree", help="import wiki_qa from this checkout instead of this one")
    ap.add_argument("--no-baseline", action="store_true", help="skip the openai-client engine in section 1")
    ap.add_argument("--baseline-ref", default=BASELINE_REF)
    ap.add_argument("--child", help=argparse.SUPPRESS)  # [url, n, concurrency]: one generate(), RESULT json
    ap.add_argument("--seconds", type=float, default=None, help="ideal duration of each run (default 6, quick 3)")
    a = ap.parse_args()
    sys.path.insert(0, str(Path(a.tree).resolve() if a.tree else ROOT))
    import datasets

    datasets.disable_progress_bars()
    os.environ.setdefault("OPENAI_API_KEY", "bench")
    if a.child:
        url, n, conc = json.loads(a.child)
        print("RESULT " + json.dumps(run_generate(url, n, conc)), flush=True)
        return
    secs = a.seconds or (3.0 if a.quick else 6.0)
    results = {}
    import wiki_qa
    print(f"wiki_qa from {Path(wiki_qa.__file__).parent}")

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other processes share them)")
    tree = str(Path(a.tree).resolve() if a.tree else ROOT)
    tmp = tempfile.TemporaryDirectory()
    base_tree = None if a.no_baseline else extract_tree(a.baseline_ref, tmp.name)
    if not a.no_baseline and base_tree is None:
        print(f"   (git cannot extract {a.baseline_ref} here: the openai-client baseline is skipped)")
    print("1) generate() vs the ideal concurrency/latency, fault-free fake server on this machine"
          + (f"; baseline: the engine at {a.baseline_ref} (openai client)" if base_tree else ""))
    for c, lat, note in SCENARIOS:
        n = max(c * 2, int(secs * c / lat))
        key = f"c{c}_l{lat:g}"
        for label, t, suffix in (("this engine  ", tree, ""), ("openai engine", base_tree, "_openai_engine")):
            if t is None:
                continue
            r, server_ms = scenario(t, c, lat, n)
            ratio = r["rps"] / (c / lat)
            results[f"ratio_{key}{suffix}"], results[f"cpu_ms_{key}{suffix}"] = ratio, r["cpu_ms"]
            print(f"   {label} concurrency {c:>3}, latency {lat:.1f} s, {n:>5} requests: {r['rps']:7.1f} req/s"
                  f"  ideal {c / lat:6.1f}  ratio {ratio:.2f}  client CPU {r['cpu_ms']:.2f} ms/request (server "
                  f"{server_ms:.2f})  {note if not suffix else ''}", flush=True)
        # What the loaded machine allows right now: the same closed loop through bare aiohttp, no engine.
        proc, url = start_fake({"latency": lat})
        try:
            bare = asyncio.run(transport("aiohttp", url, n, c))
        finally:
            proc.kill()
            proc.wait()
        results[f"ratio_{key}_bare_aiohttp"] = bare["rps"] / (c / lat)
        print(f"   bare aiohttp  (no engine, no datasets, the machine's ceiling now): ratio "
              f"{bare['rps'] / (c / lat):.2f}  CPU {bare['cpu_ms']:.2f} ms/request", flush=True)
        if base_tree:
            print(f"   -> client CPU per request: openai engine / this engine = "
                  f"{results[f'cpu_ms_{key}_openai_engine'] / results[f'cpu_ms_{key}']:.1f}x", flush=True)
    tmp.cleanup()

    if not a.no_transports:
        c, lat = 64, 0.2
        n = int(secs * c / lat)
        print(f"2) bare transports, same fake server (concurrency {c}, latency {lat} s, {n} requests)")
        proc, url = start_fake({"latency": lat})
        try:
            for kind in ("openai-post", "openai-create", "httpx", "aiohttp"):
                r = asyncio.run(transport(kind, url, n, c))
                results[f"cpu_ms_{kind}"] = r["cpu_ms"]
                print(f"   {kind:<14} {r['rps']:7.1f} req/s  ratio {r['rps'] / (c / lat):.2f}  "
                      f"CPU {r['cpu_ms']:.2f} ms/request")
        finally:
            proc.kill()

    proc, url = start_fake({"latency": 0.2, "latency_dist": "lognormal", "sigma": 0.8})
    try:
        n = 200 if a.quick else 400
        base = asyncio.run(batches_of_10(url, n))
        ours64 = run_generate(url, n, 64)["rps"]
        results["vs_batches_of_10"] = ours64 / base
        print("3) lognormal latency (median 0.2 s, sigma 0.8), same requests:")
        print(f"   batches of 10 awaited together: {base:6.1f} req/s")
        print(f"   generate() concurrency 64:      {ours64:6.1f} req/s  ratio {ours64 / base:.1f}x  (target >= 3x)")
    finally:
        proc.kill()

    if not a.no_gemma:
        from wiki_qa.llm import local_server
        n, conc, mt = (16, 8, 24) if a.quick else (32, 8, 32)
        with local_server.serve() as (url, key), tempfile.TemporaryDirectory() as d:
            asyncio.run(saturate(url, local_server.MODEL_ALIAS, 4, 4, 8, "warm-up", key))
            # raw, engine, raw again: the engine is compared with the mean of the runs around it
            raw1 = asyncio.run(saturate(url, local_server.MODEL_ALIAS, n, conc, mt, "raw-1", key))
            eng = asyncio.run(engine_on(url, local_server.MODEL_ALIAS, n, conc, mt, f"{d}/c.sqlite", "engine", key))
            raw2 = asyncio.run(saturate(url, local_server.MODEL_ALIAS, n, conc, mt, "raw-2", key))
        raw = (raw1 + raw2) / 2
        results["vs_gemma_saturated"] = eng / raw
        print(f"4) local Gemma 3 270M (4 slots, <= {mt} tokens/request): server saturated {raw:.1f} completion "
              f"tok/s ({raw1:.1f}, {raw2:.1f}), engine {eng:.1f} tok/s, ratio {eng / raw:.2f}  (target >= 0.9)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print(json.dumps({k: round(v, 3) for k, v in results.items()}))


if __name__ == "__main__":
    main()
