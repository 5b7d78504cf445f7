"""Parse/clean throughput, step by step, against WikiExtractor 3.1.0 run side by side in the same run.

For the English sample (enwiki-206pages, 6.1 MB XML) and a template-heavy dump (dbpedia-minidump-en), each
made k times larger (default 5, fresh page ids), on one core (taskset -c 0):

- wiki_qa's steps, in a fresh process: XML (page iteration), prepass, tokenize, render (token walk, templates,
  sections, tidy), chunk (the build's chunker), write (datasets' ArrowWriter); decompress is the .bz2 -> XML
  step on the original file, reported apart (WikiExtractor is given the same XML);
- WikiExtractor --processes 1 on the same XML (its worker processes included);
- mwxml + mwparserfromhell.strip_code (the plain baseline);
- the whole command: `wiki-qa build` in a fresh process (text format, cold cache, from the shell to the
  prompt: imports, build, save, card, HTML page) against WikiExtractor's own command, wall seconds, both
  on one core; and how much of the build's wall time its HTML page took (the page drawn again in a process
  that has imported what the build imports);
- `--num-proc 2` against `--num-proc 1` on the English dump (both cores free to it): wall and CPU seconds;
- the whole `wiki-qa build` (no LLM, cold cache) and its peak RSS at 1x and 5x (the memory check).

Times are CPU seconds (user + sys) of the measured processes: the machine is shared, and CPU time is what a
core spends; wall seconds are printed too. Ratios are throughput ratios from this run. Also: 1 MB pages of
broken markup through the cleaner, CPU seconds each. Usage: python bench/parse.py [DUMP ...] [--k 5]
"""
from __future__ import annotations

import argparse
import bz2
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "mediawiki"
DEFAULT = DATA / "enwiki-206pages.xml.bz2"
TEMPLATE_HEAVY = DATA / "dbpedia-minidump-en.xml.bz2"
ONE_CORE = ["taskset", "-c", "0"] if shutil.which("taskset") else []
STEPS = ("xml", "prepass", "tokenize", "render", "chunk", "write")
HOSTILE = ["{{a ", "[[File:x.jpg|", "<ref>", "[http://x ", "{|\n", "<div>", "[[a|", '<span style="', "{{a|[[b|",
           "[[a|{{b|", "[[", "<!--", "]] [[a|", "<p>", "''' ''", "    "]

MEASURE = """
import resource, runpy, sys, time
t = time.perf_counter()
sys.argv = sys.argv[1:]
try:
    if sys.argv[0] == "-m":
        sys.argv = sys.argv[1:]
        runpy.run_module(sys.argv[0], run_name="__main__")
    else:
        runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as e:
    if e.code not in (0, None):
        raise
print("@@", time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""

BASELINE = """
import sys, mwxml, mwparserfromhell
n = 0
for page in mwxml.Dump.from_file(open(sys.argv[1], "rb")):
    for rev in page:
        if page.namespace == 0 and rev.text and not page.redirect:
            n += len(mwparserfromhell.parse(rev.text).strip_code())
