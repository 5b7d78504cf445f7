"""Byte-range shards of one dump, so that N workers each decompress and parse 1/N of a big file.

A shard is a string, because shards travel through datasets gen_kwargs and Ray task JSON:

    /data/enwiki-pages-articles-multistream.xml.bz2                  the whole file
    /data/enwiki-pages-articles-multistream.xml.bz2#bytes=0-6148     raw bytes [0, 6148) of it
    /data/enwiki-pages-articles-multistream.xml.bz2#bytes=6148-9300  raw bytes [6148, 9300)

`parse` and `Shard.__str__` are the only places that read or write this form. Ranges are of the file's raw
(compressed) bytes, end exclusive, and start only where a reader can start afresh:
- multistream .bz2: at a bz2 stream, from the `...-multistream-index.txt.bz2` file beside the dump (the
  offset of every 100-page stream), or without it by scanning for the bz2 stream magic; a candidate stream
  counts only if its text starts with <page> (pbzip2 cuts streams mid-page, Wikimedia never does);
- uncompressed XML (UTF-8 and other ASCII-compatible encodings): at a <page> tag found by seeking.
A range after the first is read with the file's own XML declaration and root start tag in front (and its
<siteinfo> from the file's head); a range before the last gets a closing root tag. Ranges tile the file,
so every page is read exactly once. Everything else (gzip, xz, 7z, single-stream bz2, UTF-16, http(s)
URLs) stays one shard per file; numbered part files (pages-articles1.xml-p1p41242.bz2, ...) are
separate files already.
"""
from __future__ import annotations

import bz2
import dataclasses
import functools
import itertools
import logging
import math
import re

import fsspec

from wiki_qa.io import MAGIC, can_seek, identity, open_raw

log = logging.getLogger("wiki_qa")

_RANGE = re.compile(r"^(?P<path>.+)#bytes=(?P<start>\d+)-(?P<end>\d+)$", re.DOTALL)
# A bz2 stream: "BZh" + block size digit + the first block's magic (BCD pi). Wikimedia's multistream
# dumps start every stream at a byte boundary; inside a stream, blocks are bit-aligned.
_BZ2_STREAM = re.compile(rb"BZh[1-9]\x31\x41\x59\x26\x53\x59")
_SCAN = 1 << 20
_MAX_SCAN = 256 << 20  # give up on a cut point after this many bytes without a boundary


@dataclasses.dataclass(frozen=True)
class Shard:
    path: str
    start: int = 0
    end: int | None = None  # None: to the end of the file

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.end is None

    def __str__(self) -> str:
        return self.path if self.whole else f"{self.path}#bytes={self.start}-{self.end}"


def parse(shard: str) -> Shard:
    m = _RANGE.match(shard)
    if not m:
        return Shard(shard)
    return Shard(m.group("path"), int(m.group("start")), int(m.group("end")))


# The smallest shard of an input sized automatically: 64 MiB once the input is big enough to give every
# worker that much (a cluster's input); below that, the input split evenly among the workers, so that N
# processes get N pieces of an ordinary file, but never under 1 MiB (a worker's start costs more).
CLUSTER_MIN_BYTES = 64 << 20
MIN_PIECE_BYTES = 1 << 20


