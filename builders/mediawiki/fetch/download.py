"""Download one file of a dump run: into `NAME.part`, resumed with an HTTP Range request after a dropped
connection, checked against the sha1 (or md5) of dumpstatus.json, and only then renamed to NAME. A file
under its final name is therefore always complete and verified; a `.part` is never read by a build.

Per mirror: 429/5xx are retried after their Retry-After (or an exponential back-off), a dropped body is
resumed where it stopped (a drop that made progress costs no attempt), a refused connection moves on
soon. Then the next mirror, resuming the same `.part` (all mirrors serve byte-identical files, and the
checksum is the judge). A wrong checksum throws the `.part` away and downloads afresh from the next mirror;
wrong again after that fresh download is an error.

Bytes are written and hashed in a worker thread, one chunk behind the socket, so hashing a 20 GB dump
costs no time on a link slower than the disk and sha1 (bench/fetch.py).
"""
from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from wiki_qa.builders.mediawiki.fetch import http
from wiki_qa.retry_after import retry_after

CHUNK = 1 << 20  # bytes handed to the writer thread at a time
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class ChecksumMismatch(Exception):
    def __init__(self, name: str, algo: str, want: str, got: str, url: str):
        super().__init__(f"{name}: {algo} is {got}, dumpstatus.json says {want} (from {url})")
        self.url = url


@dataclasses.dataclass
class Expected:
    size: int
    sha1: str | None = None
    md5: str | None = None

    def hasher(self):
        return hashlib.sha1() if self.sha1 else hashlib.md5()

    @property
    def algo(self) -> str:
        return "sha1" if self.sha1 else "md5"

    @property
    def digest(self) -> str:
        return (self.sha1 or self.md5 or "").lower()


@dataclasses.dataclass
class Result:
    path: Path
    received: int = 0  # body bytes that came over the network for this file, all attempts together
    requests: int = 0
    mirror: str | None = None  # the base URL the last bytes came from
    resumed: int = 0  # Range requests that continued a .part
    fresh_after_mismatch: int = 0
    seconds: float = 0.0


