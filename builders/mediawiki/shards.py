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

Planning reads a few bytes of files that others made, so its work is bounded whatever they hold: a stream
is checked by decompressing at most one block and a few KiB of text, each stream once per plan, at most
_MAX_FAILED_CHECKS streams fail before the file stops being cut, and the index is read line by line within
a size bound (a damaged or oversized index is named in a warning and the dump is scanned instead).
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

from wiki_qa.builders.mediawiki.work import Counter
from wiki_qa.io import MAGIC, can_seek, identity, open_raw

log = logging.getLogger("wiki_qa")

_RANGE = re.compile(r"^(?P<path>.+)#bytes=(?P<start>\d+)-(?P<end>\d+)$", re.DOTALL)
# A bz2 stream: "BZh" + block size digit + the first block's magic (BCD pi). Wikimedia's multistream
# dumps start every stream at a byte boundary; inside a stream, blocks are bit-aligned.
_BZ2_STREAM = re.compile(rb"BZh[1-9]\x31\x41\x59\x26\x53\x59")
_SCAN = 1 << 20
_MAX_SCAN = 256 << 20  # give up on a cut point after this many bytes without a boundary
# A candidate stream is a Wikimedia page stream if its text starts with <page> after a little whitespace:
# decompress at most one bz2 block (what the first output needs) and this much text to find out.
_PEEK_TEXT = 1 << 12
_PEEK_READ = 1 << 12  # raw bytes fed to the decompressor at a time
_BLOCK_RAW = (1 << 20) + (1 << 16)  # a block of 900k holds at most about this many compressed bytes
_MAX_FAILED_CHECKS = 16  # candidate streams without pages before a file stops being cut (pbzip2, hostile)
# The index holds one short line per page: a longer line, or more text than this, is not an index.
_INDEX_MAX_LINE = 1 << 16
_INDEX_SLACK = 1 << 20


def _index_limit(size: int) -> int:
    """Decompressed bytes of an index worth reading for a dump of `size` bytes (real ones hold about a
    twentieth of the dump's size)."""
    return _INDEX_SLACK + 4 * size


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
    # [^<]*, not .*?: a title holds no '<' (XML escapes it), and a head of repeated "<page><title>" made the
    # lazy .*? retry from every start: 1.4 s per shard for 64 KiB
    m = re.search(rb"<page>\s*<title>[^<]*</title>\s*(?:<ns>[^<]*</ns>\s*)?<id>\s*(\d+)\s*</id>", head)
    return int(m.group(1)) if m else None


def file_size(path: str) -> int:
    raw, size = open_raw(path)
    raw.close()
    return size