print(n)
"""


def cpu_of(cmd: list[str], env=None, one_core: bool = True) -> tuple[float, float, str, str]:
    """(CPU seconds of the process and every descendant it waited for, wall seconds, stdout, stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run((ONE_CORE if one_core else []) + cmd, capture_output=True, text=True,
                       env={**os.environ, **(env or {})})
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"failed: {cmd}\n{p.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, p.stdout, p.stderr


def run(args, env=None) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes) of a Python entry point run under MEASURE."""
    _, _, _, err = cpu_of([sys.executable, "-c", MEASURE, *args], env)
    secs, rss = re.findall(r"@@ ([\d.]+) (\d+)", err)[-1]
    return float(secs), int(rss) * 1024


def ours(xml: Path, work: Path) -> tuple[float, int]:
    """The whole `wiki-qa build` (cold cache): wall seconds and peak RSS."""
    cfg = work / f"bench-{xml.stem}.yaml"
    cfg.write_text(json.dumps({"name": "bench", "source": {"type": "mediawiki", "path": str(xml)},
                               "output": {"dir": str(work / f"out-{xml.stem}")}}))
    cache = work / f"cache-{xml.stem}"
    shutil.rmtree(cache, ignore_errors=True)
    return run(["-m", "wiki_qa.cli", "build", str(cfg), "--quiet"], env={"HF_DATASETS_CACHE": str(cache)})


WIKI_QA = Path(sys.executable).with_name("wiki-qa")  # the console script a user types

# The page as a build draws it: once, in a process that has imported what the build imports, so whatever
# the page imports on first use (a plotting library) counts.
PAGE = """
import sys, time
import wiki_qa.cli, wiki_qa.orchestrator.run
from wiki_qa.viz import write_page
t = time.perf_counter()
write_page(sys.argv[1], update_card=False)
print(time.perf_counter() - t)
"""


def whole_command(xml: Path, work: Path, num_proc: int | None = None, one_core: bool = True) -> dict:
    """`wiki-qa build` as a user runs it: a fresh process, text format, cold cache; wall and CPU seconds
    (the process and every process it waited for), and the output folder."""
    out = work / f"whole-{xml.stem}-np{num_proc or 1}"
    cfg = work / f"whole-{xml.stem}.yaml"
    cfg.write_text(json.dumps({"name": "bench", "source": {"type": "mediawiki", "path": str(xml)},
                               "format": "text", "output": {"dir": str(out)}}))
    cache = work / f"cache-whole-{xml.stem}"
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(WIKI_QA) if WIKI_QA.exists() else sys.executable, *([] if WIKI_QA.exists() else ["-m", "wiki_qa.cli"]),
           "build", str(cfg), "--quiet", *(["--num-proc", str(num_proc)] if num_proc else [])]
    cpu, wall, _, _ = cpu_of(cmd, env={"HF_DATASETS_CACHE": str(cache)}, one_core=one_core)
    shutil.rmtree(cache, ignore_errors=True)
    return {"cpu": cpu, "wall": wall, "out": out}


def page_seconds(out: Path) -> float:
    """Wall seconds of the build's HTML page on its own output (one core, first drawing in the process)."""
    _, _, stdout, _ = cpu_of([sys.executable, "-c", PAGE, str(out)])
    return float(stdout.strip().splitlines()[-1])


def k_times(xml: Path, dest: Path, k: int = 5) -> None:
    """The dump's pages repeated k times, with page ids shifted so every copy is a new document."""
    text = xml.read_text(encoding="utf-8")
    head, rest = text.split("<page>", 1)
    body, tail = ("<page>" + rest).rsplit("</page>", 1)
    body += "</page>"
    with dest.open("w", encoding="utf-8") as f:
        f.write(head)
        for i in range(k):
            f.write(re.sub(r"(<page>\s*<title>[^<]*</title>\s*<ns>\d+</ns>\s*<id>)(\d+)",
                           lambda m: f"{m.group(1)}{int(m.group(2)) + i * 10_000_000}", body))
        f.write(tail)


