"""API answers -> MediaWiki export XML (schema 0.11, what Special:Export and the dumps write).

A crawl is written as an export file so that it is read by the very reader that reads dumps (pages.py,
source.py): the same siteinfo handling, namespace names, redirects, doc_ids, titles, text, URLs and meta,
so the same pages give the same rows whichever way they came. It also makes a crawl a file like any
other: `wiki-qa inspect` reads it, and byte-range shards cut it for parallel workers.
"""
from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

NS = "http://www.mediawiki.org/xml/export-0.11/"
_REDIRECT_TARGET = re.compile(r"\[\[([^\]|#]*)")
_ESCAPES = {"\r": "&#13;"}  # a literal CR would be read back as a newline (XML end-of-line handling)


def head(general: dict, namespaces: list[dict]) -> bytes:
    lang = general.get("lang") or "en"
    out = [f'<mediawiki xmlns="{NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           f'xsi:schemaLocation="{NS} http://www.mediawiki.org/xml/export-0.11.xsd" version="0.11" '
           f"xml:lang={quoteattr(lang)}>",
           "  <siteinfo>"]
    for tag, key in (("sitename", "sitename"), ("dbname", "wikiid"), ("base", "base"), ("generator", "generator"),
                     ("case", "case")):
        if general.get(key):
            out.append(f"    <{tag}>{escape(str(general[key]))}</{tag}>")
    out.append("    <namespaces>")
    for ns in sorted(namespaces, key=lambda n: n["id"]):
        case = quoteattr(ns.get("case", "first-letter"))
        name = ns.get("name", ns.get("*", ""))
        out.append(f'      <namespace key="{ns["id"]}" case={case}>{escape(name)}</namespace>' if name
                   else f'      <namespace key="{ns["id"]}" case={case} />')
    out += ["    </namespaces>", "  </siteinfo>", ""]
    return "\n".join(out).encode("utf-8")


FOOT = b"</mediawiki>\n"


def flag(d: dict, key: str) -> bool:
    """A boolean of the API: `true` with formatversion=2, a present "" on wikis older than MediaWiki 1.25."""
    return key in d and d[key] is not False


def page(p: dict) -> bytes:
    """One <page> from a prop=revisions|info answer's page (formatversion=2, with or without slots)."""
    out = ["  <page>", f"    <title>{escape(p['title'])}</title>", f"    <ns>{p['ns']}</ns>",
           f"    <id>{p['pageid']}</id>"]
    revs = p.get("revisions") or []
    rev = revs[-1] if revs else None
    text, hidden, model, fmt = None, False, p.get("contentmodel"), None
    if rev is not None:
        slot = (rev.get("slots") or {}).get("main", rev)  # MediaWiki < 1.32 has no slots
        text = slot.get("content", slot.get("*"))
        hidden = flag(slot, "texthidden") or flag(rev, "texthidden")
        model, fmt = slot.get("contentmodel", model), slot.get("contentformat")
    if flag(p, "redirect"):
        m = _REDIRECT_TARGET.search(text or "")
        target = (m.group(1).strip() if m else "") or p["title"]
        out.append(f"    <redirect title={quoteattr(target)} />")
    if rev is not None:
        out += ["    <revision>", f"      <id>{rev['revid']}</id>"]
        if rev.get("parentid"):
            out.append(f"      <parentid>{rev['parentid']}</parentid>")
        out.append(f"      <timestamp>{escape(rev['timestamp'])}</timestamp>")
        if model:
            out.append(f"      <model>{escape(model)}</model>")
        if fmt:
            out.append(f"      <format>{escape(fmt)}</format>")
        size = rev.get("size", len((text or "").encode("utf-8")))
        if hidden:
            out.append(f'      <text bytes="{size}" deleted="deleted" />')
        elif text:
            out.append(f'      <text bytes="{size}" xml:space="preserve">{escape(text, _ESCAPES)}</text>')
        else:
            out.append(f'      <text bytes="{size}" />')
        out.append("    </revision>")
    out += ["  </page>", ""]
    return "\n".join(out).encode("utf-8")
