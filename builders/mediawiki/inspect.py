"""`wiki-qa inspect DUMP`: what a dump holds, read in one streaming pass without cleaning anything."""
from __future__ import annotations

import collections

from wiki_qa.builders.mediawiki.clean import is_redirect
from wiki_qa.builders.mediawiki.dump import CUT_OFF, open_dump, read_error, short
from wiki_qa.builders.mediawiki.pages import BadXML


def inspect_dump(path: str, limit: int | None = None) -> dict:
    with open_dump(path) as dump:
        site, inp = dump.site, dump.input
        pages, redirects, revisions, stub = collections.Counter(), 0, 0, False
        truncated = None
        try:
            for n, page in enumerate(dump.reader):
                if limit and n >= limit:
                    break
                ns = page.namespace if page.namespace is not None else site.namespace_of(page.title)
                pages[ns] += 1
                revisions += page.revisions
                last = page.revision
                if last is not None and last.text is None and last.bytes and not last.text_deleted:
                    stub = True
                if page.redirect or (last is not None and last.text and is_redirect(last.text)):
                    redirects += 1
        except BadXML as e:
            if not e.at_end:
                raise read_error(path, e) from None
            truncated = f"{e.reason} at {e.where()}"
        except CUT_OFF as e:
            truncated = short(e)
        return {
            "path": path, "compression": inp.compression, "encoding": site.encoding,
            "schema_version": site.schema_version, "sitename": site.sitename, "dbname": site.dbname,
            "base": site.base, "lang": site.lang, "generator": site.generator,
            "siteinfo": site.has_siteinfo,
            "namespaces": {k: v[0] if v[0] else "(main)" for k, v in sorted(site.namespaces.items()) if v},
            "pages": sum(pages.values()), "pages_by_namespace": {str(k): v for k, v in sorted(pages.items())},
            "redirects": redirects, "revisions": revisions, "history": revisions > sum(pages.values()),
            "stub": stub, "truncated": truncated,
        }


def render(info: dict) -> str:
    ns = info["namespaces"]
    lines = [
        f"{info['path']}",
        f"  site        {info['sitename']} ({info['dbname']}), lang {info['lang']}, {info['base']}"
        + ("" if info.get("siteinfo", True) else "  [no <siteinfo>: canonical English namespace names]"),
        f"  format      export-{info['schema_version']}, {info['encoding']}, "
        f"compression {info['compression'] or 'none'}",
        f"  generator   {info['generator']}",
        f"  pages       {info['pages']} ({info['redirects']} redirects), revisions {info['revisions']}"
        + (" [full history]" if info["history"] else "") + (" [STUB: no revision text]" if info["stub"] else ""),
        "  by namespace " + ", ".join(f"{ns.get(int(k), k)}={v}" for k, v in info["pages_by_namespace"].items()),
        "  namespaces  " + ", ".join(f"{k}:{v}" for k, v in ns.items()),
    ]
    if info["truncated"]:
        lines.append(f"  TRUNCATED   {info['truncated']}")
    return "\n".join(lines)
