"""Progress of a build: shard meters fed by the real readers, the board, and the driver's line, in both
engines (local with num_proc workers, Ray tasks). Timing-free: rates and the ETA are checked against the
formula with the elapsed time given, and the counters against the build's own report."""
from __future__ import annotations

import os

import pytest

from tests.conftest import SHARED_DATA
from wiki_qa import progress
from wiki_qa.config import from_dict
from wiki_qa.orchestrator import dataset_dict
from wiki_qa.pipeline.stages import StageStats, stage_rows

DUMPS = SHARED_DATA / "mediawiki"
pytestmark = pytest.mark.usefixtures("shared_data")  # skip (or fail in CI) without ../shared/data
FILES = [str(DUMPS / f) for f in ("simplewiki-7pages.xml", "enwiki-export-0.9-sample.xml.bz2", "enwiki-pear.xml")]


def _cfg(**extra):
    return from_dict({"name": "progress", "source": {"type": "mediawiki", "path": FILES}, "format": "text",
                      **extra})


def test_shard_meter_posts_what_the_reader_read(tmp_path):
    board = progress.FileBoard(str(tmp_path / "board"))
    cfg = _cfg()
    pages = {}
    for shard in FILES[:2]:
        stats = StageStats()
        with progress.shard_meter(board, shard, lambda: stats.source.pages_seen):
            rows = list(stage_rows(cfg, shard, stats))
        assert rows
        pages[shard] = stats.source.pages_seen
    states = list(board.snapshot().values())
    assert len(states) == 2 and all(s["done"] for s in states)
    # every raw byte of each file went through the meter (the reader hashes the whole file)
    assert sorted(s["bytes"] for s in states) == sorted(os.path.getsize(f) for f in FILES[:2])
    assert sorted(s["total"] for s in states) == sorted(os.path.getsize(f) for f in FILES[:2])
    assert sorted(s["pages"] for s in states) == sorted(pages.values())


def test_summary_and_line_text():
    states = {"a": {"bytes": 40_000_000, "total": 40_000_000, "pages": 800, "started": 0.0, "now": 10.0,
                    "done": True},
              "b": {"bytes": 10_000_000, "total": 40_000_000, "pages": 300, "started": 5.0, "now": 10.0,
                    "done": False}}
    f = progress.summary(states, shards=4, total_bytes=160_000_000, elapsed=10.0)
    assert (f["shards_done"], f["shards"], f["running"]) == (1, 4, 1)
    assert f["mb_s"] == pytest.approx(5.0) and f["pages_s"] == pytest.approx(110.0)
    assert f["shard_mb_s"] == pytest.approx(2.0) and f["shard_pages_s"] == pytest.approx(60.0)
    assert f["eta_s"] == pytest.approx((160e6 - 50e6) / 5e6)
    text = progress.render("stages", f)
    for part in ("1/4 shards", "0.05/0.16 GB", "5.0 MB/s", "110 pages/s", "per shard 2.0 MB/s 60 pages/s",
                 "ETA 0m22s"):
        assert part in text, (part, text)
    # a source that reports no bytes: the ETA comes from the shards done
    nobytes = {k: {**v, "bytes": 0} for k, v in states.items()}
    g = progress.summary(nobytes, shards=4, total_bytes=None, elapsed=10.0)
    assert g["eta_s"] == pytest.approx(30.0) and "GB" not in progress.render("stages", g)


@pytest.fixture
def lines(monkeypatch):
    """Progress on as in a terminal; every drawn line's figures recorded."""
    seen = []
    real = progress.render
    monkeypatch.setattr(progress, "enabled", lambda: True)
    monkeypatch.setattr(progress, "render", lambda label, f: seen.append(f) or real(label, f))
    return seen


def _check_final(seen, report, shards):
    last = seen[-1]
    assert last["shards_done"] == last["shards"] == shards
    assert last["bytes"] == last["total_bytes"] == sum(os.path.getsize(f) for f in FILES)
    assert last["pages"] == report["source"]["pages_seen"]


def test_local_engine_line_with_two_processes(lines, tmp_path):
    _, report = dataset_dict(_cfg(), num_proc=2, cache_dir=str(tmp_path), refresh=True, with_report=True)
    _check_final(lines, report, len(FILES))


def test_ray_engine_line(ray_local, lines, tmp_path):
    _, report = dataset_dict(_cfg(engine="ray"), cache_dir=str(tmp_path), refresh=True, with_report=True)
    _check_final(lines, report, len(FILES))
