"""The page reader alone, against mwxml, side by side in one run (one core); and byte-range shards.

1. XML -> pages, from memory (no decompression, no disk): wiki_qa's expat reader vs mwxml's page and
   revision iteration, both touching every revision's text. Runs alternate, best of --repeat each.
2. The same from the .bz2 dump on disk (decompression included): what a build sees.
3. Shards: one multistream .bz2 made from the dump (100 pages per stream, as Wikimedia's) read whole vs in
   N byte-range shards one after another: total CPU time of the N shards over one (no repeated work), and
   the documents compared; then wall time of 2 processes reading 2 shards vs 1 process reading it whole
   (on a 2-core machine shared with other work this is only indicative).

Usage: python bench/read.py [DUMP.xml.bz2] [--times 5] [--repeat 3] [--shards 4]
"""
from __future__ import annotations

import argparse
import bz2
import io
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


def side_by_side(label: str, make_stream, mb: float, repeat: int) -> float:
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
    return t_mw / t_ours


def multistream(xml: bytes, dest: Path, per: int = 100) -> None:
    starts = [m.start() for m in re.finditer(rb"<page>", xml)]
    end = xml.rindex(b"</page>") + len(b"</page>")
    bounds = [0] + starts[::per] + [end, len(xml)]
    with dest.open("wb") as f:
        for a, b in zip(bounds, bounds[1:]):
            f.write(bz2.compress(xml[a:b]))


def shards_cpu(path: Path, parts: int, repeat: int) -> None:
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
    print(f"  wall: 1 process whole {w1:.2f} s, 2 processes x 1 shard {w2:.2f} s: {w2 / w1:.2f}x "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def _count_docs(shard: str) -> int:
    from wiki_qa.builders.base import SourceStats
    from wiki_qa.builders.mediawiki.config import MediaWikiConfig
    from wiki_qa.builders.mediawiki.shards import parse
    from wiki_qa.builders.mediawiki.source import MediaWikiSource

    src = MediaWikiSource(MediaWikiConfig(path=parse(shard).path))
    return sum(1 for _ in src.read(shard, SourceStats()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dump", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--times", type=int, default=5, help="repeat the dump's pages this many times")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shards", type=int, default=4)
    args = ap.parse_args()
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if cores:
        os.sched_setaffinity(0, {min(cores)})
    raw = args.dump.read_bytes()
    xml = k_times(bz2.decompress(raw) if args.dump.suffix == ".bz2" else raw, args.times)
    mb = len(xml) / 1e6
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores (pinned to one), "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    print(f"input: {args.dump.name} x{args.times} = {mb:.1f} MB XML\n")
    side_by_side("1. XML from memory -> pages", lambda: io.BytesIO(xml), mb, args.repeat)
    with tempfile.TemporaryDirectory(prefix="wiki_qa-bench-read-") as tmp:
        bz = Path(tmp) / "dump-multistream.xml.bz2"
        multistream(xml, bz)
        print()
        side_by_side(f"2. .bz2 on disk ({bz.stat().st_size / 1e6:.1f} MB) -> decompress -> pages",
                     lambda: bz2.open(bz, "rb"), mb, args.repeat)
        print()
        if cores:
            os.sched_setaffinity(0, cores)  # the 2-process wall time needs both cores
        shards_cpu(bz, args.shards, args.repeat)


if __name__ == "__main__":
    main()
