"""Opening inputs: local paths, globs and fsspec URLs, with the compression read from the bytes.

Every input is read as a stream (constant memory). While the raw bytes go by they are hashed (sha256 for
the report and the card) and counted (MB/s in the progress bar), so nothing is read twice.
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import io
import lzma
import os
import shutil
import tempfile
from collections.abc import Iterator

import fsspec

from wiki_qa.errors import UserError

MAGIC = {b"BZh": "bz2", b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz", b"7z\xbc\xaf\x27\x1c": "7z",
         b"\x28\xb5\x2f\xfd": "zstd"}
EXTENSIONS = {".bz2": "bz2", ".gz": "gzip", ".xz": "xz", ".7z": "7z", ".zst": "zstd"}


def expand(paths: str | list[str], what: str = "source.path") -> list[str]:
    """Globs and lists -> a sorted list of concrete paths/URLs. A missing input is a UserError."""
    out: list[str] = []
    for p in [paths] if isinstance(paths, str) else paths:
        p = os.path.expanduser(p)
        fs, root = fsspec.core.url_to_fs(p)
        if any(c in p for c in "*?["):
            found = sorted(fs.glob(root))
            if not found:
                raise UserError(f"{p}: no file matches this pattern ({what})")
            out += [fs.unstrip_protocol(f) if "://" in p else f for f in found]
        else:
            try:
                exists = fs.exists(root)
            except Exception as e:  # remote fs errors (auth, DNS) are the user's to fix
                raise UserError(f"{p}: cannot be reached: {type(e).__name__}: {e}") from e
            if not exists:
                raise UserError(f"{p}: no such file ({what})")
            if fs.isdir(root):
                raise UserError(f"{p}: is a folder; give a file or a glob such as {p.rstrip('/')}/*.xml.bz2")
            out.append(p)
    return out


def identity(path: str) -> dict:
    """Cheap identity for cache keys: size + mtime for local files, ETag/size for remote ones."""
    fs, root = fsspec.core.url_to_fs(path)
    info = fs.info(root)
    ident = {"path": path, "size": info.get("size")}
    for k in ("mtime", "ETag", "etag", "LastModified", "last_modified"):
        if k in info:
            ident[k.lower()] = str(info[k])
    return ident


class _Tap(io.RawIOBase):
    """Passes raw bytes through while hashing and counting them; with `limit`, stops after that many."""

    def __init__(self, f, on_bytes=None, limit: int | None = None):
        self.f, self.sha, self.n, self.on_bytes, self.limit = f, hashlib.sha256(), 0, on_bytes, limit

    def readable(self):
        return True

    def readinto(self, b):
        want = len(b) if self.limit is None else min(len(b), self.limit - self.n)
        data = self.f.read(want) if want > 0 else b""
        n = len(data)
        b[:n] = data
        self.sha.update(data)
        self.n += n
        if self.on_bytes:
            self.on_bytes(n)
        return n

    def close(self):
        with contextlib.suppress(Exception):
            self.f.close()
        super().close()


class Input:
    """An opened input: `.stream` is the decompressed byte stream; `.sha256` is final once read to the end."""

    def __init__(self, path, stream, tap, compression, size):
        self.path, self.stream, self._tap, self.compression, self.size = path, stream, tap, compression, size

    @property
    def bytes_read(self) -> int:
        return self._tap.n

    @property
    def sha256(self) -> str:
        return self._tap.sha.hexdigest()


def _sniff(path: str, head: bytes) -> str | None:
    found = next((c for m, c in MAGIC.items() if head.startswith(m)), None)
    name = path.lower()
    named = next((c for ext, c in EXTENSIONS.items() if name.endswith(ext)), None)
    if named and found != named:
        what = f"{found}-compressed data" if found else "uncompressed data"
        raise UserError(f"{path}: named {name[name.rfind('.'):]} but contains {what}; fix the name or the file")
    if found == "zstd":
        raise UserError(f"{path}: zstd compression is not supported; recompress as .bz2, .gz or .xz")
    return found


def open_raw(path: str):
    """(file object, size) of the raw bytes, for seeking and probing; UserError when it cannot be opened."""
    fs, root = fsspec.core.url_to_fs(path)
    try:
        return fs.open(root, "rb"), fs.size(root)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (IsADirectoryError, PermissionError) as e:
        raise UserError(f"{path}: cannot be read: {e.strerror or e}") from None


def can_seek(path: str) -> bool:
    """Whether byte ranges of `path` can be read without fetching what comes before them: local files and
    object stores. Plain http(s) servers may not honour range requests, so they are read whole."""
    protocol = fsspec.core.split_protocol(path)[0] or "file"
    return protocol in ("file", "local", "s3", "s3a", "gs", "gcs", "abfs", "az", "memory")


@contextlib.contextmanager
def open_input(path: str, on_bytes=None, start: int = 0, end: int | None = None,
               buffer_size: int = 1 << 20) -> Iterator[Input]:
    """Open `path` for streaming, decompressing by the file's magic bytes (checked against its name).

    With `start`/`end`, only raw bytes [start, end) are read (a byte-range shard: it must begin where a
    compressed stream, or the XML of a <page>, begins); `sha256` then covers that range. A small
    `buffer_size` keeps a look at a file's head from decompressing more than it needs."""
    raw, size = open_raw(path)
    if start or end is not None:
        raw.seek(start)
        end = size if end is None else min(end, size)
        size = end - start
    tap = _Tap(raw, on_bytes, limit=None if end is None else size)
    buffered = io.BufferedReader(tap, buffer_size)
    compression = _sniff(path, buffered.peek(8)[:8])
    tmpdir = None
    try:
        if compression == "bz2":
            stream = bz2.BZ2File(buffered)  # handles multistream files
        elif compression == "gzip":
            stream = gzip.GzipFile(fileobj=buffered)
        elif compression == "xz":
            stream = lzma.LZMAFile(buffered)
        elif compression == "7z":
            # py7zr cannot stream one member; extract it to disk (not memory) and stream that.
            tmpdir = tempfile.mkdtemp(prefix="wiki_qa-7z-")
            while buffered.read(1 << 20):  # hash (and count) the archive; py7zr needs to seek
                pass
            stream = _open_7z(path, open_raw(path)[0], tmpdir)
        else:
            stream = buffered
        yield Input(path, io.BufferedReader(stream, buffer_size) if compression else stream, tap, compression, size)
    finally:
        with contextlib.suppress(Exception):
            buffered.close()
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _open_7z(path, fileobj, tmpdir):
    import py7zr

    try:
        with py7zr.SevenZipFile(fileobj, "r") as z:
            names = [n for n in z.getnames() if not n.endswith("/")]
            if len(names) != 1:
                raise UserError(f"{path}: a .7z dump must hold exactly one file, found {len(names)}")
            z.extractall(path=tmpdir)
    except py7zr.exceptions.Bad7zFile as e:
        raise UserError(f"{path}: damaged 7z archive: {e}") from None
    return open(os.path.join(tmpdir, names[0]), "rb")