def plan(paths: list[str], parallel: int, min_bytes: int | None = None) -> list[str]:
    """Shards for `parallel` workers: about `parallel` pieces of similar raw size over all files, none
    smaller than `min_bytes` (None: sized from the input, see CLUSTER_MIN_BYTES); a file that cannot be
    cut stays whole."""
    if parallel <= 1:
        return list(paths)
    sizes = {p: file_size(p) for p in paths}
    total = sum(sizes.values()) or 1
    if min_bytes is None:
        min_bytes = auto_min_bytes(total, parallel)
    out: list[str] = []
    for p in paths:
        pieces = min(math.ceil(sizes[p] * parallel / total), sizes[p] // max(1, min_bytes))
        starts = _cached_cuts(p, sizes[p], _mtime(p), pieces) if pieces > 1 else []
        if not starts:
            out.append(p)
            continue
        bounds = [0, *starts, sizes[p]]
        out += [str(Shard(p, a, b)) for a, b in itertools.pairwise(bounds)]
    return out


def auto_min_bytes(total: int, parallel: int) -> int:
    return min(CLUSTER_MIN_BYTES, max(MIN_PIECE_BYTES, total // max(1, parallel)))


@functools.lru_cache(maxsize=256)
def _cached_cuts(path: str, size: int, mtime: str | None, pieces: int) -> tuple[int, ...]:
    """cut_points, once per file version: the executors may ask for the plan more than once."""
    return tuple(cut_points(path, size, pieces))


def _mtime(path: str) -> str | None:
    ident = identity(path)
    return ident.get("mtime") or ident.get("etag") or ident.get("lastmodified")


def first_page_id(path: str, offset: int) -> int | None:
    """The page id of the first page of the range starting at `offset` (a shard start), read from its head."""
    from wiki_qa.io import open_input

    with open_input(path, start=offset, buffer_size=1 << 16) as inp:
        head = inp.stream.read(1 << 16)
    m = re.search(rb"<page>\s*<title>.*?</title>\s*(?:<ns>[^<]*</ns>\s*)?<id>\s*(\d+)\s*</id>", head, re.S)
    return int(m.group(1)) if m else None


def file_size(path: str) -> int:
    raw, size = open_raw(path)
    raw.close()
    return size


def cut_points(path: str, size: int, pieces: int) -> list[int]:
    """Offsets where shards 2..n of `path` start (sorted, distinct, maybe fewer than pieces-1; [] = whole)."""
    if not can_seek(path):
        return []
    raw, _ = open_raw(path)
    try:
        head = raw.read(1 << 16)
        targets = [size * k // pieces for k in range(1, pieces)]
        if head.startswith(b"BZh"):
            found = _index_cuts(path, size, targets, raw) if _index_of(path) else None
            if found is None:
                found = [_scan(raw, t, size, _BZ2_STREAM, _bz2_stream_at) for t in targets]
            first = 0  # stream 0 holds the head; every later stream accepted holds pages
        elif any(head.startswith(m) for m in MAGIC) or _utf16(head):
            return []  # gzip, xz, 7z, UTF-16 XML: no way in but from the start
        else:
            found = [_scan(raw, t, size, _PAGE, None) for t in targets]
            first = _scan(raw, 0, size, _PAGE, None)
            if first is None:
                return []
    finally:
        raw.close()
    return sorted({c for c in found if c is not None and c > first})


def _utf16(head: bytes) -> bool:
    return head.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<"))


def _scan(raw, target: int, size: int, pattern: re.Pattern, valid) -> int | None:
    """The first offset >= target where `pattern` matches (and `valid(raw, offset)` holds)."""
    pos = target
    while pos < min(size, target + _MAX_SCAN):
        raw.seek(pos)
        block = raw.read(_SCAN + 15)
        if not block:
            return None
        for m in pattern.finditer(block):
            if m.start() < _SCAN and (valid is None or valid(raw, pos + m.start())):
                return pos + m.start()
        pos += _SCAN
    return None


# "<page>" cannot occur in well-formed export XML but as a tag: text escapes "<" as &lt;.
_PAGE = re.compile(rb"<page>")


def _bz2_stream_at(raw, offset: int) -> bool:
    """Whether a bz2 stream starts at `offset` and its text starts with a <page>."""
    raw.seek(offset)
    if not _BZ2_STREAM.match(raw.read(10)):
        return False
    raw.seek(offset)
    d, out = bz2.BZ2Decompressor(), b""
    try:
        while not out.strip() and not d.eof:
            block = raw.read(1 << 16)
            if not block:
                break
            out += d.decompress(block, max_length=1 << 12)
            while not out.strip() and not d.needs_input and not d.eof:
                out += d.decompress(b"", max_length=1 << 12)
    except OSError:  # the magic was a coincidence inside compressed data
        return False
    return out.lstrip().startswith(b"<page>")


def index_name(path: str) -> str | None:
    """The multistream index's name: X-multistream.xml.bz2 -> X-multistream-index.txt.bz2, and for part
    files X-multistream1.xml-p1p41242.bz2 -> X-multistream-index1.txt-p1p41242.bz2."""
    m = re.match(r"^(?P<stem>.*-multistream)(?P<n>\d*)\.xml(?P<part>-p\d+p\d+)?\.bz2$", path)
    return f"{m['stem']}-index{m['n']}.txt{m['part'] or ''}.bz2" if m else None


_INDEX = re.compile(r"-multistream-index\d*\.txt(-p\d+p\d+)?\.bz2$")


def is_index(path: str) -> bool:
    """A multistream index file (which a glob like *multistream*.bz2 also matches), not a dump."""
    return bool(_INDEX.search(path))


def _index_of(path: str) -> str | None:
    """The index beside a dump, if it is there."""
    index = index_name(path)
    if index is None:
        return None
    fs, root = fsspec.core.url_to_fs(index)
    return index if fs.exists(root) else None


def _index_cuts(path: str, size: int, targets: list[int], raw) -> list[int | None] | None:
    """For each target, the first stream offset >= it, from the index (lines "offset:page_id:title", in
    file order). Blocks of the index that hold no target are skipped without parsing their lines."""
    index = _index_of(path)
    found: list[int | None] = []
    with fsspec.open(index, "rb", compression="bz2") as f:
        carry, i = b"", 0
        while i < len(targets):
            block = f.read(1 << 20)
            if not block:
                break
            data = carry + block
            nl = data.rfind(b"\n")
            if nl < 0:
                carry = data
                continue
            lines, carry = data[:nl], data[nl + 1:]
            last = lines[lines.rfind(b"\n") + 1:].split(b":", 1)[0]
            if last.isdigit() and int(last) < targets[i]:
                continue
            for m in re.finditer(rb"^(\d+):", lines, re.MULTILINE):
                offset = int(m.group(1))
                while i < len(targets) and offset >= targets[i]:
                    found.append(offset)
                    i += 1
    found += [None] * (len(targets) - len(found))
    bad = [c for c in found if c is not None and (c >= size or not _bz2_stream_at(raw, c))]
    if bad:
        log.warning("%s: the multistream index does not match the dump (no stream with pages at byte %d); "
                    "finding streams by scanning instead", index, bad[0])
        return None
    return found