def part_of(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


class _Part:
    """The `.part` file and the hash of exactly the bytes in it. Written (and hashed) in a worker thread."""

    def __init__(self, path: Path, want: Expected):
        self.path, self.want = path, want
        self.f = open(path, "ab", buffering=0)  # chunks go to os.writev as they came off the socket
        self.h, self.size = want.hasher(), 0

    def hash_existing(self) -> None:
        """A `.part` left by an earlier process: hash what it holds, so the download continues after it."""
        with open(self.path, "rb") as f:
            while block := f.read(8 << 20):
                self.h.update(block)
                self.size += len(block)

    def reset(self) -> None:
        self.f.truncate(0)
        self.h, self.size = self.want.hasher(), 0

    def write(self, chunks: list[bytes]) -> None:
        todo = sum(len(c) for c in chunks)
        views = [memoryview(c) for c in chunks]
        while views:  # writev may write less than asked
            n = os.writev(self.f.fileno(), views[:1024])
            while n and views:
                if n >= len(views[0]):
                    n -= len(views.pop(0))
                else:
                    views[0], n = views[0][n:], 0
        for c in chunks:
            self.h.update(c)
        self.size += todo

    def sync(self) -> None:
        os.fsync(self.f.fileno())
        self.f.close()

    def close(self) -> None:
        self.f.close()


async def download(s: aiohttp.ClientSession, sources: list[tuple[str, str]], dest: Path, want: Expected,
                   on_bytes: Callable[[int, str], None] | None = None) -> Result:
    """`sources`: (mirror base, file URL) in the order to try. Raises http.Unavailable when every mirror
    failed, ChecksumMismatch when the file is still wrong after a fresh download."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = _Part(part_of(dest), want)
    try:
        await asyncio.to_thread(part.hash_existing)
        return await _download(s, sources, dest, part, want, on_bytes)
    finally:
        part.close()


async def _download(s, sources, dest: Path, part: _Part, want: Expected, on_bytes) -> Result:
    res, t0 = Result(dest), time.monotonic()
    failures: list[str] = []
    order, mismatched = list(sources), []
    i = 0
    while i < len(order):
        mirror, url = order[i]
        try:
            await _from_mirror(s, mirror, url, part, want, res, on_bytes)
        except (http.Unavailable, http.NotFound) as e:
            failures.append(f"{mirror}: {e.why if isinstance(e, http.Unavailable) else '404 not found'}")
            i += 1
            continue
        got = part.h.hexdigest()
        if got == want.digest:
            await asyncio.to_thread(part.sync)  # on disk before its name says complete (a power cut)
            os.replace(part.path, dest)
            res.seconds = time.monotonic() - t0
            return res
        # Wrong bytes: which ones is unknown, so nothing of this .part can be kept. One fresh download,
        # from the next mirror that has not given a wrong file (the same one when it is the only mirror).
        part.reset()
        mismatched.append(mirror)
        if res.fresh_after_mismatch:
            raise ChecksumMismatch(dest.name, want.algo, want.digest, got, url)
        rest = [src for src in order[i + 1:] + order[:i] if src[0] not in mismatched] or [order[i]]
        res.fresh_after_mismatch += 1
        order, i = rest, 0
    raise http.Unavailable(dest.name, "; ".join(failures) or "no mirror")


async def _from_mirror(s, mirror: str, url: str, part: _Part, want: Expected, res: Result, on_bytes) -> None:
    """Bring the `.part` to the full size from this mirror, resuming whatever is there."""
    attempt = 0
    while True:
        have = part.size
        if have > want.size:
            part.reset()
            have = 0
        if have == want.size:
            return
        headers = {"Range": f"bytes={have}-"} if have else {}
        res.requests += 1
        try:
            async with s.get(url, headers=headers) as r:
                if r.status == 404:
                    raise http.NotFound(url)
                if r.status == 416:  # the .part is not a prefix this server can continue: start over
                    part.reset()
                    attempt += 1
                    if attempt >= http.ATTEMPTS:
                        raise http.Unavailable(url, "HTTP 416 for every range", 416)
                    continue
                if r.status in http.RETRY_STATUSES:
                    wait = retry_after(r.headers)
                    attempt += 1
                    if attempt >= http.ATTEMPTS or (wait is not None and wait > http.MAX_WAIT_S):
                        raise http.Unavailable(url, f"HTTP {r.status}", r.status)
                    await asyncio.sleep(http.backoff(attempt - 1) if wait is None else wait)
                    continue
                if r.status not in (200, 206):
                    raise http.Unavailable(url, f"HTTP {r.status}", r.status)
                if r.status == 206:
                    m = _CONTENT_RANGE.match(r.headers.get("Content-Range", ""))
                    if not m or int(m.group(1)) != have:
                        raise http.Unavailable(url, f"answered Range {have}- with {r.headers.get('Content-Range')}")
                    res.resumed += 1
                else:
                    part.reset()  # a server that ignores Range sends the whole file again
                await _stream(r, part, res, mirror, on_bytes, want.size)
                return
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, asyncio.TimeoutError) as e:
            if part.size > have:
                attempt = 0  # bytes flowed before the drop: resume, at no cost of an attempt
                continue
            attempt += 1
            connect = isinstance(e, aiohttp.ClientConnectorError)
            if attempt >= (http.CONNECT_ATTEMPTS if connect else http.ATTEMPTS):
                raise http.Unavailable(url, f"{type(e).__name__}: {e}".rstrip(": ")) from None
            await asyncio.sleep(http.backoff(attempt - 1))


async def _stream(r, part: _Part, res: Result, mirror: str, on_bytes, size: int) -> None:
    """Append the body to the `.part`, one chunk in flight to the writer thread. What arrived before a
    drop is kept (written and hashed): the next request resumes after it. A body that would make the file
    larger than dumpstatus.json says is cut there (a hostile or broken mirror cannot fill the disk)."""
    loop = asyncio.get_running_loop()
    pending, chunks, held = None, [], 0
    res.mirror = mirror
    room = size - part.size
    try:
        async for chunk in r.content.iter_any():
            if len(chunk) > room:
                raise http.Unavailable(r.url.human_repr(), f"sends more than the {size:,} bytes dumpstatus.json "
                                       "gives the file")
            room -= len(chunk)
            res.received += len(chunk)
            chunks.append(chunk)
            held += len(chunk)
            if held >= CHUNK:
                if pending is not None:
                    await pending
                pending = loop.run_in_executor(None, part.write, chunks)
                chunks, held = [], 0  # the thread owns the old list now
            if on_bytes:
                on_bytes(len(chunk), mirror)
    finally:
        if pending is not None:
            await pending
        if chunks:
            part.write(chunks)
