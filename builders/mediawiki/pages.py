"""A fast streaming reader of MediaWiki export XML: bytes -> <siteinfo> fields and pages.

mwxml builds an ElementTree node per element and walks it in Python (about 5 MB/s here). This reader
drives expat directly: one callback per element start/end and per run of text, nothing kept but the page
being read, and of a full-history page only the revision that will become the document. It yields what
mwxml's Page/Revision give for the fields a build uses (tests/builders/mediawiki/test_reader.py compares the two on
every real dump), and adds what mwxml cannot: where a parse error happened (byte offset, page title), and
whether it happened at the end of the input (a truncated dump: keep what came before) or in the middle (a
corrupt dump: fail, or skip that page and go on at the next <page>).

Its work is bounded whatever the file holds. Expat 2.5.0 (this machine's) handles a token (a tag with its
attributes, a comment, a processing instruction) only once it is complete, and re-scans the whole of an
unfinished one on every XML_Parse call; pyexpat cuts every Parse into calls of at most 1 MiB, so feeding
bigger reads does not help, and a 128 MiB comment costs quadratic time. Text advances the parser as it
goes; a token never needs to be long (MediaWiki writes none over a few KB: its longest is a <redirect
title=...> of a 255-byte title). So once one token runs past MAX_TOKEN_BYTES and one read, its page fails
(the reader goes on at the next page under `on_error: skip`), which bounds the re-scanning at a few MiB.
Reparse deferral is turned on where Python and expat offer it (expat 2.6+). The head (before <siteinfo>
ends) is read within MAX_HEAD_BYTES, and an internal DTD subset (entities, attribute defaults) is refused:
MediaWiki never writes one.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from xml.parsers import expat

from wiki_qa.builders.mediawiki.work import Counter

CHUNK = 1 << 20
# A parse error this close to the end of the input is the input being cut off (mid-tag, mid-text, mid-
# character); further back it is corruption, e.g. a stray "<!--" that swallowed the rest of the file.
TRUNCATION_WINDOW = 1 << 16
_SITE_FIELDS = ("sitename", "dbname", "base", "generator", "case")
# Bytes read before <siteinfo> has ended (or the first <page> has begun). A real head is a few KiB; every
# shard worker reads it (dump.read_head), so a hostile one must not cost them each hundreds of MiB.
MAX_HEAD_BYTES = 1 << 20
MAX_TOKEN_BYTES = 1 << 20  # one tag with its attributes, comment or processing instruction, at most


@dataclasses.dataclass(slots=True)
class Revision:
    id: int | None = None
    timestamp: str | None = None
    text: str | None = None  # None when <text> is missing or empty (as in mwxml)
    bytes: int | None = None  # the <text bytes="..."> attribute
    text_deleted: bool = False
    too_large: bool = False  # text over max_page_bytes: not kept


@dataclasses.dataclass(slots=True)
class Page:
    id: int | None
    title: str
    namespace: int | None  # None in old exports without <ns>
    redirect: str | None  # <redirect title="..."/>; None when absent or without a title (as in mwxml)
    revision: Revision | None  # the chosen revision
    revisions: int  # how many the page had
    offset: int  # byte offset of <page> in the file's XML (decompressed bytes)
    too_large: bool = False  # the chosen revision's text (or a page field) is over max_page_bytes
    all_revisions: list[Revision] | None = None  # only with revision="all"


class BadXML(Exception):
    """A parse error. `at_end`: the input ended early (a truncated dump); else the XML is corrupt there."""

    def __init__(self, offset: int, title: str | None, inside: bool, reason: str, at_end: bool):
        super().__init__(reason)
        self.offset, self.title, self.inside, self.reason, self.at_end = offset, title, inside, reason, at_end

    def where(self) -> str:
        if self.title is None:
            return f"byte {self.offset:,}, before the first page"
        return f"byte {self.offset:,}, {'in' if self.inside else 'after'} page {self.title!r}"


class EntitiesRefused(Exception):
    """A DTD with an internal subset: entities (billion laughs, external entities) or attribute defaults
    (one short <!ATTLIST> adds its value to every element). MediaWiki never writes one."""


class HeadTooLarge(Exception):
    """<siteinfo> (or whatever comes before the first page) runs past MAX_HEAD_BYTES."""


class PageReader:
    """Iterate the pages of one export stream.

    `prologue` is fed to the parser before the stream: the file's XML declaration and root start tag, for
    a stream that starts at a <page> in the middle of a dump. `footer` is fed after it (a closing root tag,
    for a stream that stops before the file's end; then an error at the end is not a truncation). `head`
    is the file's prologue, used to restart after a bad spot. `base` is the file offset of the stream's
    first byte, so offsets in errors are offsets in the file's XML. With `skip_bad=True` a parse error in
    the middle of the input is yielded (a BadXML) and reading goes on at the next <page>.
    """

    def __init__(self, stream, *, revision: str = "latest", max_page_bytes: int | None = None,
                 prologue: bytes = b"", footer: bytes = b"", head: bytes | None = None, base: int = 0,
                 encoding: str = "utf-8", skip_bad: bool = False, chunk: int = CHUNK, counter: Counter | None = None,
                 max_token_bytes: int = MAX_TOKEN_BYTES):
        self.stream, self.which, self.max_bytes, self.skip_bad = stream, revision, max_page_bytes, skip_bad
        self.prologue, self.footer, self.chunk = prologue, footer, chunk
        # The bytes expat scans (tests): what each Parse call is given, plus what it holds unparsed from before
        # and scans again. Exact while a read is at most 1 MiB (pyexpat's own slice of a Parse call).
        self.counter = counter or Counter()
        self.max_token = max_token_bytes + chunk
        self.head = head or prologue  # b"": taken from the stream's first bytes when first needed
        self._first = b""
        self.encoding = encoding
        self.site: dict | None = None  # <siteinfo> fields once read; {} if the export has none
        self.pages_done = 0
        self._last_title: str | None = None
        self._page_tag = _encode("<page>", encoding)
        self._pos = base  # file offset of the next stream byte to read
        self._head_end = base + MAX_HEAD_BYTES
        self._ready: list = []  # pages (and BadXML with skip_bad) completed by the last Parse call
        self._held: list = []  # what read_site parsed past
        self._deferred: BadXML | None = None
        self._new_parser(base - len(prologue))
        self._it = self._run()

    # --- public -------------------------------------------------------------------------------------
    def read_site(self) -> dict:
        """Parse until <siteinfo> is complete (or the first <page> shows there is none); return its fields.
        Pages parsed on the way are held for iteration, and so is an error in them."""
        while self.site is None:
            try:
                self._held.append(next(self._it))
            except StopIteration:
                break
            except BadXML as e:
                if self.site is None:
                    raise
                self._deferred = e
                break
        return self.site or {}

    def __iter__(self) -> Iterator[Page | BadXML]:
        while self._held:
            yield self._held.pop(0)
        if self._deferred is not None:
            raise self._deferred
        yield from self._it

    # --- parsing ------------------------------------------------------------------------------------
    def _new_parser(self, base: int) -> None:
        p = self.parser = expat.ParserCreate()
        p.buffer_text = True
        p.buffer_size = 1 << 16
        p.StartElementHandler = self._start
        p.EndElementHandler = self._end
        p.CharacterDataHandler = self._data
        p.EntityDeclHandler = _refuse_entities
        p.StartDoctypeDeclHandler = _refuse_internal_subset
        if hasattr(p, "SetReparseDeferralEnabled"):  # Python 3.11.9+ with expat 2.6+: no re-scans at all
            p.SetReparseDeferralEnabled(True)
        self._base = base  # file offset = base + parser byte index
        self._stack: list[str] = []
        self._buf: list[str] | None = None
        self._buf_chars = 0
        self._page: dict | None = None
        self._rev: Revision | None = None
        self._site_acc: dict | None = None

    def _run(self) -> Iterator[Page | BadXML]:
        read = self.stream.read
        if self.prologue:
            self.parser.Parse(self.prologue, False)
        pending, start = b"", self._pos
        while True:
            if not pending:
                start = self._pos
                pending = read(self.chunk)  # decompressor errors (EOFError: cut off) reach the caller
                if not pending:
                    break
                if not self._first and not self.head:
                    self._first = pending[: 1 << 16]
                self._pos += len(pending)
            try:
                self.counter.add(self._unparsed(start) + len(pending))
                self.parser.Parse(pending, False)
                pending = b""
                if self._unparsed(self._pos) > self.max_token:  # expat re-scans it on every call
                    raise _TokenTooLong()
            except (expat.ExpatError, _TokenTooLong) as e:
                bad = self._error(e, at_end=False)
                yield from self._drain()
                if not self.skip_bad:
                    raise bad from None
                yield bad
                if isinstance(e, _TokenTooLong):  # all that was read is spent: look on from the next byte
                    pending, start = b"", self._pos
                pending, start = self._resync(pending, start, bad.offset)
                if pending is None:
                    return  # nothing after the bad spot
                continue
            yield from self._drain()
            if self.site is None and self._pos > self._head_end:
                raise HeadTooLarge(f"no end of <siteinfo> (and no <page>) in the first {MAX_HEAD_BYTES:,} bytes")
        try:
            self.parser.Parse(self.footer, True)
        except expat.ExpatError as e:
            at_end = not self.footer and self._base + self.parser.ErrorByteIndex >= self._pos - TRUNCATION_WINDOW
            bad = self._error(e, at_end=at_end)
            yield from self._drain()
            if at_end or not self.skip_bad:
                raise bad from None
            yield bad
        yield from self._drain()
        if self.site is None:
            self.site = {}

    def _unparsed(self, upto: int) -> int:
        """Bytes before file offset `upto` that expat holds unparsed (the start of an unfinished token)."""
        index = self.parser.CurrentByteIndex
        return max(0, upto - (self._base + index)) if index >= 0 else 0

    def _drain(self) -> Iterator[Page]:
        ready = self._ready
        if ready:
            self._ready = []
            yield from ready

    def _error(self, e: expat.ExpatError | _TokenTooLong, at_end: bool) -> BadXML:
        if isinstance(e, _TokenTooLong):  # it starts where expat stopped
            offset = self._base + self.parser.CurrentByteIndex
            reason = (f"one XML token (a tag with its attributes, a comment or a processing instruction) runs "
                      f"past {self.max_token:,} bytes; MediaWiki writes none over a few KB")
        else:
            offset = self._base + self.parser.ErrorByteIndex
            reason = expat.errors.messages[e.code]
        page = self._page
        if page is not None and page["title"] is not None:
            return BadXML(offset, page["title"], True, reason, at_end)
        return BadXML(offset, self._last_title, False, reason, at_end)

    def _resync(self, data: bytes, start: int, bad_offset: int) -> tuple[bytes | None, int]:
        """After a mid-stream error: find the next <page> after it, restart a parser there, return the
        bytes from that <page> on (None if the stream has no further page)."""
        if not self.head:
            from wiki_qa.builders.mediawiki.sniff import parse_header

            self.head = parse_header("", self._first).get("prologue") or b""
        tag, keep = self._page_tag, len(self._page_tag) - 1
        i = max(0, bad_offset - start + 1)
        while True:
            i = _find_aligned(data, tag, i, start, self.encoding)
            if i >= 0:
                self._new_parser(start + i - len(self.head))
                self.parser.Parse(self.head, False)
                return data[i:], start + i
            more = self.stream.read(self.chunk)
            if not more:
                return None, self._pos
            self._pos += len(more)
            self.counter.add(len(more))  # searched once for <page>
            tail = data[-keep:]
            start, data, i = start + len(data) - len(tail), tail + more, 0

    # --- expat callbacks ------------------------------------------------------------------------------
    def _start(self, name, attrs):
        stack = self._stack
        if ":" in name:
            name = name.rpartition(":")[2]
        depth = len(stack)
        stack.append(name)
        if depth == 1:
            if name == "page":
                self._page = {"offset": self._base + self.parser.CurrentByteIndex, "title": None, "ns": None,
                              "id": None, "redirect": None, "revs": 0, "chosen": None, "all": None,
                              "too_large": False}
                if self.site is None:  # an export without <siteinfo>
                    self.site = {}
            elif name == "siteinfo":
                self._site_acc = {"namespaces": []}
            return
        if depth < 2:
            return
        parent = stack[1]
        if parent == "page":
            if self._page is None:
                return
            if depth == 2:
                if name == "revision":
                    self._rev = Revision()
                    self._page["revs"] += 1
                elif name in ("title", "ns", "id"):
                    self._buf, self._buf_chars = [], 0
                elif name == "redirect":
                    self._page["redirect"] = attrs.get("title")
            elif depth == 3 and self._rev is not None:
                if name == "text":
                    rev = self._rev
                    rev.text_deleted = attrs.get("deleted") is not None
                    rev.bytes = _int(attrs.get("bytes"))
                    self._buf, self._buf_chars = [], 0
                elif name in ("id", "timestamp"):
                    self._buf, self._buf_chars = [], 0
        elif parent == "siteinfo" and self._site_acc is not None:
            if depth == 2 and name in _SITE_FIELDS:
                self._buf, self._buf_chars = [], 0
            elif depth == 3 and name == "namespace" and stack[2] == "namespaces":
                self._site_acc["namespaces"].append([_int(attrs.get("key")), attrs.get("case"), ""])
                self._buf, self._buf_chars = [], 0

    def _data(self, data):
        buf = self._buf
        if buf is not None:
            self._buf_chars += len(data)
            if self.max_bytes is not None and self._buf_chars > self.max_bytes:
                # Over the cap in any encoding (UTF-8 has at least one byte per character): stop keeping
                # it, so a 2 GB page costs no memory.
                self._buf = None
                if self._rev is not None and len(self._stack) == 4 and self._stack[3] == "text":
                    self._rev.too_large = True
                elif self._page is not None:
                    self._page["too_large"] = True
                return
            buf.append(data)

    def _text(self) -> str | None:
        buf = self._buf
        self._buf = None
        if buf is None:
            return None
        return buf[0] if len(buf) == 1 else "".join(buf)

    def _end(self, name):
        stack = self._stack
        depth = len(stack) - 1
        name = stack.pop()
        if depth == 1:
            if name == "page" and self._page is not None:
                self._ready.append(self._finish_page())
            elif name == "siteinfo" and self._site_acc is not None:
                self.site, self._site_acc = self._site_acc, None
            return
        if depth < 2:
            return
        parent = stack[1]
        if parent == "page":
            page = self._page
            if page is None:
                return
            if depth == 2:
                if name == "revision":
                    if self._rev is not None:
                        self._choose(page, self._rev)
                        self._rev = None
                elif name == "title":
                    page["title"] = (self._text() or "").replace("_", " ")
                elif name == "ns":
                    page["ns"] = _int(self._text())
                elif name == "id":
                    page["id"] = _int(self._text())
            elif depth == 3 and self._rev is not None:
                rev = self._rev
                if name == "text":
                    text = self._text()
                    limit = self.max_bytes
                    if text and limit is not None and len(text) * 4 > limit and len(text.encode("utf-8")) > limit:
                        rev.too_large, text = True, None
                    rev.text = text or None
                elif name == "id":
                    rev.id = _int(self._text())
                elif name == "timestamp":
                    rev.timestamp = self._text()
        elif parent == "siteinfo" and self._site_acc is not None:
            if depth == 2 and name in _SITE_FIELDS:
                self._site_acc[name] = self._text()
            elif depth == 3 and name == "namespace" and self._site_acc["namespaces"]:
                self._site_acc["namespaces"][-1][2] = self._text() or ""

    def _choose(self, page: dict, rev: Revision) -> None:
        if self.which == "all":
            page["all"] = (page["all"] or []) + [rev]
        chosen = page["chosen"]
        # latest = the last revision whose timestamp is >= the chosen one's (a revision without a timestamp
        # wins); first = the first one. Only the chosen revision's text stays in memory.
        if chosen is None or self.which != "first" and (
                rev.timestamp is None or chosen.timestamp is None or rev.timestamp >= chosen.timestamp):
            page["chosen"] = rev

    def _finish_page(self) -> Page:
        page, self._page = self._page, None
        self.pages_done += 1
        self._last_title = page["title"]
        chosen = page["chosen"]
        too_large = page["too_large"] or (chosen is not None and chosen.too_large)
        return Page(page["id"], page["title"] or "", page["ns"], page["redirect"], chosen, page["revs"],
                    page["offset"], too_large, page["all"])


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _refuse_entities(*args):
    raise EntitiesRefused()


def _refuse_internal_subset(name, system_id, public_id, has_internal_subset):
    if has_internal_subset:
        raise EntitiesRefused()


class _TokenTooLong(Exception):
    pass


def _encode(s: str, encoding: str) -> bytes:
    from wiki_qa.builders.mediawiki.sniff import bom_free

    try:
        return s.encode(bom_free(encoding))
    except LookupError:
        return s.encode("utf-8")


def _find_aligned(data: bytes, tag: bytes, i: int, start: int, encoding: str) -> int:
    """Next `tag` in `data` from i; in UTF-16 only at even file offsets (a real character boundary)."""
    step = 2 if encoding.lower().startswith("utf-16") else 1
    while True:
        i = data.find(tag, i)
        if i < 0 or step == 1 or (start + i) % 2 == 0:
            return i
        i += 1
