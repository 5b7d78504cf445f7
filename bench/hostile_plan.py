"""Shard planning of 2 KB hostile files (issue 24, finding 14): wall time of `shards.plan` on each file of
tests/builders/mediawiki/test_hostile.py's HOSTILE set, beside a benign multistream file of the same size
planned in the same run (the baseline). The target: under 0.1 s per file, whatever it holds.
Usage: python bench/hostile_plan.py [--repeat N]"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.builders.mediawiki.test_hostile import HEAD, HOSTILE, TAIL, _hostile_file, page, streams  # noqa: E402
from wiki_qa.builders.mediawiki import shards  # noqa: E402


def timed(path: Path, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        shards._cached_cuts.cache_clear()
        t = time.perf_counter()
        shards.plan([str(path)], parallel=8, min_bytes=1)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    logging.getLogger("wiki_qa").setLevel(logging.ERROR)  # the files' warnings are expected here
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        benign = tmp / "benign-multistream.xml.bz2"
        size = streams(benign, [HEAD] + [page(i) for i in range(1, 14)] + [TAIL])
        base = timed(benign, args.repeat)
        print(f"{'file':32} {'bytes':>6} {'plan (ms)':>10} {'x baseline':>10}")
        print(f"{'benign (13 page streams)':32} {size:6d} {base * 1000:10.1f} {1.0:10.1f}")
        for kind in sorted(HOSTILE):
            sub = tmp / kind.replace(" ", "-")
            sub.mkdir()
            path, n = _hostile_file(sub, kind)
            t = timed(path, args.repeat)
            print(f"{kind:32} {n:6d} {t * 1000:10.1f} {t / base:10.1f}")


if __name__ == "__main__":
    main()