# ---- wiki_qa, step by step (run in a fresh process: `parse.py --steps XML OUT`) ----------------------------
def steps(xml: str, out: str) -> dict:
    import gc

    from datasets.arrow_writer import ArrowWriter

    from wiki_qa.builders.base import SourceStats
    from wiki_qa.builders.mediawiki.clean.prepass import prepare
    from wiki_qa.builders.mediawiki.clean.render import Renderer, tokenize
    from wiki_qa.builders.mediawiki.clean.templates.registry import Context
    from wiki_qa.builders.mediawiki.clean.wikitext import _date, assemble
    from wiki_qa.builders.mediawiki.config import MediaWikiConfig
    from wiki_qa.builders.mediawiki.source import MediaWikiSource
    from wiki_qa.pipeline.chunk import ChunkConfig, Chunker, chunk_rows

    clock = time.process_time
    src = MediaWikiSource(MediaWikiConfig(path=xml))
    opt, stats = src._options, SourceStats()
    chunker = Chunker(ChunkConfig())
    spent = dict.fromkeys(STEPS, 0.0)
    # The tokenizer's vocabulary loads once per process (~0.07 s): timed apart, so "chunk" is the chunker's
    # rate, which is what grows with the input; parse+clean+chunk and the whole command still include it.
    t = clock()
    chunker.count("load the tokenizer")
    tokenizer_load = clock() - t
    counts = {"pages": 0, "chunks": 0}
    writer = ArrowWriter(path=out)
    collecting = gc.isenabled()
    for shard in src.shards():
        docs = src.read(shard, stats)
        t = clock()
        for doc in docs:
            now = clock()
            spent["xml"] += now - t
            # the steps of MediaWikiSource.to_text, timed one by one
            gc.disable()
            text = prepare(doc["text"], opt.templates.keeps, src._syntax, opt.keep_tables)
            t1 = clock()
            toks = tokenize(text)
            t2 = clock()
            renderer = Renderer(src._syntax, opt, opt.templates, Context(today=_date(doc["meta"]["timestamp"])))
            clean = assemble(renderer.render(toks), opt)
            del toks
            if collecting:
                gc.enable()
            t3 = clock()
            rows = list(chunk_rows(doc, clean, chunker, {}))
            t4 = clock()
            for row in rows:
                writer.write(row)
            t = clock()
            spent["prepass"] += t1 - now
            spent["tokenize"] += t2 - t1
            spent["render"] += t3 - t2
            spent["chunk"] += t4 - t3
            spent["write"] += t - t4
            counts["pages"] += 1
            counts["chunks"] += len(rows)
    t = clock()
    writer.finalize()
    spent["write"] += clock() - t
    return {"cpu": spent, "tokenizer_load": tokenizer_load, **counts}


