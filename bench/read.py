"""The page reader alone, against mwxml, side by side in one run (one core); and byte-range shards.

1. XML -> pages, from memory (no decompression, no disk): wiki_qa's expat reader vs mwxml's page and
   revision iteration, both touching every revision's text. Runs alternate, best of --repeat each.
2. The same from the .bz2 dump on disk (decompression included): what a build sees.
3. Shards: one multistream .bz2 made from the dump (100 pages per stream, as Wikimedia's) read whole vs in
   N byte-range shards one after another: total CPU time of the N shards over one (no repeated work), and
   the documents compared; then wall time of 2 processes reading 2 shards vs 1 process reading it whole
   (on a 2-core machine shared with other work this is only indicative).

Per core, it also gives bz2 decompression alone (MB of XML per CPU second), which bench/scale.py's
full-Wikipedia estimate splits out.

Usage: python bench/read.py [DUMP.xml.bz2] [--times 5] [--repeat 3] [--shards 4] [--json FILE]
(bench/run_all.py runs it as its "read" section, in a subprocess: it pins itself to one core)
"""
from __future__ import annotations

import argparse
import bz2
import io
import json
import multiprocessing
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT = ROOT.parent / "shared" / "data" / "mediawiki" / "enwiki-206pages.xml.bz2"


def k_times(xml: bytes, k: int) -> bytes:
    """The dump's pages repeated k times, page ids shifted so every copy is a new page."""
    head, rest = xml.split(b"<page>", 1)
    body, tail = (b"<page>" + rest).rsplit(b"</page>", 1)
    body += b"</page>"
    out = [head]
    for i in range(k):
        out.append(re.sub(rb"(<page>\s*<title>[^<]*</title>\s*<ns>\d+</ns>\s*<id>)(\d+)",
                          lambda m: m.group(1) + str(int(m.group(2)) + i * 10_000_000).encode(), body))
    return b"".join(out) + tail


def ours(stream) -> int:
    from wiki_qa.builders.mediawiki.pages import PageReader

    n = 0
    for page in PageReader(stream):
        n += len(page.revision.text or "") if page.revision else 0
    return n


def theirs(stream) -> int:
    import mwxml

    n = 0
    for page in mwxml.Dump.from_file(stream):
        for rev in page:
            n += len(rev.text or "")
    return n


def best(fn, make_stream, repeat: int) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeat):
        stream = make_stream()
        t = time.process_time()
        n = fn(stream)
        times.append(time.process_time() - t)
    return min(times), n


def side_by_side(label: str, make_stream, mb: float, repeat: int) -> dict:
    t_ours = t_mw = float("inf")
    for _ in range(repeat):  # alternate, so both see the same machine load
        a, n1 = best(ours, make_stream, 1)
        b, n2 = best(theirs, make_stream, 1)
        assert n1 == n2, (n1, n2)  # the same text, character for character
        t_ours, t_mw = min(t_ours, a), min(t_mw, b)
    print(f"{label}")
    print(f"  wiki_qa expat reader  {t_ours:7.2f} s CPU  {mb / t_ours:7.1f} MB/s")
    print(f"  mwxml                 {t_mw:7.2f} s CPU  {mb / t_mw:7.1f} MB/s")
    print(f"  ratio reader / mwxml: {t_mw / t_ours:.2f}x")
    return {"ours_s": round(t_ours, 3), "mwxml_s": round(t_mw, 3), "ours_mbs": round(mb / t_ours, 2),
            "mwxml_mbs": round(mb / t_mw, 2), "ratio": round(t_mw / t_ours, 2)}


def decompress_only(path: Path, mb: float, repeat: int) -> dict:
    """bz2 decompression alone (what every shard pays before parsing), best CPU time of `repeat`."""
    best_s = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        with bz2.open(path, "rb") as f:
            while f.read(1 << 20):
                pass
        best_s = min(best_s, time.process_time() - t)
    print(f"  bz2 decompression alone {best_s:7.2f} s CPU  {mb / best_s:7.1f} MB/s of XML")
    return {"s": round(best_s, 3), "mbs": round(mb / best_s, 2)}


def multistream(xml: bytes, dest: Path, per: int = 100) -> None:
    starts = [m.start() for m in re.finditer(rb"<page>", xml)]
    end = xml.rindex(b"</page>") + len(b"</page>")
    bounds = [0] + starts[::per] + [end, len(xml)]
    with dest.open("wb") as f:
        for a, b in zip(bounds, bounds[1:]):
            f.write(bz2.compress(xml[a:b]))


