"""Scale: no repeated work across shards, parallel wall time, Ray driver memory, full English Wikipedia.

Every figure comes from builds run side by side in this run (`wiki-qa build`, no LLM step, cold caches,
each in its own process; CPU time = user + sys of the build and all the processes it waited for):
1. CPU: one multistream .bz2 dump of >= 50 MB XML (enwiki-206pages' pages repeated with fresh page ids,
   100 pages per bz2 stream, with its -multistream-index.txt.bz2) built as one shard (num_proc 1) and as
   the N shards the source cuts it into for num_proc 2. Target: CPU(N shards) <= 1.1 x CPU(1 shard).
   The same pages as two part files (the way Wikimedia ships its biggest dumps) are built with num_proc 2
   too: shards are files there, whatever the source can cut.
2. Wall time: num_proc 2 / num_proc 1 on that dump. Target <= 0.6.
3. Ray driver memory: peak RSS of the driver process (`--engine ray --num-proc 2`) on the 1x and the 10x
   dump. Target: differ by < 10%. Peak anonymous memory (sampled) is given beside the high-water mark,
   which also counts the pages of memory-mapped Arrow files the final save reads.
4. An estimate for full English Wikipedia on 64 cores from the per-core figures of step 1.

Usage: python bench/scale.py [--dump FILE]     (bench/run_all.py runs it as its "scale" section)
"""
from __future__ import annotations

import argparse
import bz2
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DUMP = ROOT.parent / "shared" / "data" / "mediawiki" / "enwiki-206pages.xml.bz2"
PAGES_PER_STREAM = 100
# Full English Wikipedia, as in issue 12: ~100 GB of XML (24 GB multistream bz2), ~7 million pages.
ENWIKI_XML_MB, ENWIKI_PAGES, CORES = 100_000, 7_000_000, 64

# Runs `python -m wiki_qa.cli ...` in this process, sampling its own memory; prints one JSON line.
MEASURE = r"""
import json, resource, runpy, sys, threading, time
peak = {"RssAnon": 0, "RssFile": 0}
def sample():
    while True:
        with open("/proc/self/status") as f:
            for line in f:
                k = line.split(":")[0]
                if k in peak:
                    peak[k] = max(peak[k], int(line.split()[1]) * 1024)
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
t = time.perf_counter()
sys.argv = ["wiki-qa", *sys.argv[1:]]
try:
    runpy.run_module("wiki_qa.cli", run_name="__main__")
except SystemExit as e:
    if e.code not in (0, None):
        raise
print("@@" + json.dumps({"wall_s": time.perf_counter() - t, "peak_anon": peak["RssAnon"],
                         "hwm": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}), file=sys.stderr)
"""


# -- inputs ---------------------------------------------------------------------------------------------
def _pages(src: Path) -> tuple[str, list[str], str]:
    text = bz2.decompress(src.read_bytes()).decode("utf-8") if src.suffix == ".bz2" else src.read_text("utf-8")
    head, rest = text.split("<page>", 1)
    body, tail = ("<page>" + rest).rsplit("</page>", 1)
    pages = [p[p.index("<page>"):] + "</page>\n" for p in body.split("</page>") if p.strip()]
    return head, pages, tail


_ID = re.compile(r"(<page>\s*<title>([^<]*)</title>\s*<ns>\d+</ns>\s*<id>)(\d+)")


def make_dump(src: Path, folder: Path, k: int, parts: int = 1) -> list[Path]:
    """`src`'s pages repeated k times (page ids shifted by 10M per copy), written as Wikimedia writes
    multistream dumps: the head in stream 0, then 100 pages per bz2 stream, the closing tag last, and an
    index of "offset:page_id:title" lines. With parts > 1, consecutive runs of pages go to part files."""
    head, pages, tail = _pages(src)
    copies = []
    for i in range(k):
        for p in pages:
            m = _ID.search(p)
            pid = int(m.group(3)) + i * 10_000_000
            copies.append((pid, m.group(2), p[:m.start(3)] + str(pid) + p[m.end(3):]))
    per_part = math.ceil(len(copies) / parts)
    out = []
    for n in range(parts):
        chunk = copies[n * per_part:(n + 1) * per_part]
        name = (f"enwiki-bench{k}x-pages-articles-multistream.xml.bz2" if parts == 1 else
                f"enwiki-bench{k}x-pages-articles-multistream{n + 1}.xml-p{chunk[0][0]}p{chunk[-1][0]}.bz2")
        dump = folder / name
        index_lines = []
        with dump.open("wb") as f:
            f.write(bz2.compress(head.encode()))
            for s in range(0, len(chunk), PAGES_PER_STREAM):
                offset = f.tell()
                block = chunk[s:s + PAGES_PER_STREAM]
                index_lines += [f"{offset}:{pid}:{title}" for pid, title, _ in block]
                f.write(bz2.compress("".join(p for _, _, p in block).encode()))
            f.write(bz2.compress(tail.encode()))
        index = folder / re.sub(r"-multistream(\d*)\.xml(-p\d+p\d+)?\.bz2$", r"-multistream-index\1.txt\2.bz2", name)
        index.write_bytes(bz2.compress(("\n".join(index_lines) + "\n").encode()))
        out.append(dump)
    return out