def hostile() -> list[tuple[str, float]]:
    from wiki_qa.builders.mediawiki.clean import to_text

    out = []
    for p in HOSTILE:
        page = p * (1_000_000 // len(p))
        t = time.process_time()
        to_text(page)
        out.append((p, time.process_time() - t))
    return out


# ---- report ------------------------------------------------------------------------------------------
def compare(src: Path, k: int, work: Path) -> dict:
    xml1 = work / f"{src.stem}.xml"
    t = time.process_time()
    raw = bz2.decompress(src.read_bytes()) if src.suffix == ".bz2" else src.read_bytes()
    decompress = (time.process_time() - t) * k
    xml1.write_bytes(raw)
    xml = work / f"{src.stem}-x{k}.xml"
    k_times(xml1, xml, k)
    mb = xml.stat().st_size / 1e6
    cpu, wall, stdout, _ = cpu_of([sys.executable, str(Path(__file__).resolve()), "--steps", str(xml),
                                   str(work / "steps.arrow")])
    step = json.loads(stdout.strip().splitlines()[-1])
    we_cpu, we_wall, _, _ = cpu_of([sys.executable, "-m", "wikiextractor.WikiExtractor", str(xml),
                                    "--processes", "1", "-q", "-o", str(work / "we")])
    base = work / "baseline.py"
    base.write_text(BASELINE)
    sc_cpu, sc_wall, _, _ = cpu_of([sys.executable, str(base), str(xml)])
    whole = whole_command(xml, work)
    page = page_seconds(whole["out"])
    return {"dump": src.name, "k": k, "mb": mb, "decompress": decompress, "steps": step, "process_cpu": cpu,
            "process_wall": wall, "we_cpu": we_cpu, "we_wall": we_wall, "strip_code_cpu": sc_cpu,
            "strip_code_wall": sc_wall, "whole_cpu": whole["cpu"], "whole_wall": whole["wall"], "page_s": page,
            "xml": str(xml)}


def print_compare(r: dict) -> dict:
    s, mb = r["steps"]["cpu"], r["mb"]
    load = r["steps"].get("tokenizer_load", 0.0)
    pcc = s["xml"] + s["prepass"] + s["tokenize"] + s["render"] + s["chunk"] + load
    print(f"\ndump: {r['dump']} x{r['k']} ({mb:.1f} MB of XML, {r['steps']['pages']} pages, "
          f"{r['steps']['chunks']} chunks)")
    print(f"  {'step (wiki_qa, CPU s)':34s} {'s':>7s} {'MB/s':>8s}")
    print(f"  {'decompress (.bz2 -> XML)':34s} {r['decompress']:7.2f} {mb / max(r['decompress'], 1e-9):8.1f}")
    for k in STEPS:
        print(f"  {k:34s} {s[k]:7.2f} {mb / max(s[k], 1e-9):8.1f}")
    print(f"  {'tokenizer load (once per process)':34s} {load:7.2f}")
    print(f"  {'wiki_qa parse+clean+chunk':34s} {pcc:7.2f} {mb / pcc:8.2f}")
    print(f"  {'wiki_qa parse+clean+chunk+write':34s} {pcc + s['write']:7.2f} {mb / (pcc + s['write']):8.2f}")
    print(f"  {'wiki_qa process (incl. imports)':34s} {r['process_cpu']:7.2f} {mb / r['process_cpu']:8.2f}"
          f"   wall {r['process_wall']:.2f} s")
    print(f"  {'WikiExtractor --processes 1':34s} {r['we_cpu']:7.2f} {mb / r['we_cpu']:8.2f}"
          f"   wall {r['we_wall']:.2f} s")
    print(f"  {'mwxml + mwparserfromhell.strip_code':34s} {r['strip_code_cpu']:7.2f} "
          f"{mb / r['strip_code_cpu']:8.2f}   wall {r['strip_code_wall']:.2f} s")
    clean = pcc - s["chunk"] - load
    print(f"  ratio parse+clean+chunk / WikiExtractor: {r['we_cpu'] / pcc:.2f}x (target >= 1.5x); "
          f"with write {r['we_cpu'] / (pcc + s['write']):.2f}x; whole process {r['we_cpu'] / r['process_cpu']:.2f}x")
    print(f"  ratio parse+clean (XML, prepass, tokenize, render) / WikiExtractor: {r['we_cpu'] / clean:.2f}x; "
          f"the chunker is {100 * s['chunk'] / pcc:.0f}% of parse+clean+chunk")
    print(f"  chunking: {mb / max(s['chunk'], 1e-9):.1f} MB/s of XML per core (target >= 50); with the tokenizer's "
          f"one-time load {mb / max(s['chunk'] + load, 1e-9):.1f} MB/s")
    print(f"  whole command, wall s, one core (fresh process, text format: imports, build, save, card, HTML page):\n"
          f"    wiki-qa build {r['whole_wall']:.2f} s (CPU {r['whole_cpu']:.2f} s), WikiExtractor --processes 1 "
          f"{r['we_wall']:.2f} s (CPU {r['we_cpu']:.2f} s): WikiExtractor / wiki-qa = "
          f"{r['we_wall'] / r['whole_wall']:.2f}x (target >= 1.5x)")
    print(f"  HTML page: {r['page_s']:.3f} s = {100 * r['page_s'] / r['whole_wall']:.1f}% of the build's wall time "
          "(target <= 5%)")
    return {"dump": r["dump"], "k": r["k"], "mb": round(mb, 1), "we_cpu": round(r["we_cpu"], 2),
            "parse_clean_chunk_cpu": round(pcc, 2), "parse_clean_cpu": round(clean, 2),
            "chunk_cpu": round(s["chunk"], 2), "chunk_mbs": round(mb / max(s["chunk"], 1e-9), 1),
            "tokenizer_load": round(load, 3), "chunk_load_mbs": round(mb / max(s["chunk"] + load, 1e-9), 1),
            "we_wall": round(r["we_wall"], 2), "whole_wall": round(r["whole_wall"], 2),
            "whole_cpu": round(r["whole_cpu"], 2), "page_s": round(r["page_s"], 3)}


def num_proc_pair(xml: Path, work: Path) -> dict:
    """`--num-proc 2` against `--num-proc 1` on the same file, neither pinned: wall and CPU seconds (lowest
    of two interleaved rounds each: other work on a shared machine only adds to either)."""
    runs: dict = {1: [], 2: []}
    for _ in range(2):
        for n in (1, 2):
            runs[n].append(whole_command(xml, work, num_proc=n, one_core=False))
    out = {n: {"wall": min(x["wall"] for x in r), "cpu": min(x["cpu"] for x in r)} for n, r in runs.items()}
    mb = xml.stat().st_size / 1e6
    print(f"\n--num-proc 2 vs 1 on {mb:.1f} MB XML ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}):"
          f" wall {out[2]['wall']:.2f} vs {out[1]['wall']:.2f} s = {out[2]['wall'] / out[1]['wall']:.2f} "
          f"(target <= 0.6), CPU {out[2]['cpu']:.2f} vs {out[1]['cpu']:.2f} s = "
          f"{out[2]['cpu'] / out[1]['cpu']:.2f}x (target <= 1.1x)")
    return {"mb": round(mb, 1), "np1_wall": round(out[1]["wall"], 2), "np2_wall": round(out[2]["wall"], 2),
            "np1_cpu": round(out[1]["cpu"], 2), "np2_cpu": round(out[2]["cpu"], 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dumps", nargs="*", type=Path)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--steps", nargs=2, metavar=("XML", "OUT"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.steps:
        print(json.dumps(steps(*a.steps)))
        return
    dumps = list(a.dumps or [DEFAULT])
    if TEMPLATE_HEAVY not in dumps:
        dumps.append(TEMPLATE_HEAVY)  # the second speed target, always measured
    work = Path(tempfile.mkdtemp(prefix="wiki_qa-bench-"))
    try:
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, one core via taskset: {bool(ONE_CORE)}, "
              f"load average {os.getloadavg()[0]:.1f}")
        compared = [compare(d, a.k, work) for d in dumps]
        summary = [print_compare(r) for r in compared]
        pair = num_proc_pair(Path(compared[0]["xml"]), work)
        # the whole build, and its memory at 1x and 5x (bench/run_all.py reads these lines)
        src = dumps[0]
        xml = work / "dump.xml"
        xml.write_bytes(bz2.decompress(src.read_bytes()) if src.suffix == ".bz2" else src.read_bytes())
        mb = xml.stat().st_size / 1e6
        t_ours, rss1 = ours(xml, work)
        t_we, _ = run(["-m", "wikiextractor.WikiExtractor", str(xml), "--processes", "1", "-o",
                       str(work / "we1"), "-q"])
        base = work / "baseline.py"
        t_mw, _ = run([str(base), str(xml)])
        big = work / "dump5x.xml"
        k_times(xml, big, 5)
        t_big, rss5 = ours(big, work)
        print(f"\nwhole build, wall seconds (the machine is shared: see the CPU figures above)\n"
              f"input: {src.name}, {mb:.1f} MB XML")
        for name, t in (("wiki_qa build (clean, chunk, save)", t_ours), ("WikiExtractor --processes 1", t_we),
                        ("mwxml + mwparserfromhell.strip_code", t_mw)):
            print(f"  {name:55s} {t:7.2f} s  {mb / t:6.2f} MB/s")
        print(f"ratio wiki_qa / WikiExtractor throughput:   {t_we / t_ours:.2f}x")
        print(f"ratio wiki_qa / plain strip_code throughput: {t_mw / t_ours:.2f}x")
        growth = rss5 / rss1 - 1
        print(f"peak RSS: {rss1 / 2**20:.0f} MiB on {mb:.1f} MB, {rss5 / 2**20:.0f} MiB on {5 * mb:.1f} MB "
              f"({growth * 100:+.1f}%, target < +20%); 5x build took {t_big:.1f} s ({5 * mb / t_big:.2f} MB/s)")
        cpu, _, stdout, _ = cpu_of([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                                    "import parse, json; print(json.dumps(parse.hostile()))",
                                    str(Path(__file__).resolve().parent)])
        rows = json.loads(stdout.strip().splitlines()[-1])
        worst = max(rows, key=lambda r: r[1])
        print(f"\nbroken markup, 1 MB pages through the cleaner (CPU s): worst {worst[1]:.2f} s on {worst[0]!r} "
              f"(target < 1 s)")
        print("  " + ", ".join(f"{p!r} {s:.2f}" for p, s in rows))
        print("@@steps " + json.dumps({"dumps": summary, "hostile_worst_s": round(worst[1], 2), "num_proc": pair}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
