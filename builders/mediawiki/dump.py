"""Open a MediaWiki export (or a byte-range shard of one) for reading: bytes -> sniffed header -> page
reader -> SiteInfo.

Shared by the source (builds) and `wiki-qa inspect`, so both accept and refuse exactly the same files, and
both say the same thing about a file that is cut off or corrupt.
"""
from __future__ import annotations

import bz2
import contextlib
import dataclasses
import io
import re

from wiki_qa.builders.mediawiki.pages import MAX_HEAD_BYTES, BadXML, EntitiesRefused, HeadTooLarge, PageReader
from wiki_qa.builders.mediawiki.shards import Shard, file_size, parse
from wiki_qa.builders.mediawiki.siteinfo import SiteInfo
from wiki_qa.builders.mediawiki.sniff import sniff_header
from wiki_qa.errors import UserError
from wiki_qa.io import Input, open_input, open_raw

HEAD = 1 << 16  # bytes read at a time when only a file's head is wanted
# What a compressed stream that ends early raises (a truncated .bz2/.gz/.xz): the dump is cut off.
CUT_OFF = (EOFError,)


@dataclasses.dataclass
class Dump:
    input: Input
    reader: PageReader
    site: SiteInfo
    shard: Shard
    header: dict


@contextlib.contextmanager
def open_dump(shard: str, *, revision: str = "latest", max_page_bytes: int | None = None,
              skip_bad: bool = False, on_bytes=None):
    """Yields a Dump; raises UserError for anything that is not a readable export."""
    sh = parse(shard)
    path = sh.path
    if sh.start > 0:
        header, site = read_head(path)
    with open_input(path, on_bytes=on_bytes, start=sh.start, end=sh.end) as inp:
        if sh.start == 0:
            header = sniff_header(path, inp.stream)
        last = sh.end is None or sh.end >= file_size(path)
        if sh.start > 0 and not header.get("prologue"):
            raise UserError(f"{path}: the root start tag is not in the file's first 64 KB; read it whole "
                            "(no byte-range shards)")
        reader = PageReader(
            inp.stream, revision=revision, max_page_bytes=max_page_bytes, skip_bad=skip_bad,
            prologue=header["prologue"] if sh.start > 0 else b"", footer=b"" if last else header["footer"],
            head=header.get("prologue") or b"", encoding=header["encoding"],
            base=sh.start if sh.start > 0 and not inp.compression else 0)
        if sh.start == 0:
            site = _site(path, reader)
        yield Dump(inp, reader, SiteInfo.from_fields(site, header), sh, header)


def read_head(path: str) -> tuple[dict, dict]:
    """The sniffed header and <siteinfo> fields of a file, reading only its head (at most MAX_HEAD_BYTES of
    XML: every shard worker reads it). In a multistream .bz2 the head is its first stream (Wikimedia's holds
    the <siteinfo> alone): only that one is decompressed."""
    raw, _ = open_raw(path)
    try:
        if raw.read(3) == b"BZh":
            raw.seek(0)
            stream = io.BufferedReader(_FirstBz2Stream(raw), HEAD)
            with contextlib.suppress(UserError, *CUT_OFF, OSError):
                header = sniff_header(path, stream)
                site = PageReader(stream, encoding=header["encoding"], chunk=HEAD).read_site()
                if site:
                    return header, site
    except (HeadTooLarge, EntitiesRefused) as e:
        raise read_error(path, e) from None
    finally:
        raw.close()
    with open_input(path, buffer_size=HEAD) as inp:
        header = sniff_header(path, inp.stream)
        return header, _site(path, PageReader(inp.stream, encoding=header["encoding"], chunk=HEAD))


class _FirstBz2Stream(io.RawIOBase):
    """The decompressed bytes of the first bz2 stream of a file, and nothing after it."""

    def __init__(self, raw):
        self.raw, self.d = raw, bz2.BZ2Decompressor()

    def readable(self):
        return True

    def readinto(self, b):
        out = b""
        while not out and not self.d.eof:
            if self.d.needs_input:
                block = self.raw.read(1 << 16)
                if not block:
                    raise EOFError("the first bz2 stream is cut off")
                out = self.d.decompress(block, max_length=len(b))
            else:
                out = self.d.decompress(b"", max_length=len(b))
        b[:len(out)] = out
        return len(out)


def _site(path: str, reader: PageReader) -> dict:
    try:
        return reader.read_site()
    except (BadXML, EntitiesRefused, HeadTooLarge, *CUT_OFF, OSError) as e:
        raise read_error(path, e) from None


def read_error(path: str, e: Exception) -> UserError:
    """The one-line error for a problem in the XML or the compressed bytes."""
    if isinstance(e, EntitiesRefused):
        return UserError(f"{path}: declares XML entities or attribute defaults (an internal DTD subset); "
                         "MediaWiki exports never do, and it is refused (billion laughs, external entities, "
                         "attribute-default bombs)")
    if isinstance(e, HeadTooLarge):
        return UserError(f"{path}: <siteinfo> does not end within the first {MAX_HEAD_BYTES:,} bytes of XML; "
                         "not a MediaWiki export (a real one's head is a few KB)")
    if isinstance(e, BadXML):
        if e.at_end and e.title is None:
            return UserError(f"{path}: ends before the first page ({e.reason}); not a complete export")
        return UserError(f"{path}: corrupt XML at {e.where()}: {e.reason}; the pages after it were not read "
                         "(set source.on_error: skip to skip bad pages and go on)")
    if isinstance(e, CUT_OFF):
        return UserError(f"{path}: ends before the first page ({short(e)}); not a complete export")
    return UserError(f"{path}: corrupt compressed data: {short(e)}")


def short(e: Exception) -> str:
    return re.sub(r"\s+", " ", f"{type(e).__name__}: {e}")[:200]
