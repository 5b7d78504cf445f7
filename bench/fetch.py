"""Download throughput of `source.wiki`'s downloader against a plain aiohttp download of the same file from
the same local server, side by side in one run.

The server is tests/servers/dumps_site.py (a real dumps-mirror layout on 127.0.0.1, files sent with
sendfile, so the client is what is measured); the file is the real enwiki-206pages dump recompressed in
Wikimedia's multistream layout and repeated until it is --mb large (a download does not look inside).

- baseline: `aiohttp.ClientSession().get(url)` and `iter_chunked(1 MiB)` written to a file: the least a
  download can do;
- ours: `builders/mediawiki/fetch/download.download` (the .part file, the sha1 of every byte, the rename
  after verification, progress accounting) on the same URL;
- ours, whole fetch: `fetch_dump` from a cold cache (listing, dumpstatus.json, the dump and its index).

Runs alternate, --repeat each; the ratio is of the medians (best-of also printed). On a shared 2-core
machine the figures move with the load: only the ratio means anything.

Usage: python bench/fetch.py [--mb 256] [--repeat 5] [--json FILE]
"""
from __future__ import annotations

import argparse
import asyncio
import bz2
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DUMP = ROOT.parent / "shared" / "data" / "mediawiki" / "enwiki-206pages.xml.bz2"


async def plain(url: str, dest: Path) -> int:
    import aiohttp

    n = 0
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        with open(dest, "wb") as f:
            async for chunk in r.content.iter_chunked(1 << 20):
                f.write(chunk)
                n += len(chunk)
    return n


async def ours(url: str, mirror: str, dest: Path, want) -> int:
    from wiki_qa.builders.mediawiki.fetch import http
    from wiki_qa.builders.mediawiki.fetch.download import download

    async with http.session(None) as s:
        res = await download(s, [(mirror, url)], dest, want)
    return res.received


def serve(root: str, rate_mbs: float | None) -> None:
    """The mirror in a process of its own, so its CPU is not the client's: prints its URL, serves until killed."""
    from tests.servers.dumps_site import DumpsSite

    site = DumpsSite(Path(root), rate_bps=rate_mbs * 1e6 if rate_mbs else None).__enter__()
    print(site.url, flush=True)
    site.thread.join()


def bench(mb: int = 256, repeat: int = 5, rate_mbs: float | None = None) -> dict:
    import subprocess

    from tests.servers.dumps_site import lay_out
    from wiki_qa.builders.mediawiki.fetch import dumps, fetch_dump
    from wiki_qa.builders.mediawiki.fetch.download import Expected

    work = Path(tempfile.mkdtemp(prefix="wiki_qa-bench-fetch-"))
    xml = bz2.decompress(DUMP.read_bytes())
    one = len(bz2.compress(xml))  # about one copy's size, to choose the repeat count
    status = lay_out(work / "mirror", "enwiki", xml, "20261101", repeat=max(1, mb * 10**6 // one), latest=False)
    name, meta = next((k, v) for k, v in status["jobs"]["articlesmultistreamdump"]["files"].items()
                      if k.endswith(".xml.bz2"))
    want = Expected(meta["size"], meta["sha1"], meta["md5"])
    times = {"plain": [], "ours": [], "fetch_dump": []}
    cpu = {k: [] for k in times}
    cache_before = os.environ.get("WIKI_QA_CACHE")
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(work / "mirror"),
                               *(["--rate-mbs", str(rate_mbs)] if rate_mbs else [])], stdout=subprocess.PIPE, text=True)
    try:
        mirror = server.stdout.readline().strip()
        url = mirror + meta["url"]
        for i in range(repeat):
            for kind in ("plain", "ours", "fetch_dump") if i % 2 == 0 else ("fetch_dump", "ours", "plain"):
                dest = work / f"out-{kind}"
                t, c = time.perf_counter(), time.process_time()
                if kind == "plain":
                    n = asyncio.run(plain(url, dest))
                elif kind == "ours":
                    n = asyncio.run(ours(url, mirror, dest, want))
                else:
                    os.environ["WIKI_QA_CACHE"] = str(work / f"cache{i}")
                    got = fetch_dump("en", mirrors=[mirror])
                    n = sum(r.received for r in got.downloads if r)
                    dest = dumps.root("enwiki")
                el, cpu_s = time.perf_counter() - t, time.process_time() - c
                assert n >= want.size, (kind, n)
                times[kind].append(el)
                cpu[kind].append(cpu_s)
                _rm(dest)
    finally:
        server.kill()
        server.wait()
        if cache_before is None:
            os.environ.pop("WIKI_QA_CACHE", None)
        else:
            os.environ["WIKI_QA_CACHE"] = cache_before
    size_mb = want.size / 1e6
    med = {k: statistics.median(v) for k, v in times.items()}
    best = {k: min(v) for k, v in times.items()}
    r = {"mb": round(size_mb, 1), "repeat": repeat, "rate_mbs": rate_mbs, "load_avg": round(os.getloadavg()[0], 1),
         **{f"{k}_mbs": round(size_mb / med[k], 1) for k in med},
         **{f"{k}_best_mbs": round(size_mb / best[k], 1) for k in best},
         "ratio": round(med["plain"] / med["ours"], 3), "ratio_best": round(best["plain"] / best["ours"], 3),
         "ratio_fetch_dump": round(med["plain"] / med["fetch_dump"], 3),
         **{f"{k}_cpu_s": round(statistics.median(v), 3) for k, v in cpu.items()}}
    _rm(work)
    return r


