"""`make bench`: every benchmark in one run, one table of ratios, and BENCHMARKS.md.

1. parse/clean throughput vs WikiExtractor and plain strip_code (bench/parse.py, as a subprocess);
2. the LLM step's throughput vs its baselines (bench/llm_throughput.py, as a subprocess);
3. peak memory and time versus dump size: enwiki-206pages made 1x, 2x, 5x and 10x larger (one core);
4. an end-to-end build of the demo config with the bundled local Gemma 3 270M model: wall time, tokens/s,
   and its share of the server's saturated throughput, measured in this run with the same requests sent
   raw (no engine) at the server's slot count;
5. local engine vs Ray engine on the same input (bench/engines.py);
6. shards, num_proc and Ray driver memory at scale, and the full-Wikipedia estimate (bench/scale.py);
7. the page reader vs mwxml, bz2 decompression per core, byte-range shards read alone (bench/read.py);
8. the bundled local models on the demo (Gemma 3 270M vs SmolLM2): valid items per chunk, judge scores,
   tokens/s and the judge's cost per kept item against the generation's (bench/qa_models.py);
9. `source.wiki`'s downloader vs a plain aiohttp download of the same file from the same local mirror
   (bench/fetch.py);
10. language ID on real news paragraphs in yo, ha, ig, pcm and en: wiki_qa.langid beside the packages it
   was chosen from (bench/langid.py).

Every ratio's baseline is measured in this same run, on this machine. Nothing here asserts a timing.
Usage: python bench/run_all.py [--quick] [--only parse,fidelity,llm,memory,e2e,ray,scale,read,qa,fetch,langid]
                               [--out BENCHMARKS.md]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib.metadata as md
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DUMP = ROOT.parent / "shared" / "data" / "mediawiki" / "enwiki-206pages.xml.bz2"
LAST = Path(__file__).resolve().parent / "results" / "last.json"
SECTIONS = ("parse", "fidelity", "llm", "memory", "e2e", "ray", "scale", "read", "qa", "fetch", "langid")


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run(cmd: list[str], timeout: int = 1800) -> str:
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    print(f"   ({' '.join(Path(c).name if '/' in c else c for c in cmd)}: {time.perf_counter() - t:.0f} s)")
    return p.stdout


# ---- 1. parse ----------------------------------------------------------------------------------------
def bench_parse(dump: Path) -> dict:
    out = _run([sys.executable, str(BENCH / "parse.py"), str(dump)])
    r: dict = {"raw": out.strip()}
    for name, key in (("wiki_qa build", "ours"), ("WikiExtractor", "wikiextractor"), ("mwxml", "strip_code")):
        m = re.search(rf"^\s+{re.escape(name)}.*?([\d.]+) s\s+([\d.]+) MB/s", out, re.M)
        if m:
            r[f"{key}_s"], r[f"{key}_mbs"] = float(m.group(1)), float(m.group(2))
    m = re.search(r"input: .*?, ([\d.]+) MB XML", out)
    r["mb"] = float(m.group(1)) if m else None
    m = re.search(r"^@@steps (.*)$", out, re.M)  # per-step CPU figures, one core, vs WikiExtractor
    r["steps"] = json.loads(m.group(1)) if m else {}
    r["raw"] = re.sub(r"^@@steps .*$\n?", "", r["raw"], flags=re.M)
    return r


def bench_read(dump: Path) -> dict:
    """bench/read.py in its own process (it pins itself to one core): its figures and its printout."""
    with tempfile.TemporaryDirectory(prefix="wiki_qa-bench-read-json-") as tmp:
        out = _run([sys.executable, str(BENCH / "read.py"), str(dump), "--json", f"{tmp}/read.json"])
        return {"raw": out.strip(), **json.loads(Path(f"{tmp}/read.json").read_text())}


def bench_fidelity() -> dict:
    out = _run([sys.executable, str(BENCH / "fidelity.py")])
    return {"raw": out.strip()}


# ---- 2. llm ------------------------------------------------------------------------------------------
def bench_llm(quick: bool) -> dict:
    out = _run([sys.executable, str(BENCH / "llm_throughput.py")] + (["--quick"] if quick else []))
    last = [line for line in out.splitlines() if line.startswith("{")][-1]
    return {"raw": out.strip(), **json.loads(last)}


# ---- 3. memory versus dump size ----------------------------------------------------------------------
def bench_memory(dump: Path, sizes: list[int]) -> dict:
    parse = _load("bench_parse", BENCH / "parse.py")  # its ours(): one core, cold cache, peak RSS
    work = Path(tempfile.mkdtemp(prefix="wiki_qa-bench-mem-"))
    try:
        xml = work / "dump.xml"
        xml.write_bytes(__import__("bz2").decompress(dump.read_bytes()) if dump.suffix == ".bz2"
                        else dump.read_bytes())
        rows = []
        for k in sizes:
            src = xml if k == 1 else work / f"dump{k}x.xml"
            if k != 1:
                parse.k_times(xml, src, k)
            mb = src.stat().st_size / 1e6
            secs, rss = parse.ours(src, work)
            rows.append({"k": k, "mb": round(mb, 1), "s": round(secs, 2), "rss_mib": round(rss / 2**20, 1),
                         "mbs": round(mb / secs, 2)})
            print(f"   {k:>2}x  {mb:6.1f} MB  {secs:6.1f} s  {mb / secs:5.2f} MB/s  peak RSS {rss / 2**20:6.0f} MiB")
            if k != 1:
                src.unlink()
        return {"rows": rows}
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---- 4. end-to-end demo build with the local model -------------------------------------------------------
# The engine against the server it drives: the demo's generation without its judge, on Gemma 3 270M (a base
# model: structure, not quality), whose longer replies keep the server's slots busy.
E2E_GENERATE = {"task": "qa", "n": 2, "validate": {"grounding_threshold": 0.0}}
E2E_LLM = {"provider": "local", "model": "gemma-3-270m", "concurrency": 4, "max_tokens": 160, "max_retries": 1,
           "temperature": 0.2}


def bench_e2e() -> dict:
    work = Path(tempfile.mkdtemp(prefix="wiki_qa-bench-e2e-"))
    os.environ["HF_DATASETS_CACHE"] = str(work / "hf-cache")  # cold: stages and LLM both run for real
    os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] = "1"
    import yaml

    import wiki_qa  # noqa: F401 - registers the builder
    from wiki_qa.config import load_config
    from wiki_qa.executor.local import stages
    from wiki_qa.llm import local_server
    from wiki_qa.orchestrator import run

    try:
        demo = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text())
        demo["source"]["path"] = str(ROOT / "configs" / demo["source"]["path"])
        demo.pop("judge", None)
        demo.update(name="demo-gemma", format="completion", output={"dir": str(work / "out")},
                    generate=E2E_GENERATE, llm={**E2E_LLM, "cache": str(work / "llm.sqlite")})
        cfg_path = work / "demo-gemma.yaml"
        cfg_path.write_text(yaml.safe_dump(demo))
        cfg = load_config(str(cfg_path))

        t = time.perf_counter()
        report = run(cfg, output=str(work / "out"))
        wall = time.perf_counter() - t
        llm = report["llm"]
        gen_s = report["timings_s"]["generate"]

        # Baseline: the same requests (the chunks' qa prompts and schemas, same max_tokens), sent raw with
        # the server's slot count in flight at all times.
        from wiki_qa.llm.config import resolve

        dsd, _ = stages(cfg)  # the build's own chunk rows (a datasets cache hit now)
        chunks = [r for s in ("train", "val", "test") for r in dsd[s]]
        qa, gcfg = resolve(None, {**E2E_GENERATE, **E2E_LLM})
        reqs = [(qa.prompt(r), qa.schema(r)) for r in chunks]
        with local_server.serve(model=E2E_LLM["model"]) as (url, key):
            asyncio.run(_raw(url, key, reqs[:4], 4, 16))  # warm-up
            raw_tok_s, raw_req_s, raw_n = asyncio.run(_raw(url, key, reqs, 4, gcfg.max_tokens))
        build_tok_s = llm["completion_tokens"] / gen_s if gen_s else 0.0
        return {"wall_s": round(wall, 2), "generate_s": gen_s, "requests": llm["requests"],
                "chunks": len(chunks), "examples": sum(report["splits"].values()),
                "outcomes": llm["outcomes"], "prompt_tokens": llm["prompt_tokens"],
                "completion_tokens": llm["completion_tokens"],
                "build_tok_s": round(build_tok_s, 1),
                "build_tok_s_wall": round(llm["completion_tokens"] / wall, 1),
                "saturated_tok_s": round(raw_tok_s, 1), "saturated_req_s": round(raw_req_s, 3),
                "saturated_requests": raw_n, "share": round(build_tok_s / raw_tok_s, 3) if raw_tok_s else None,
                "timings_s": report["timings_s"]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def _raw(url: str, key: str, reqs: list, slots: int, max_tokens: int) -> tuple[float, float, int]:
    import openai

    from wiki_qa.llm import local_server

    client = openai.AsyncOpenAI(base_url=url, api_key=key, max_retries=0, timeout=600)
    todo = list(range(len(reqs)))[::-1]
    tokens = 0

    async def worker():
        nonlocal tokens
        while todo:
            messages, schema = reqs[todo.pop()]
            r = await client.chat.completions.create(
                model=local_server.MODEL_ALIAS, messages=messages, max_tokens=max_tokens, temperature=0.2, seed=0,
                response_format={"type": "json_schema", "json_schema": {"name": "wiki_qa_qa", "schema": schema}})
            tokens += r.usage.completion_tokens
    t = time.monotonic()
    await asyncio.gather(*[worker() for _ in range(slots)])
    el = time.monotonic() - t
    await client.close()
    return tokens / el, len(reqs) / el, len(reqs)


# ---- 5. ray ------------------------------------------------------------------------------------------
def bench_ray() -> dict:
    try:
        from engines import compare_engines
    except ImportError as e:
        return {"available": False, "why": f"{type(e).__name__}: {e}"}
    import yaml

    work = Path(tempfile.mkdtemp(prefix="wiki_qa-bench-ray-"))
    try:
        xml = work / "dump.xml"
        xml.write_bytes(__import__("bz2").decompress(DUMP.read_bytes()))
        cfg = work / "ray.yaml"
        cfg.write_text(yaml.safe_dump({"name": "bench-ray", "source": {"type": "mediawiki", "path": str(xml)},
                                       "output": {"dir": str(work / "out")}}))
        res = compare_engines(str(cfg))
        return {"available": True, "result": res if isinstance(res, dict) else {"result": repr(res)}}
    except Exception as e:  # noqa: BLE001 - a helper's work in progress must not sink the other figures
        return {"available": False, "why": f"compare_engines failed: {type(e).__name__}: {e}"}
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---- machine + report --------------------------------------------------------------------------------
def machine() -> dict:
    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or platform.machine()
    mem = None
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 2**20:.1f} GiB"
    except (OSError, AttributeError):
        pass
    pkgs = {}
    for p in ("wiki_qa", "datasets", "pyarrow", "mwparserfromhell", "mwxml", "tiktoken", "bpe-openai", "openai",
              "xllamacpp", "wikiextractor", "ray"):
        try:
            pkgs[p] = md.version(p)
        except md.PackageNotFoundError:
            pkgs[p] = "not installed"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=ROOT).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True,
                                    cwd=ROOT).stdout.strip())
    except OSError:
        commit, dirty = "unknown", False
    return {"cpu": cpu, "cores": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)), "memory": mem,
            "os": f"{platform.system()} {platform.release()}", "arch": platform.machine(),
            "python": platform.python_version(), "packages": pkgs,
            "commit": commit + (" (with uncommitted changes)" if dirty else ""),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "bytecode": bytecode()}


def bytecode() -> str:
    """Whether a fresh process finds compiled .pyc files: without them (uv installs none unless asked, and
    PYTHONDONTWRITEBYTECODE keeps Python from writing them) every `wiki-qa build` compiles its imports from
    source, about 2 CPU seconds more, which the whole-command figures then include."""
    spec = importlib.util.find_spec("datasets")
    cached = spec and spec.origin and os.path.exists(importlib.util.cache_from_source(spec.origin))
    return ("compiled .pyc files present" if cached else "no .pyc files: imports are compiled at every start") + (
        "; PYTHONDONTWRITEBYTECODE is set" if sys.flags.dont_write_bytecode else "")


def ratio_rows(r: dict) -> list[tuple[str, str, str, str]]:
    """(what, ratio, figures it comes from, target/note)."""
    rows = []
    p = r.get("parse") or {}
    if p.get("ours_s") and p.get("wikiextractor_s"):
        rows.append(("parse: wiki_qa / WikiExtractor throughput", f"{p['wikiextractor_s'] / p['ours_s']:.2f}x",
                     f"{p['ours_mbs']} vs {p['wikiextractor_mbs']} MB/s on {p['mb']} MB XML, 1 core",
                     "target >= 1.0x"))
    for d in (p.get("steps") or {}).get("dumps", []):
        rows.append((f"parse+clean+chunk (CPU) / WikiExtractor, {d['dump']} x{d['k']}",
                     f"{d['we_cpu'] / d['parse_clean_chunk_cpu']:.2f}x",
                     f"{d['parse_clean_chunk_cpu']} vs {d['we_cpu']} CPU s on {d['mb']} MB XML "
                     f"(parse+clean alone {d['parse_clean_cpu']} s, chunk {d['chunk_cpu']} s)", "target >= 1.5x"))
    for d in (p.get("steps") or {}).get("dumps", []):
        if d.get("whole_wall"):
            rows.append((f"whole command wall, WikiExtractor / `wiki-qa build` (text), {d['dump']} x{d['k']}",
                         f"{d['we_wall'] / d['whole_wall']:.2f}x",
                         f"{d['we_wall']} vs {d['whole_wall']} s wall ({d['we_cpu']} vs {d['whole_cpu']} CPU s), "
                         f"{d['mb']} MB XML, fresh processes, 1 core: imports, build, save, card, HTML page",
                         "target >= 1.5x"))
            rows.append((f"HTML page / build wall time, {d['dump']} x{d['k']}",
                         f"{100 * d['page_s'] / d['whole_wall']:.1f}%",
                         f"{d['page_s']} s of {d['whole_wall']} s", "target <= 5%"))
        if d.get("chunk_mbs"):
            rows.append((f"chunking, MB/s of XML per core, {d['dump']} x{d['k']}", f"{d['chunk_mbs']}",
                         f"chunk {d['chunk_cpu']} CPU s for {d['mb']} MB XML (exact token budgets); with the "
                         f"tokenizer's one-time load ({d.get('tokenizer_load', 0)} s per process) "
                         f"{d.get('chunk_load_mbs', d['chunk_mbs'])} MB/s", "target >= 50"))
    pair = (p.get("steps") or {}).get("num_proc")
    if pair:
        rows.append(("wall time, `--num-proc 2` / `--num-proc 1`, one file",
                     f"{pair['np2_wall'] / pair['np1_wall']:.2f}",
                     f"{pair['np2_wall']} vs {pair['np1_wall']} s on {pair['mb']} MB XML (best of 2 each)",
                     "target <= 0.6"))
        rows.append(("CPU time, `--num-proc 2` / `--num-proc 1`, one file", f"{pair['np2_cpu'] / pair['np1_cpu']:.2f}x",
                     f"{pair['np2_cpu']} vs {pair['np1_cpu']} CPU s", "target <= 1.1x"))
    if (p.get("steps") or {}).get("hostile_worst_s") is not None:
        rows.append(("clean: worst 1 MB page of broken markup", f"{p['steps']['hostile_worst_s']} s", "CPU s",
                     "target < 1 s"))
    if p.get("ours_s") and p.get("strip_code_s"):
        rows.append(("parse: wiki_qa / mwxml+strip_code throughput", f"{p['strip_code_s'] / p['ours_s']:.2f}x",
                     f"{p['ours_mbs']} vs {p['strip_code_mbs']} MB/s", ""))
    m = (r.get("memory") or {}).get("rows") or []
    if m:
        base = m[0]
        for row in m[1:]:
            rows.append((f"memory: peak RSS {row['k']}x dump / 1x",
                         f"{row['rss_mib'] / base['rss_mib']:.2f}x",
                         f"{row['rss_mib']:.0f} vs {base['rss_mib']:.0f} MiB ({row['mb']} vs {base['mb']} MB XML)",
                         "target < 1.20x (at 5x)" if row["k"] == 5 else ""))
        big = m[-1]
        rows.append((f"scaling: MB/s at {big['k']}x / at 1x", f"{big['mbs'] / base['mbs']:.2f}x",
                     f"{big['mbs']} vs {base['mbs']} MB/s", "1.0x = linear time"))
    llm = r.get("llm") or {}
    for key, label, target in (("ratio_c64_l0.2", "llm: achieved / ideal req/s, concurrency 64, 0.2 s",
                                "target >= 0.9"),
                               ("ratio_c256_l1", "llm: achieved / ideal req/s, concurrency 256, 1 s", "target >= 0.9"),
                               ("cpu_ms_c64_l0.2", "llm: client CPU ms per request (64, 0.2 s)", "target <= 1"),
                               ("cpu_ms_openai-post", "llm: bare openai client CPU ms per request", "transport floor"),
                               ("cpu_ms_aiohttp", "llm: bare aiohttp CPU ms per request", "transport floor"),
                               ("vs_batches_of_10", "llm: generate() / batches-of-10 (lognormal latency)",
                                "target >= 3x"),
                               ("vs_gemma_saturated", "llm: engine / Gemma server saturated req/s",
                                "target >= 0.9")):
        if key in llm:
            rows.append((label, f"{llm[key]:.2f}" + ("x" if key == "vs_batches_of_10" else ""),
                         "bench/llm_throughput.py", target))
    e = r.get("e2e") or {}
    if e.get("share") is not None:
        rows.append(("e2e demo + Gemma: build tokens/s / server saturated tokens/s", f"{e['share']:.2f}",
                     f"{e['build_tok_s']} vs {e['saturated_tok_s']} completion tok/s "
                     f"({e['requests']} requests in the build, {e['saturated_requests']} raw)", ""))
        rows.append(("e2e demo + Gemma: LLM step / whole build wall time",
                     f"{e['generate_s'] / e['wall_s']:.2f}", f"{e['generate_s']:.1f} of {e['wall_s']:.1f} s",
                     ""))
    ray = r.get("ray") or {}
    if ray.get("available"):
        for k, v in (ray.get("result") or {}).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                rows.append((f"ray: {k}", f"{v:.3g}" if isinstance(v, float) else str(v), "compare_engines", ""))
    rows += _load("bench_scale", BENCH / "scale.py").ratio_rows(r.get("scale") or {})
    rows += _load("bench_read", BENCH / "read.py").ratio_rows(r.get("read") or {})
    rows += _load("bench_fetch", BENCH / "fetch.py").ratio_rows(r.get("fetch") or {})
    rows += _load("bench_langid", BENCH / "langid.py").ratio_rows(r.get("langid") or {})
    return rows + _load("bench_qa_models", BENCH / "qa_models.py").ratio_rows(r.get("qa") or {})


def markdown(r: dict, rows) -> str:
    mc = r["machine"]
    out = ["# Benchmarks", "",
           f"Written by `make bench` (`bench/run_all.py`) on {mc['date']}, commit {mc['commit']}. Every ratio's "
           "baseline was measured in the same run on the same machine; rerun `make bench` to refresh this file."
           + (f" This run re-ran {', '.join(r['rerun'])}; the other sections are the last full run's on this "
              "machine." if r.get("rerun") else ""),
           "", "## Machine", "",
           f"- CPU: {mc['cpu']} ({mc['arch']}), {mc['cores']} cores ({mc['affinity']} usable by this process)",
           f"- Memory: {mc['memory']}", f"- OS: {mc['os']}", f"- Python {mc['python']}",
           f"- Bytecode: {mc.get('bytecode', 'unknown')}",
           "- Packages: " + ", ".join(f"{k} {v}" for k, v in mc["packages"].items()), "",
           "## Ratios", "", "| what | ratio | from | target / note |", "|---|---|---|---|"]
    out += [f"| {a} | **{b}** | {c} | {d} |" for a, b, c, d in rows]
    m = (r.get("memory") or {}).get("rows") or []
    if m:
        out += ["", "## Memory and time versus dump size", "",
                "`wiki-qa build` (no LLM, cold cache, one core via `taskset -c 0`) on enwiki-206pages.xml.bz2 "
                "decompressed and repeated k times with fresh page ids.", "",
                "| size | XML MB | time s | MB/s | peak RSS MiB |", "|---|---|---|---|---|"]
        out += [f"| {x['k']}x | {x['mb']} | {x['s']} | {x['mbs']} | {x['rss_mib']:.0f} |" for x in m]
    e = r.get("e2e") or {}
    if e:
        out += ["", "## End-to-end: demo config with the local Gemma 3 270M model", "",
                "The demo wiki built with `generate: " + json.dumps(E2E_GENERATE) + "`, `llm: "
                + json.dumps(E2E_LLM) + "`, no judge, `format: completion`, "
                "cold datasets and LLM caches, through `wiki_qa.orchestrator.run` (server start included in the "
                "wall time). The baseline sends the same requests (the chunks' qa prompts and JSON schemas, same "
                "max_tokens) raw with 4 in flight (the server's slots) to the same kind of server, started "
                "fresh in the same run, right after the build.", "",
                "| figure | value |", "|---|---|",
                f"| build wall time | {e['wall_s']} s |", f"| LLM step (timings_s.generate) | {e['generate_s']} s |",
                f"| chunks / requests / examples | {e['chunks']} / {e['requests']} / {e['examples']} |",
                f"| outcomes | {e['outcomes']} |",
                f"| prompt / completion tokens | {e['prompt_tokens']} / {e['completion_tokens']} |",
                f"| completion tokens/s in the LLM step | {e['build_tok_s']} |",
                f"| completion tokens/s over the whole build | {e['build_tok_s_wall']} |",
                f"| server saturated (raw requests) | {e['saturated_tok_s']} tok/s, {e['saturated_req_s']} req/s |",
                f"| share of saturated throughput | {e['share']} |",
                f"| build timings_s | {json.dumps(e['timings_s'])} |"]
    ray = r.get("ray") or {}
    out += ["", "## Local versus Ray engine", ""]
    if ray.get("available"):
        out += ["```json", json.dumps(ray.get("result"), indent=2, default=str), "```"]
    else:
        out += [f"ray engine: not available ({ray.get('why', 'not run')})."]
    out += _load("bench_scale", BENCH / "scale.py").markdown(r.get("scale") or {})
    out += _load("bench_qa_models", BENCH / "qa_models.py").section(r.get("qa") or {})
    out += _load("bench_langid", BENCH / "langid.py").section(r.get("langid") or {})
    for key, title in (("parse", "bench/parse.py output"), ("fidelity", "bench/fidelity.py output"),
                       ("llm", "bench/llm_throughput.py output"), ("read", "bench/read.py output")):
        if (r.get(key) or {}).get("raw"):
            out += ["", f"## {title}", "", "```", r[key]["raw"], "```"]
    if r.get("errors"):
        out += ["", "## Sections that failed", ""] + [f"- {k}: {v}" for k, v in r["errors"].items()]
    return "\n".join(out) + "\n"


def _fetch_both(mb: int) -> dict:
    """The downloader against plain aiohttp on loopback, then on a link of a fast mirror's speed."""
    fetch = _load("bench_fetch", BENCH / "fetch.py")
    return {**fetch.bench(mb), "at_link": fetch.bench(mb, rate_mbs=fetch.LINK_MBS)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer requests in the LLM benchmark; sizes 1x/2x/5x")
    ap.add_argument("--only", help=f"comma-separated subset of {','.join(SECTIONS)}")
    ap.add_argument("--dump", default=str(DUMP))
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    a = ap.parse_args()
    only = a.only.split(",") if a.only else list(SECTIONS)
    dump = Path(a.dump)
    os.environ.setdefault("OPENAI_API_KEY", "bench")
    r: dict = {"machine": machine(), "errors": {}}
    # --only re-runs some sections: the others keep the figures of the last run on this machine (its raw
    # results, bench/results/last.json), so BENCHMARKS.md stays whole; each section says nothing of when it ran
    # apart from the run's date, so a partial run names the sections it re-ran.
    if a.only and LAST.exists():
        # JSON made the int keys of some results (shard counts, num_proc) strings: turn them back
        last = json.loads(LAST.read_text(encoding="utf-8"),
                          object_hook=lambda d: {int(k) if k.isdigit() else k: v for k, v in d.items()})
        r.update({k: v for k, v in last.items() if k in SECTIONS and k not in only})
        r["errors"] = {k: v for k, v in last.get("errors", {}).items() if k not in only}
        r["rerun"] = only
    t0 = time.perf_counter()
    steps = {"parse": lambda: bench_parse(dump), "fidelity": bench_fidelity, "llm": lambda: bench_llm(a.quick),
             "memory": lambda: bench_memory(dump, [1, 2, 5] if a.quick else [1, 2, 5, 10]),
             "e2e": bench_e2e, "ray": bench_ray, "scale": lambda: _load("bench_scale", BENCH / "scale.py").bench(dump),
             "read": lambda: bench_read(dump), "qa": lambda: _load("bench_qa_models", BENCH / "qa_models.py").bench(),
             "fetch": lambda: _fetch_both(64 if a.quick else 256),
             "langid": lambda: _load("bench_langid", BENCH / "langid.py").bench()}
    for name in SECTIONS:
        if name not in only:
            continue
        print(f"== {name}", flush=True)
        try:
            r[name] = steps[name]()
        except Exception as e:  # noqa: BLE001 - report the others; the failure is listed in BENCHMARKS.md
            r["errors"][name] = f"{type(e).__name__}: {str(e)[:500]}"
            print(f"   FAILED: {r['errors'][name]}")
        if name == "ray" and not r.get("ray", {}).get("available"):
            print("   ray engine: not available")
    rows = ratio_rows(r)
    w = max([len(x[0]) for x in rows] + [10])
    print(f"\n{'what':{w}s}  {'ratio':>7s}  from / target")
    for what, ratio, frm, target in rows:
        print(f"{what:{w}s}  {ratio:>7s}  {frm}" + (f"  [{target}]" if target else ""))
    Path(a.out).write_text(markdown(r, rows), encoding="utf-8")
    LAST.parent.mkdir(exist_ok=True)
    LAST.write_text(json.dumps(r, default=str), encoding="utf-8")
    print(f"\nwrote {a.out} ({time.perf_counter() - t0:.0f} s)")
    return 1 if r["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
