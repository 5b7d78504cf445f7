"""Look at the first bytes of a (decompressed) input and say what it is, before the XML parser does.

The XML parser's own errors ("not well-formed (invalid token): line 1, column 0") don't tell a user that
they passed an HTML page or the wrong file; this does, in one line. It also reads what mwxml does not
expose: the export schema version and the xml:lang of the root element. Encoding follows the XML rules
(BOM, else the UTF-16 byte pattern, else the declaration), which is also what expat does when parsing.
"""
from __future__ import annotations

import codecs
import re

from wiki_qa.errors import UserError

_BOMS = [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]


def _encoding(head: bytes) -> tuple[str, int]:
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return enc, len(bom)
    if head.startswith(b"<\x00"):
        return "utf-16-le", 0
    if head.startswith(b"\x00<"):
        return "utf-16-be", 0
    m = re.match(rb"\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)", head)
    return (m.group(1).decode("ascii").lower() if m else "utf-8"), 0


def sniff_header(path: str, stream) -> dict:
    """Peek (without consuming) at the stream's head; raise UserError unless it is a MediaWiki export."""
    try:
        head = stream.peek(1 << 16)[: 1 << 16]
    except (OSError, EOFError, ValueError) as e:  # corrupt compressed data shows up on first read
        raise UserError(f"{path}: cannot be decompressed: {type(e).__name__}: {e}") from None
    return parse_header(path, head)


def parse_header(path: str, head: bytes) -> dict:
    """What the first bytes of a (decompressed) export say: encoding, schema version, xml:lang, and the
    prologue (the bytes up to the end of the root start tag) and footer (the closing root tag)."""
    if not head.strip():
        raise UserError(f"{path}: is empty")
    enc, skip = _encoding(head)
    try:
        text = head[skip:].decode(enc, errors="ignore")
    except LookupError:
        raise UserError(f"{path}: declares an unknown encoding {enc!r}") from None
    lead = re.match(r"^\s*(<\?.*?\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^\[>]*(\[.*?\]\s*)?>\s*)*", text,
                    flags=re.DOTALL).end()
    body = text[lead:]
    if not body.startswith("<"):
        raise UserError(f"{path}: is not XML (starts with {body[:20]!r}); expected a MediaWiki export")
    m = re.match(r"<([A-Za-z_][\w.:-]*)([^>]*)>?", body)
    root = m.group(1) if m else "?"
    if root.split(":")[-1] != "mediawiki":
        raise UserError(f"{path}: is XML but not a MediaWiki export (root element <{root}>, expected <mediawiki>)")
    attrs = dict(re.findall(r'([\w:]+)="([^"]*)"', m.group(2) if m else ""))
    # The bytes up to the end of the root start tag: what a parser needs before a <page> taken from the
    # middle of the file (byte-range shards, restarting after a bad spot).
    plain = bom_free(enc)
    prologue = head[:skip + len(text[:lead + m.end()].encode(plain))] if m and m.group(0).endswith(">") else None
    version = attrs.get("version")
    if not version:
        ns = re.search(r"export-(\d+\.\d+)", attrs.get("xmlns", ""))
        version = ns.group(1) if ns else None
    return {"encoding": enc, "version": version, "lang": attrs.get("xml:lang"), "prologue": prologue,
            "footer": f"</{root}>".encode(plain)}


def bom_free(encoding: str) -> str:
    """The codec that encodes without a byte-order mark (Python's "utf-16" writes one)."""
    return {"utf-16": "utf-16-le", "utf16": "utf-16-le", "utf-32": "utf-32-le"}.get(encoding.lower(), encoding)