def xml_mb(paths: list[Path]) -> float:
    return sum(len(bz2.decompress(p.read_bytes())) for p in paths) / 1e6


# -- builds ---------------------------------------------------------------------------------------------
def config(work: Path, name: str, paths: list[Path], engine: str = "local") -> Path:
    from wiki_qa.builders.mediawiki.config import MediaWikiConfig

    source = {"type": "mediawiki", "path": [str(p) for p in paths] if len(paths) > 1 else str(paths[0])}
    if "min_shard_bytes" in MediaWikiConfig.model_fields:  # byte-range shards: cut these small dumps too
        source["min_shard_bytes"] = 1 << 20
    cfg = work / f"{name}.yaml"
    cfg.write_text(json.dumps({"name": name, "source": source, "engine": engine,
                               "output": {"dir": str(work / f"out-{name}")}}))
    return cfg


def shards(cfg: Path, parallel: int) -> int:
    from wiki_qa.builders import make_source
    from wiki_qa.config import load_config

    return len(make_source(load_config(str(cfg)).source).shards(parallel=parallel))


def build(cfg: Path, work: Path, num_proc: int, tag: str) -> dict:
    """One cold build in its own process: wall and CPU time, the driver's peak memory, the report."""
    env = {**os.environ, "HF_DATASETS_CACHE": str(work / f"cache-{tag}"), "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
           "WIKI_QA_CACHE": str(work / f"wq-{tag}")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run([sys.executable, "-c", MEASURE, "build", str(cfg), "--quiet", "--num-proc", str(num_proc),
                        "--output", str(work / f"out-{tag}")], capture_output=True, text=True, env=env, cwd=work)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError(f"build {tag} failed:\n{p.stderr[-3000:]}")
    m = json.loads(re.findall(r"^@@(.*)$", p.stderr, re.M)[-1])
    report = json.loads((work / f"out-{tag}" / "build_report.json").read_text())
    res = {"tag": tag, "num_proc": num_proc, "wall_s": round(m["wall_s"], 2),
           "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
           "driver_hwm_mib": round(m["hwm"] / 2**20, 1), "driver_anon_mib": round(m["peak_anon"] / 2**20, 1),
           "rows": report["splits"], "pages": report["source"]["pages_seen"],
           "output_mb": round(sum(f.stat().st_size for f in (work / f"out-{tag}").rglob("*.arrow")) / 1e6, 1),
           "timings_s": report["timings_s"]}
    shutil.rmtree(work / f"cache-{tag}", ignore_errors=True)
    print(f"   {tag:24s} np={num_proc} wall {res['wall_s']:6.1f} s  cpu {res['cpu_s']:6.1f} s  "
          f"driver peak {res['driver_hwm_mib']:.0f} MiB (anon {res['driver_anon_mib']:.0f})", flush=True)
    return res


# -- the benchmark --------------------------------------------------------------------------------------
def bench(dump: Path = DUMP) -> dict:
    work = Path(tempfile.mkdtemp(prefix="wiki_qa-bench-scale-"))
    try:
        one_mb = xml_mb([dump])
        k = math.ceil(50 / one_mb)  # >= 50 MB of XML
        big = make_dump(dump, work, k)
        parts = make_dump(dump, work, k, parts=2)
        mb = xml_mb(big)
        r: dict = {"xml_mb": round(mb, 1), "k": k, "bz2_mb": round(big[0].stat().st_size / 1e6, 1)}
        one, split = config(work, "one", big), config(work, "parts", parts)
        r["shards"] = {"one_file_np1": shards(one, 1), "one_file_np2": shards(one, 2), "part_files_np2": shards(split, 2)}
        r["np1"] = build(one, work, 1, "one-file-np1")
        r["np2"] = build(one, work, 2, "one-file-np2")
        r["parts_np2"] = build(split, work, 2, "part-files-np2")
        ray = {}
        for n in (1, 10):
            ray_cfg = config(work, f"ray{n}x", make_dump(dump, work, n), engine="ray")
            ray[f"{n}x"] = build(ray_cfg, work, 2, f"ray-{n}x")
        r["ray"] = ray
        r["ray_xml_mb"] = {"1x": round(one_mb, 1), "10x": round(10 * one_mb, 1)}
        r["estimate"] = estimate(r)
        return r
    finally:
        shutil.rmtree(work, ignore_errors=True)


def estimate(r: dict) -> dict:
    """Full English Wikipedia on 64 cores from the one-core build: the stages' seconds per MB of XML (one
    process, so wall = one core's time), spread over 64 cores; then the driver's serial part (format +
    write of the output) per MB, and the fixed start-up cost, as measured here."""
    np1, mb = r["np1"], r["xml_mb"]
    t = np1["timings_s"]
    stage_s = t["stages"]
    serial_s = t.get("format", 0.0) + t.get("write", 0.0)
    fixed_s = max(0.0, np1["wall_s"] - t["total"]) + max(0.0, t["total"] - stage_s - serial_s)
    mb_s_core, pages_s_core = mb / stage_s, np1["pages"] / stage_s
    by_bytes = ENWIKI_XML_MB / (mb_s_core * CORES)
    by_pages = ENWIKI_PAGES / (pages_s_core * CORES)
    serial = ENWIKI_XML_MB * serial_s / mb
    return {"stage_s": stage_s, "serial_s": round(serial_s, 2), "fixed_s": round(fixed_s, 2),
            "mb_s_per_core": round(mb_s_core, 2), "pages_s_per_core": round(pages_s_core, 1),
            "output_per_xml_mb": round(np1["output_mb"] / mb, 3), "driver_mb_s": round(mb / serial_s, 1),
            "stages_min_by_bytes": round(by_bytes / 60, 1), "stages_min_by_pages": round(by_pages / 60, 1),
            "driver_min": round(serial / 60, 1), "total_min": round((by_bytes + serial + fixed_s) / 60, 1)}


# -- report ---------------------------------------------------------------------------------------------
def ratio_rows(r: dict) -> list[tuple[str, str, str, str]]:
    if not r.get("np1"):
        return []
    np1, np2, parts = r["np1"], r["np2"], r["parts_np2"]
    sh = r["shards"]
    rows = [(f"scale: CPU time, {sh['one_file_np2']} shard(s) of one file / 1 shard", f"{np2['cpu_s'] / np1['cpu_s']:.2f}x",
             f"{np2['cpu_s']} vs {np1['cpu_s']} CPU s on {r['xml_mb']} MB XML", "target <= 1.1x"),
            (f"scale: CPU time, {sh['part_files_np2']} part files / 1 shard", f"{parts['cpu_s'] / np1['cpu_s']:.2f}x",
             f"{parts['cpu_s']} vs {np1['cpu_s']} CPU s, same pages", "target <= 1.1x"),
            ("scale: wall time num_proc 2 / num_proc 1, one file", f"{np2['wall_s'] / np1['wall_s']:.2f}",
             f"{np2['wall_s']} vs {np1['wall_s']} s ({sh['one_file_np2']} shard(s))", "target <= 0.6"),
            ("scale: wall time num_proc 2 / num_proc 1, two part files", f"{parts['wall_s'] / np1['wall_s']:.2f}",
             f"{parts['wall_s']} vs {np1['wall_s']} s", "target <= 0.6")]
    ray = r.get("ray") or {}
    if ray:
        a, b = ray["1x"], ray["10x"]
        rows.append(("scale: Ray driver peak RSS, 10x input / 1x", f"{b['driver_hwm_mib'] / a['driver_hwm_mib']:.2f}x",
                     f"{b['driver_hwm_mib']:.0f} vs {a['driver_hwm_mib']:.0f} MiB "
                     f"({r['ray_xml_mb']['10x']} vs {r['ray_xml_mb']['1x']} MB XML)", "target < 1.10x"))
        rows.append(("scale: Ray driver peak anonymous memory, 10x / 1x",
                     f"{b['driver_anon_mib'] / a['driver_anon_mib']:.2f}x",
                     f"{b['driver_anon_mib']:.0f} vs {a['driver_anon_mib']:.0f} MiB", ""))
    e = r.get("estimate") or {}
    if e:
        rows.append(("scale: full English Wikipedia, 64 cores, no LLM (estimate)", f"{e['total_min']} min",
                     f"{e['mb_s_per_core']} MB/s per core", "target < 30 min"))
    return rows


def markdown(r: dict) -> list[str]:
    if not r.get("np1"):
        return []
    e, sh = r["estimate"], r["shards"]
    out = ["", "## Scale: shards, parallel builds, Ray driver memory (bench/scale.py)", "",
           f"Input: enwiki-206pages' pages repeated {r['k']} times with fresh page ids as one multistream "
           f"bz2 dump with its index ({r['xml_mb']} MB XML, {r['bz2_mb']} MB bz2, 100 pages per stream), and the "
           "same pages as two part files. `wiki-qa build`, no LLM step, cold cache, each build in its own "
           "process; CPU = user + sys of the build and its worker processes. Shards the source gave: "
           f"{sh['one_file_np1']} for num_proc 1, {sh['one_file_np2']} for num_proc 2 on the one file, "
           f"{sh['part_files_np2']} on the part files.", "",
           "| build | num_proc | wall s | CPU s | driver peak RSS MiB | driver peak anon MiB | rows train/val/test |",
           "|---|---|---|---|---|---|---|"]
    runs = [r["np1"], r["np2"], r["parts_np2"], *(r.get("ray") or {}).values()]
    out += [f"| {x['tag']} | {x['num_proc']} | {x['wall_s']} | {x['cpu_s']} | {x['driver_hwm_mib']:.0f} | "
            f"{x['driver_anon_mib']:.0f} | {'/'.join(str(x['rows'][s]) for s in ('train', 'val', 'test'))} |"
            for x in runs]
    out += ["", f"Ray runs: `--engine ray --num-proc 2` on {r['ray_xml_mb']['1x']} MB (1x) and "
            f"{r['ray_xml_mb']['10x']} MB (10x) of XML; the driver is the `wiki-qa build` process (Ray's own "
            "processes are not counted). Its CPU column counts only what the driver waited for.", "",
            "### Full English Wikipedia on 64 cores (estimate, no LLM step)", "",
            f"- Per core, from the num_proc 1 build above: the stages (read, clean, chunk, split; one process) took "
            f"{e['stage_s']} s for {r['xml_mb']} MB of XML: **{e['mb_s_per_core']} MB/s** "
            f"({e['pages_s_per_core']} pages/s) per core. The driver's serial part (format + write, "
            f"{e['serial_s']} s) ran at {e['driver_mb_s']} MB of XML/s; start-up and report took {e['fixed_s']} s.",
            f"- Stages: {ENWIKI_XML_MB:,} MB / ({e['mb_s_per_core']} MB/s x {CORES} cores) = "
            f"**{e['stages_min_by_bytes']} min**. By pages instead: {ENWIKI_PAGES:,} / "
            f"({e['pages_s_per_core']} x {CORES}) = {e['stages_min_by_pages']} min; the sample's pages are long "
            "featured articles (about 30 KB of XML each against about 14 KB for an average page), so the byte "
            "figure is the better one.",
            f"- Driver: {ENWIKI_XML_MB:,} MB / {e['driver_mb_s']} MB/s = **{e['driver_min']} min** (the output is "
            f"{e['output_per_xml_mb']} x the XML).",
            f"- Total: **{e['total_min']} min** (target < 30 min), assuming {CORES} cores sustain the per-core "
            "rate: shards are independent and there are 4 per core, so the tail is short."]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", default=str(DUMP))
    a = ap.parse_args()
    r = bench(Path(a.dump))
    print(json.dumps(r, indent=2))
    print("\n".join(markdown(r)))
    for row in ratio_rows(r):
        print(" | ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
