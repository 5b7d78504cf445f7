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
    has_siteinfo: bool = True  # False: an export without <siteinfo> (canonical English names only)

    @classmethod
    def from_fields(cls, site: dict, header: dict) -> SiteInfo:
        """From the <siteinfo> fields the page reader collected (`{}` for an export without <siteinfo>:
        then the canonical English namespace names, which every MediaWiki accepts, stand in)."""
        names: dict[int, list[str]] = {}
        for key, _case, name in site.get("namespaces") or []:
            if key is not None:
                names.setdefault(key, []).append(name or "")
        if not site:
            names = {0: [""], **{key: [] for key in CANONICAL}}
        for key, canon in CANONICAL.items():
            if key in names:
                names[key] += [c for c in canon if c not in names[key]]
        dbname = site.get("dbname")
        lang = header.get("lang")
        if not lang and dbname:
            # Old exports have no xml:lang; the dbname (viwiki, yowiktionary) names the content language.
            m = re.match(r"^([a-z][a-z_-]*?)(wiki|wiktionary|wikivoyage|wikibooks|wikisource|wikiquote|wikinews)$",
                         dbname)
            if m:
                lang = {"simple": "en"}.get(m.group(1), m.group(1).replace("_", "-"))
        return cls(dbname=dbname, sitename=site.get("sitename"), base=site.get("base"), lang=lang,
                   schema_version=header.get("version"), generator=site.get("generator"),
                   encoding=header.get("encoding"), namespaces=names, has_siteinfo=bool(site))

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