def cut_points(path: str, size: int, pieces: int, counter: Counter | None = None) -> list[int]:
    """Offsets where shards 2..n of `path` start (sorted, distinct, maybe fewer than pieces-1; [] = whole).
    `counter` (tests) adds the bytes read and decompressed."""
    if not can_seek(path):
        return []
    counter = counter or Counter()
    raw, _ = open_raw(path)
    try:
        head = raw.read(1 << 16)
        counter.add(len(head))
        targets = [size * k // pieces for k in range(1, pieces)]
        if head.startswith(b"BZh"):
            index = _index_of(path)
            found = _index_cuts(index, path, size, targets, raw, counter) if index else None
            if found is None:
                found = _Scan(raw, size, _BZ2_STREAM, _StreamCheck(path), counter).cuts(targets)
            first = 0  # stream 0 holds the head; every later stream accepted holds pages
        elif any(head.startswith(m) for m in MAGIC) or _utf16(head):
            return []  # gzip, xz, 7z, UTF-16 XML: no way in but from the start
        else:
            found = _Scan(raw, size, _PAGE, None, counter).cuts(targets)
            first = _Scan(raw, size, _PAGE, None, counter).cuts([0])[0]
            if first is None:
                return []
    finally:
        raw.close()
    return sorted({c for c in found if c is not None and c > first})


def _utf16(head: bytes) -> bool:
    return head.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<"))


class _Scan:
    """For each of a sorted list of targets, the first offset >= it where `pattern` matches (and
    `valid(raw, offset, counter)` holds). One scan serves all the targets: a target inside a stretch already
    scanned takes the answer found there, so no byte is searched and no candidate checked twice."""

    def __init__(self, raw, size: int, pattern: re.Pattern, valid, counter: Counter):
        self.raw, self.size, self.pattern, self.valid, self.counter = raw, size, pattern, valid, counter

    def cuts(self, targets: list[int]) -> list[int | None]:
        out: list[int | None] = []
        reach, hit = 0, None  # [.., reach) is scanned; `hit` is the first valid offset found from there
        for t in targets:
            if hit is not None and t <= hit:
                out.append(hit)
                continue
            hit, reach = self._first(max(t, reach), t + _MAX_SCAN)
            out.append(hit)
        return out

    def _first(self, pos: int, stop: int) -> tuple[int | None, int]:
        """(the first valid offset in [pos, stop), or None; where the scan got to)."""
        raw, valid = self.raw, self.valid
        while pos < min(self.size, stop):
            raw.seek(pos)
            block = raw.read(_SCAN + 15)
            self.counter.add(len(block))
            if not block:
                break
            for m in self.pattern.finditer(block):
                if m.start() >= _SCAN:
                    break
                if valid is None or valid(raw, pos + m.start(), self.counter):
                    return pos + m.start(), pos + m.start() + 1
                if valid.gave_up:
                    return None, self.size
            pos += _SCAN
        return None, pos


# "<page>" cannot occur in well-formed export XML but as a tag: text escapes "<" as &lt;.
_PAGE = re.compile(rb"<page>")


class _StreamCheck:
    """`_bz2_stream_at` for one plan, giving up on the file after _MAX_FAILED_CHECKS failed candidates."""

    def __init__(self, path: str):
        self.path, self.failed, self.gave_up = path, 0, False

    def __call__(self, raw, offset: int, counter: Counter) -> bool:
        if self.gave_up:
            return False
        if _bz2_stream_at(raw, offset, counter):
            return True
        self.failed += 1
        if self.failed >= _MAX_FAILED_CHECKS:
            self.gave_up = True
            log.warning("%s: %d bz2 streams hold no <page> at their start (not a Wikimedia multistream "
                        "dump?); not cut further", self.path, self.failed)
        return False


def _bz2_stream_at(raw, offset: int, counter: Counter | None = None) -> bool:
    """Whether a bz2 stream starts at `offset` and its text starts with a <page>. Decompresses at most the
    stream's first block and _PEEK_TEXT bytes of text, whatever the stream holds (a block of 900k spaces
    expands to 45 MB)."""
    counter = counter or Counter()
    raw.seek(offset)
    magic = raw.read(10)
    if not _BZ2_STREAM.match(magic):
        return False
    counter.add(int(magic[3:4]) * 100_000)  # the decoder's work for a block of this size, at most
    raw.seek(offset)
    d, out, fed = bz2.BZ2Decompressor(), b"", 0
    try:
        while len(out.lstrip()) < len(b"<page>") and len(out) < _PEEK_TEXT and not d.eof:
            if d.needs_input:
                if fed >= _BLOCK_RAW:
                    return False  # no text after a whole block's worth of bytes: not a stream start
                block = raw.read(_PEEK_READ)
                if not block:
                    break
                fed += len(block)
            else:
                block = b""
            new = d.decompress(block, max_length=_PEEK_TEXT - len(out))
            counter.add(len(block) + len(new))
            out += new
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


class _BadIndex(Exception):
    pass


# An index line: "offset:page_id:title". 19 digits hold any file offset (and stay clear of int()'s limit).
_INDEX_LINE = re.compile(rb"^(\d{1,19}):", re.MULTILINE)


def _index_cuts(index: str, path: str, size: int, targets: list[int], raw,
                counter: Counter) -> list[int | None] | None:
    """For each target, the first stream offset >= it, from the index (in file order); None (and a warning
    naming the index) if the index is damaged, does not match the dump, or is larger than any index of a
    dump this size, so that the caller scans for streams instead."""
    try:
        found = _read_index(index, size, targets, counter)
    except (_BadIndex, EOFError, OSError, ValueError) as e:
        why = str(e) if isinstance(e, _BadIndex) else f"cannot be read ({type(e).__name__}: {e})"
        log.warning("%s: the multistream index %s; finding streams by scanning instead", index, why[:200])
        return None
    bad = [c for c in found if c is not None and (c >= size or not _bz2_stream_at(raw, c, counter))]
    if bad:
        log.warning("%s: the multistream index does not match the dump (no stream with pages at byte %d); "
                    "finding streams by scanning instead", index, bad[0])
        return None
    return found


def _read_index(index: str, size: int, targets: list[int], counter: Counter) -> list[int | None]:
    """Blocks of the index that hold no target are skipped without parsing their lines; a partial line is
    carried into the next block. A line that is not "offset:page_id:title", one longer than _INDEX_MAX_LINE,
    or more text than an index of this dump can hold, means this is not (or no longer) an index."""
    found: list[int | None] = []
    limit = _index_limit(size)
    with fsspec.open(index, "rb", compression="bz2") as f:
        carry, i, read = b"", 0, 0
        while i < len(targets):
            block = f.read(1 << 20)
            read += len(block)
            if read > limit:
                raise _BadIndex(f"holds more than {limit:,} bytes, too many for a dump of {size:,} bytes")
            data = carry + block if block else carry + b"\n"  # at the end, the last line even without "\n"
            counter.add(len(data))
            nl = data.rfind(b"\n")
            if nl < 0:
                if len(data) > _INDEX_MAX_LINE:
                    raise _BadIndex(f"has a line longer than {_INDEX_MAX_LINE:,} bytes")
                carry = data
                continue
            lines, carry = data[:nl], data[nl + 1:]
            if len(carry) > _INDEX_MAX_LINE:
                raise _BadIndex(f"has a line longer than {_INDEX_MAX_LINE:,} bytes")
            last = _INDEX_LINE.match(lines, lines.rfind(b"\n") + 1)
            if not last and lines.strip():
                raise _BadIndex("has a line that is not offset:page_id:title")
            if last and int(last.group(1)) >= targets[i]:
                offsets = [int(m.group(1)) for m in _INDEX_LINE.finditer(lines)]
                if len(offsets) != lines.count(b"\n") + 1:
                    raise _BadIndex("has a line that is not offset:page_id:title")
                for offset in offsets:
                    while i < len(targets) and offset >= targets[i]:
                        found.append(offset)
                        i += 1
            if not block:
                break
    return found + [None] * (len(targets) - len(found))
