"""What a dump says about its own wiki: language, base URL, namespace names and aliases.

Everything language-specific (the names of File: and Category: in Faroese, Fandom's "Message Wall") comes
from the dump's own <siteinfo>, plus the canonical English names that every MediaWiki accepts.
"""
from __future__ import annotations

import dataclasses
import re
import urllib.parse

# Canonical names MediaWiki accepts on every wiki, whatever its language (Image: is File:'s old alias).
CANONICAL = {
    -2: ["Media"], -1: ["Special"], 1: ["Talk"], 2: ["User"], 3: ["User talk"], 4: ["Project"],
    5: ["Project talk"], 6: ["File", "Image"], 7: ["File talk", "Image talk"], 8: ["MediaWiki"],
    9: ["MediaWiki talk"], 10: ["Template"], 11: ["Template talk"], 12: ["Help"], 13: ["Help talk"],
    14: ["Category"], 15: ["Category talk"], 828: ["Module"], 829: ["Module talk"],
    # Fandom (Wikia) extensions: English names work on every language's Fandom wiki.
    110: ["Forum"], 111: ["Forum talk"], 500: ["User blog"], 501: ["User blog comment"], 502: ["Blog"],
    503: ["Blog talk"], 1200: ["Message Wall"], 1201: ["Thread"], 1202: ["Message Wall Greeting"],
    2000: ["Board"], 2001: ["Board Thread"], 2002: ["Topic"],
}
FILE_NS, CATEGORY_NS, MEDIA_NS = 6, 14, -2


def norm(name: str) -> str:
    """MediaWiki treats _ and space alike and is case-insensitive on namespace names."""
    return re.sub(r"[\s_]+", " ", name).strip().casefold()


@dataclasses.dataclass
class SiteInfo:
    dbname: str | None
    sitename: str | None
    base: str | None
    lang: str | None
    schema_version: str | None
    generator: str | None
    encoding: str | None
    namespaces: dict[int, list[str]]  # id -> names (first = the dump's own name), "" for main

    @classmethod
    def from_mwxml(cls, site, header: dict) -> "SiteInfo":
        names: dict[int, list[str]] = {}
        for ns in site.namespaces or []:
            names.setdefault(ns.id, []).append(ns.name or "")
        for key, canon in CANONICAL.items():
            if key in names:
                names[key] += [c for c in canon if c not in names[key]]
        lang = header.get("lang")
        if not lang and site.dbname:
            # Old exports have no xml:lang; the dbname (viwiki, yowiktionary) names the content language.
            m = re.match(r"^([a-z][a-z_-]*?)(wiki|wiktionary|wikivoyage|wikibooks|wikisource|wikiquote|wikinews)$",
                         site.dbname)
            if m:
                lang = {"simple": "en"}.get(m.group(1), m.group(1).replace("_", "-"))
        return cls(dbname=site.dbname, sitename=site.name, base=site.base, lang=lang,
                   schema_version=header.get("version"), generator=site.generator,
                   encoding=header.get("encoding"), namespaces=names)

    @property
    def site_key(self) -> str:
        """A short stable name for the wiki, used in doc_ids: the dbname, or the base URL's host."""
        if self.dbname:
            return self.dbname
        if self.base:
            return urllib.parse.urlsplit(self.base).netloc or "wiki"
        return "wiki"

    def lookup(self) -> dict[str, int]:
        return {norm(n): key for key, ns in self.namespaces.items() for n in ns if n}

    def namespace_of(self, title: str) -> int:
        """Namespace id from a title's prefix, for old exports without <ns>."""
        if ":" in title:
            key = self.lookup().get(norm(title.split(":", 1)[0]))
            if key is not None:
                return key
        return 0

    def resolve_namespaces(self, wanted: list[int | str]) -> set[int]:
        from wiki_qa.errors import UserError

        table = self.lookup()
        table.update({"main": 0, "(main)": 0, "article": 0, "": 0})
        out = set()
        for w in wanted:
            if isinstance(w, int) or (isinstance(w, str) and re.fullmatch(r"-?\d+", w.strip())):
                out.add(int(w))
            elif norm(w) in table:
                out.add(table[norm(w)])
            else:
                known = [f"{k}:{ns[0]}" for k, ns in sorted(self.namespaces.items()) if ns and ns[0]]
                raise UserError(f"source.namespaces: {w!r} is not a namespace of this wiki; it has: "
                                + ", ".join(known[:60]))
        return out

    def prefixes(self, *keys: int) -> frozenset[str]:
        """Normalized names (and aliases) of the given namespaces, e.g. {'file','image','mynd'}."""
        return frozenset(norm(n) for k in keys for n in self.namespaces.get(k, CANONICAL.get(k, [])) if n)

    def url(self, title: str) -> str | None:
        if not self.base:
            return None
        parts = urllib.parse.urlsplit(self.base)
        path = parts.path
        prefix = path[: path.rfind("/") + 1] if "/" in path else "/wiki/"
        quoted = urllib.parse.quote(title.replace(" ", "_"), safe="/:()'!,;*@$&+=~")
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, prefix + quoted, "", ""))
