"""Progress of a long build: what a user watching a multi-hour run needs, on one line.

    stages  12/64 shards  3.1/24.0 GB  41.2 MB/s  1,930 pages/s  per shard 5.2 MB/s 240 pages/s  ETA 9m24s

Two halves, because the reading happens in other processes (datasets num_proc workers, Ray tasks on
other nodes) while the line is drawn by the driver:
- worker side: `shard_meter(board, shard, pages)` around the reading of one shard. The source's own
  `input_bar(...)` (the raw bytes it reads) then feeds that meter, which posts the shard's bytes and
  pages to a *board* at most once a second;
- driver side: `Line` polls the board and draws the line (tqdm, so it redraws in place).
A board has `post(key, state)` and `snapshot() -> {key: state}`: `FileBoard` (a folder, for local
processes) or a Ray actor (executor/ray.py). A shard's last post (done) has arrived when `post` returns.

Bars are drawn only when the CLI asks (`enable()`) and stderr is a TTY; otherwise nothing is posted.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tqdm.auto import tqdm

_ENABLED = {"on": False}
_local = threading.local()  # the shard meter of the shard this thread is reading, if any
POST_EVERY_S = 1.0


def enable(on: bool = True) -> None:
    _ENABLED["on"] = on


def enabled() -> bool:
    return _ENABLED["on"] and sys.stderr.isatty() and not os.environ.get("CI")


def input_bar(label: str, total: int | None):
    """What a source reports its raw input bytes to (`update(n)`, `total`, `set_postfix`, `close`): the
    running shard's meter when an executor set one up, else a tqdm bar of its own (off unless enabled)."""
    meter = getattr(_local, "meter", None)
    if meter is not None:
        return meter
    return tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1 << 20,
                disable=not enabled(), leave=False, dynamic_ncols=True)


# -- worker side ----------------------------------------------------------------------------------------
class ShardMeter:
    """One shard's counters, posted to the board now and then. Quacks like the tqdm bar sources expect."""

    def __init__(self, board, key: str, pages: Callable[[], int]):
        self.board, self.key, self.pages = board, key, pages
        self.bytes, self.total = 0, None
        self.started = time.time()
        self._posted = 0.0

    def update(self, n: int = 1) -> None:
        self.bytes += n
        now = time.monotonic()
        if now - self._posted >= POST_EVERY_S:
            self._posted = now
            self.post(done=False)

    def post(self, done: bool) -> None:
        self.board.post(self.key, {"bytes": self.bytes, "total": self.total, "pages": self.pages(),
                                   "started": self.started, "now": time.time(), "done": done})

    def set_postfix(self, *args, **kwargs) -> None:  # the line computes its own rates
        pass

    def close(self) -> None:
        pass


@contextlib.contextmanager
def shard_meter(board, key: str, pages: Callable[[], int]) -> Iterator[ShardMeter | None]:
    """Meter the shard read inside the block (no-op when `board` is None)."""
    if board is None:
        yield None
        return
    meter = ShardMeter(board, key, pages)
    _local.meter = meter
    meter.post(done=False)
    try:
        yield meter
    finally:
        _local.meter = None
        meter.post(done=True)


class FileBoard:
    """A board in a folder: one small JSON file per shard, replaced atomically. Picklable (just a path),
    so datasets' num_proc workers can post to it."""

    def __init__(self, folder: str):
        self.folder = folder
        Path(folder).mkdir(parents=True, exist_ok=True)

    def post(self, key: str, state: dict) -> None:
        name = hashlib.sha1(key.encode()).hexdigest()[:16]
        tmp = os.path.join(self.folder, f".{name}.{os.getpid()}.tmp")
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.replace(tmp, os.path.join(self.folder, f"{name}.json"))

    def snapshot(self) -> dict:
        out = {}
        for p in Path(self.folder).glob("*.json"):
            try:
                out[p.stem] = json.loads(p.read_text())
            except (OSError, ValueError):  # replaced while reading: next poll
                continue
        return out


# -- driver side ----------------------------------------------------------------------------------------
def summary(states: dict, shards: int, total_bytes: int | None, elapsed: float) -> dict:
    """The figures of the line from the board's states (pure, so it is testable without a terminal)."""
    done = [s for s in states.values() if s.get("done")]
    running = [s for s in states.values() if not s.get("done")]
    read = sum(s["bytes"] for s in states.values())
    pages = sum(s["pages"] for s in states.values())
    elapsed = max(elapsed, 1e-6)
    per_shard = [(s["bytes"] / max(s["now"] - s["started"], 1e-6), s["pages"] / max(s["now"] - s["started"], 1e-6))
                 for s in running if s["now"] > s["started"]]
    out = {"shards_done": len(done), "shards": shards, "running": len(running), "bytes": read,
           "total_bytes": total_bytes, "mb_s": read / elapsed / 1e6, "pages": pages, "pages_s": pages / elapsed,
           "shard_mb_s": sum(b for b, _ in per_shard) / len(per_shard) / 1e6 if per_shard else None,
           "shard_pages_s": sum(p for _, p in per_shard) / len(per_shard) if per_shard else None}
    if total_bytes and read:  # bytes are the better clock: shards differ in size
        out["eta_s"] = max(0.0, (total_bytes - read) / (read / elapsed))
    elif done:
        out["eta_s"] = elapsed / len(done) * (shards - len(done))
    else:
        out["eta_s"] = None
    return out


def render(label: str, f: dict) -> str:
    parts = [label, f"{f['shards_done']}/{f['shards']} shards"]
    if f["bytes"]:
        parts.append(f"{_gb(f['bytes'])}/{_gb(f['total_bytes'])} GB" if f["total_bytes"] else f"{_gb(f['bytes'])} GB")
        parts.append(f"{f['mb_s']:.1f} MB/s")
    parts.append(f"{f['pages_s']:,.0f} pages/s")
    if f["shard_mb_s"] is not None:
        parts.append(f"per shard {f['shard_mb_s']:.1f} MB/s {f['shard_pages_s']:,.0f} pages/s")
    parts.append(f"ETA {_duration(f['eta_s'])}" if f["eta_s"] is not None else "ETA ?")
    return "  ".join(parts)


def _gb(n: int | None) -> str:
    return f"{n / 1e9:.2f}" if n is not None else "?"


def _duration(s: float) -> str:
    s = round(s)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{sec:02d}s"


class Line:
    """The driver's line: `refresh()` redraws from the board (call it from a polling loop, or `start()` a
    thread that does). Silent unless `enabled()`."""

    def __init__(self, label: str, board, shards: int, total_bytes: int | None, done_before: int = 0):
        self.label, self.board, self.shards, self.total_bytes = label, board, shards, total_bytes
        self.done_before = done_before  # shards reused from an earlier run
        self.t0 = time.monotonic()
        self.bar = tqdm(total=0, bar_format="{desc}", leave=False, dynamic_ncols=True, disable=not enabled())
        self._stop = threading.Event()
        self._thread = None

    def figures(self) -> dict:
        f = summary(self.board.snapshot(), self.shards - self.done_before, self.total_bytes,
                    time.monotonic() - self.t0)
        f["shards_done"] += self.done_before
        f["shards"] = self.shards
        return f

    def refresh(self) -> None:
        if not self.bar.disable:
            self.bar.set_description_str(render(self.label, self.figures()), refresh=True)

    def start(self, every_s: float = 1.0) -> Line:
        def loop():
            while not self._stop.wait(every_s):
                self.refresh()

        self._thread = threading.Thread(target=loop, daemon=True, name="wiki_qa-progress")
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.refresh()  # the final figures, once every shard has posted its last state
        self.bar.close()
