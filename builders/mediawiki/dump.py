"""Open a MediaWiki export for reading: bytes -> sniffed header -> mwxml.Dump -> SiteInfo.

Shared by the source (builds) and `wiki-qa inspect`, so both accept and refuse exactly the same files.
"""
from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET

import mwxml

from wiki_qa.builders.mediawiki.siteinfo import SiteInfo
from wiki_qa.builders.mediawiki.sniff import sniff_header
from wiki_qa.errors import UserError
from wiki_qa.io import open_input

# What a stream that ends early raises, from the XML parser or the decompressor.
READ_ERRORS = (ET.ParseError, mwxml.errors.MalformedXML, EOFError, OSError)


@contextlib.contextmanager
def open_dump(path: str, on_bytes=None):
    """Yields (input, mwxml dump, site info); raises UserError for anything that is not a readable export."""
    with open_input(path, on_bytes=on_bytes) as inp:
        header = sniff_header(path, inp.stream)
        try:
            dump = mwxml.Dump.from_file(inp.stream)
        except READ_ERRORS as e:
            raise UserError(f"{path}: not a readable MediaWiki export: {short(e)}") from None
        yield inp, dump, SiteInfo.from_mwxml(dump.site_info, header)


def short(e: Exception) -> str:
    return re.sub(r"\s+", " ", f"{type(e).__name__}: {e}")[:200]