def _rm(p: Path) -> None:
    import shutil

    if p.is_dir():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


def ratio_rows(r: dict) -> list[tuple[str, str, str, str]]:
    """bench/run_all.py's rows for this section."""
    if not r.get("ratio"):
        return []
    return [("fetch: download (.part, sha1, rename) / plain aiohttp", f"{r['ratio']:.2f}",
             f"{r['ours_mbs']} vs {r['plain_mbs']} MB/s, {r['mb']} MB from 127.0.0.1, median of {r['repeat']} "
             f"(best-of {r['ratio_best']:.2f}; client CPU {r['ours_cpu_s']} vs {r['plain_cpu_s']} s, the sha1; "
             f"load average {r['load_avg']})", "target >= 0.9"),
            ("fetch: whole fetch_dump (listing, dumpstatus, dump + index) / plain aiohttp",
             f"{r['ratio_fetch_dump']:.2f}", f"{r['fetch_dump_mbs']} MB/s", "")] + link_rows(r.get("at_link") or {})


LINK_MBS = 100  # a fast mirror's link (dumps.wikimedia.org serves a connection a few MB/s)


def link_rows(r: dict) -> list[tuple[str, str, str, str]]:
    """On loopback the link (about 2.5 GB/s here) is faster than sha1 itself (about 2 GB/s per core) and
    than fsync of the file, so the ratio there measures the verification, not the download. The same pair on
    a 100 MB/s link shows what a user sees."""
    if not r.get("ratio"):
        return []
    return [(f"fetch: download / plain aiohttp, on a {r['rate_mbs']:g} MB/s link", f"{r['ratio']:.2f}",
             f"{r['ours_mbs']} vs {r['plain_mbs']} MB/s, {r['mb']} MB, median of {r['repeat']} (client CPU "
             f"{r['ours_cpu_s']} vs {r['plain_cpu_s']} s)", "target >= 0.9")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--rate-mbs", type=float, help="serve at this link speed (MB/s), not loopback's")
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve:
        return serve(a.serve, a.rate_mbs)
    r = bench(a.mb, a.repeat, a.rate_mbs)
    print(f"file: {r['mb']} MB from 127.0.0.1, {r['repeat']} runs each, alternating (load average {r['load_avg']})")
    for kind, label in (("plain", "plain aiohttp"), ("ours", "download()"), ("fetch_dump", "fetch_dump()")):
        print(f"  {label:15s} median {r[f'{kind}_mbs']:8.1f} MB/s   best {r[f'{kind}_best_mbs']:8.1f} MB/s")
    print(f"ratio download()/plain: {r['ratio']:.3f} (median), {r['ratio_best']:.3f} (best); "
          f"fetch_dump()/plain: {r['ratio_fetch_dump']:.3f}")
    print(f"client CPU s per download (median): plain {r['plain_cpu_s']}, download() {r['ours_cpu_s']} "
          f"(sha1 included), fetch_dump() {r['fetch_dump_cpu_s']}")
    if a.json:
        a.json.write_text(json.dumps(r))


if __name__ == "__main__":
    main()
