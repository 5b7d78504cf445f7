"""`wiki-qa inspect DUMP`: what a dump holds, read in one streaming pass without cleaning anything."""
from __future__ import annotations

import collections
import xml.etree.ElementTree as ET

import mwxml

from wiki_qa.builders.mediawiki.siteinfo import SiteInfo
from wiki_qa.builders.mediawiki.sniff import sniff_header
from wiki_qa.errors import UserError
from wiki_qa.io import open_input
from wiki_qa.pipeline.clean.wikitext import is_redirect


def inspect_dump(path: str, limit: int | None = None) -> dict:
    with open_input(path) as inp:
        header = sniff_header(path, inp.stream)
        try:
            dump = mwxml.Dump.from_file(inp.stream)
        except (ET.ParseError, mwxml.errors.MalformedXML, EOFError, OSError) as e:
            raise UserError(f"{path}: not a readable MediaWiki export: {type(e).__name__}: {e}") from None
        site = SiteInfo.from_mwxml(dump.site_info, header)
        pages, redirects, revisions, stub = collections.Counter(), 0, 0, False
        truncated = None
        try:
            for n, page in enumerate(dump):
                if limit and n >= limit:
                    break
                ns = page.namespace if page.namespace is not None else site.namespace_of(page.title or "")
                pages[ns] += 1
                last = None
                for rev in page:
                    revisions += 1
                    last = rev
                if last is not None and last.text is None and last.bytes:
                    stub = True
                if page.redirect or (last is not None and last.text and is_redirect(last.text)):
                    redirects += 1
        except (ET.ParseError, mwxml.errors.MalformedXML, EOFError, OSError) as e:
            truncated = f"{type(e).__name__}: {e}"
        return {
            "path": path, "compression": inp.compression, "encoding": header["encoding"],
            "schema_version": site.schema_version, "sitename": site.sitename, "dbname": site.dbname,
            "base": site.base, "lang": site.lang, "generator": site.generator,
            "namespaces": {k: v[0] if v[0] else "(main)" for k, v in sorted(site.namespaces.items())},
            "pages": sum(pages.values()), "pages_by_namespace": {str(k): v for k, v in sorted(pages.items())},
            "redirects": redirects, "revisions": revisions, "history": revisions > sum(pages.values()),
            "stub": stub, "truncated": truncated,
        }


def render(info: dict) -> str:
    ns = info["namespaces"]
    lines = [
        f"{info['path']}",
        f"  site        {info['sitename']} ({info['dbname']}), lang {info['lang']}, {info['base']}",
        f"  format      export-{info['schema_version']}, {info['encoding']}, compression {info['compression'] or 'none'}",
        f"  generator   {info['generator']}",
        f"  pages       {info['pages']} ({info['redirects']} redirects), revisions {info['revisions']}"
        + (" [full history]" if info["history"] else "") + (" [STUB: no revision text]" if info["stub"] else ""),
        "  by namespace " + ", ".join(f"{ns.get(int(k), k)}={v}" for k, v in info["pages_by_namespace"].items()),
        f"  namespaces  " + ", ".join(f"{k}:{v}" for k, v in ns.items()),
    ]
    if info["truncated"]:
        lines.append(f"  TRUNCATED   {info['truncated']}")
    return "\n".join(lines)