def shards_cpu(path: Path, parts: int, repeat: int) -> dict:
    from wiki_qa.builders.base import SourceStats
    from wiki_qa.builders.mediawiki.config import MediaWikiConfig
    from wiki_qa.builders.mediawiki.source import MediaWikiSource

    src = MediaWikiSource(MediaWikiConfig(path=str(path), min_shard_bytes=1))
    cut = src.shards(parallel=parts)

    def read(shards):
        docs = []
        for s in shards:
            docs += src.read(s, SourceStats())
        return docs

    t1 = tn = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        one = read([str(path)])
        t1 = min(t1, time.process_time() - t)
        t = time.process_time()
        many = read(cut)
        tn = min(tn, time.process_time() - t)
    assert many == one, "shards gave other documents than one read"
    print(f"shards: {path.stat().st_size / 1e6:.1f} MB multistream .bz2, {len(one)} documents")
    print(f"  1 shard               {t1:7.2f} s CPU")
    print(f"  {len(cut)} byte-range shards  {tn:7.2f} s CPU (sum over shards, read one after another)")
    print(f"  ratio N shards / 1: {tn / t1:.2f}x CPU (target <= 1.1x); documents identical: True")
    two = MediaWikiSource(MediaWikiConfig(path=str(path), min_shard_bytes=1)).shards(parallel=2)
    w1 = w2 = float("inf")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.map(_count_docs, two)  # warm up the workers (imports)
        for _ in range(repeat):
            t = time.perf_counter()
            n1 = pool.apply(_count_docs, (str(path),))
            w1 = min(w1, time.perf_counter() - t)
            t = time.perf_counter()
            n2 = sum(pool.map(_count_docs, two))
            w2 = min(w2, time.perf_counter() - t)
    assert n1 == n2
    load = os.getloadavg()[0]
    print(f"  wall: 1 process whole {w1:.2f} s, 2 processes x 1 shard {w2:.2f} s: {w2 / w1:.2f}x "
          f"(load average {load:.1f} on {os.cpu_count()} cores)")
    return {"bz2_mb": round(path.stat().st_size / 1e6, 1), "documents": len(one), "shards": len(cut),
            "cpu_1_s": round(t1, 3), "cpu_n_s": round(tn, 3), "cpu_ratio": round(tn / t1, 3),
            "wall_1_s": round(w1, 3), "wall_2_s": round(w2, 3), "wall_ratio": round(w2 / w1, 3),
            "load_avg": round(load, 1)}


def _count_docs(shard: str) -> int:
    from wiki_qa.builders.base import SourceStats
    from wiki_qa.builders.mediawiki.config import MediaWikiConfig
    from wiki_qa.builders.mediawiki.shards import parse
    from wiki_qa.builders.mediawiki.source import MediaWikiSource

    src = MediaWikiSource(MediaWikiConfig(path=parse(shard).path))
    return sum(1 for _ in src.read(shard, SourceStats()))


def bench(dump: Path = DEFAULT, times: int = 5, repeat: int = 3, shards: int = 4) -> dict:
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if cores:
        os.sched_setaffinity(0, {min(cores)})
    raw = dump.read_bytes()
    xml = k_times(bz2.decompress(raw) if dump.suffix == ".bz2" else raw, times)
    mb = len(xml) / 1e6
    load = os.getloadavg()[0]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores (pinned to one), "
          f"Python {platform.python_version()}, load average {load:.1f}")
    print(f"input: {dump.name} x{times} = {mb:.1f} MB XML\n")
    r: dict = {"dump": dump.name, "times": times, "xml_mb": round(mb, 1), "load_avg_start": round(load, 1)}
    r["memory"] = side_by_side("1. XML from memory -> pages", lambda: io.BytesIO(xml), mb, repeat)
    with tempfile.TemporaryDirectory(prefix="wiki_qa-bench-read-") as tmp:
        bz = Path(tmp) / "dump-multistream.xml.bz2"
        multistream(xml, bz)
        print()
        r["bz2"] = side_by_side(f"2. .bz2 on disk ({bz.stat().st_size / 1e6:.1f} MB) -> decompress -> pages",
                                lambda: bz2.open(bz, "rb"), mb, repeat)
        r["decompress"] = decompress_only(bz, mb, repeat)
        print()
        if cores:
            os.sched_setaffinity(0, cores)  # the 2-process wall time needs both cores
        r["shards"] = shards_cpu(bz, shards, repeat)
    return r


def ratio_rows(r: dict) -> list[tuple[str, str, str, str]]:
    """bench/run_all.py's rows for this section: (what, ratio, figures, target)."""
    if not r.get("memory"):
        return []
    m, b, d, s = r["memory"], r["bz2"], r["decompress"], r["shards"]
    return [("read: expat reader / mwxml, XML from memory", f"{m['ratio']:.2f}x",
             f"{m['ours_mbs']} vs {m['mwxml_mbs']} MB/s, {r['xml_mb']} MB XML, 1 core", ""),
            ("read: expat reader / mwxml, .bz2 on disk", f"{b['ratio']:.2f}x",
             f"{b['ours_mbs']} vs {b['mwxml_mbs']} MB/s (bz2 alone {d['mbs']} MB/s of XML per core)", ""),
            (f"read: CPU, {s['shards']} byte-range shards / 1 shard", f"{s['cpu_ratio']:.2f}x",
             f"{s['cpu_n_s']} vs {s['cpu_1_s']} CPU s, {s['documents']} documents identical", "target <= 1.1x"),
            ("read: wall, 2 processes x 1 shard / 1 process", f"{s['wall_ratio']:.2f}",
             f"{s['wall_2_s']} vs {s['wall_1_s']} s (load average {s['load_avg']} on {os.cpu_count()} cores)",
             "indicative; target <= 0.6")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dump", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--times", type=int, default=5, help="repeat the dump's pages this many times")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    r = bench(args.dump, args.times, args.repeat, args.shards)
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))


if __name__ == "__main__":
    main()
