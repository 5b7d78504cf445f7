"""Parse/clean throughput and memory, side by side in one run, on one core (taskset -c 0).

Prints MB/s of XML for: wiki_qa's build (no LLM, a cold cache), WikiExtractor (--processes 1), and plain
mwxml + mwparserfromhell.strip_code(); our ratio to each; and peak RSS of our build on the dump and on the
same dump made five times larger. Every figure comes from this run. Usage: python bench/parse.py [DUMP]
"""
from __future__ import annotations

import bz2
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
DEFAULT = ROOT.parent / "shared" / "data" / "mediawiki" / "enwiki-206pages.xml.bz2"
ONE_CORE = ["taskset", "-c", "0"] if shutil.which("taskset") else []

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


def run(args, env=None) -> tuple[float, int]:
    p = subprocess.run(ONE_CORE + [sys.executable, "-c", MEASURE, *args], capture_output=True, text=True,
                       env={**os.environ, **(env or {})})
    if p.returncode != 0:
        raise SystemExit(f"failed: {args}\n{p.stderr[-2000:]}")
    secs, rss = re.findall(r"@@ ([\d.]+) (\d+)", p.stderr)[-1]
    return float(secs), int(rss) * 1024


def ours(xml: Path, work: Path) -> tuple[float, int]:
    cfg = work / f"bench-{xml.stem}.yaml"
    cfg.write_text(json.dumps({"name": "bench", "source": {"type": "mediawiki", "path": str(xml)},
                               "output": {"dir": str(work / f"out-{xml.stem}")}}))
    cache = work / f"cache-{xml.stem}"
    shutil.rmtree(cache, ignore_errors=True)
    return run(["-m", "wiki_qa.cli", "build", str(cfg), "--quiet"], env={"HF_DATASETS_CACHE": str(cache)})


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


def main() -> None:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    work = Path(tempfile.mkdtemp(prefix="wiki_qa-bench-"))
    xml = work / "dump.xml"
    xml.write_bytes(bz2.decompress(src.read_bytes()) if src.suffix == ".bz2" else src.read_bytes())
    mb = xml.stat().st_size / 1e6
    t_ours, rss1 = ours(xml, work)
    t_we, _ = run(["-m", "wikiextractor.WikiExtractor", str(xml), "--processes", "1", "-o", str(work / "we"),
                   "-q"])
    base = work / "baseline.py"
    base.write_text(BASELINE)
    t_mw, _ = run([str(base), str(xml)])
    big = work / "dump5x.xml"
    k_times(xml, big, 5)
    t_big, rss5 = ours(big, work)
    rows = [("wiki_qa build (3 split passes, clean, chunk, save)", t_ours),
            ("WikiExtractor --processes 1", t_we), ("mwxml + mwparserfromhell.strip_code", t_mw)]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, one core via taskset: {bool(ONE_CORE)}")
    print(f"input: {src.name}, {mb:.1f} MB XML")
    for name, t in rows:
        print(f"  {name:55s} {t:7.2f} s  {mb / t:6.2f} MB/s")
    print(f"ratio wiki_qa / WikiExtractor throughput:   {t_we / t_ours:.2f}x  (target >= 1.0x)")
    print(f"ratio wiki_qa / plain strip_code throughput: {t_mw / t_ours:.2f}x")
    growth = rss5 / rss1 - 1
    print(f"peak RSS: {rss1 / 2**20:.0f} MiB on {mb:.1f} MB, {rss5 / 2**20:.0f} MiB on {5 * mb:.1f} MB "
          f"({growth * 100:+.1f}%, target < +20%); 5x build took {t_big:.1f} s ({5 * mb / t_big:.2f} MB/s)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
