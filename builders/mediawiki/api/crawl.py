"""`source.api`: a MediaWiki site read through api.php into a local export file (a *snapshot*) in the
wiki_qa cache, which the build then reads like any dump.

    siteinfo (general, namespaces, statistics)         -> the snapshot's <siteinfo>; namespace names
    list=allpages per wanted namespace, continued      -> page ids, up to 500 a request
    prop=revisions|info, 50 page ids a request          -> the current revision of each page, as <page>

Pages are appended to `crawl.xml.part` as their batch arrives, with a checkpoint after every batch
(`crawl.json`: the ids of the listing still to fetch, the listing's `continue`, and how many bytes of
the .part and of its page index are good). An interrupted crawl (Ctrl-C, a dead network, a crash) is
resumed from there by the next build or `wiki-qa fetch --api`: the .part is cut back to the checkpoint and
no page is asked for twice. At the end the pages are written out in ascending page id (as dumps are:
shards can then prove their doc_ids unique), hashed, and renamed to `snapshot-<sha1>.xml`. The page count
is compared with siteinfo's statistics and any gap is reported.

A finished snapshot is reused for RECHECK_S, so a second build the same day asks the site nothing;
`wiki-qa fetch --api URL` crawls afresh.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import time
import urllib.parse
from pathlib import Path

from wiki_qa import paths
from wiki_qa.builders.mediawiki.api import export
from wiki_qa.builders.mediawiki.api.client import Api, ApiError
from wiki_qa.builders.mediawiki.fetch import http
from wiki_qa.builders.mediawiki.fetch.dumps import RECHECK_S, offline
from wiki_qa.builders.mediawiki.siteinfo import SiteInfo
from wiki_qa.errors import UserError
from wiki_qa.progress import input_bar

log = logging.getLogger("wiki_qa")
BATCH = 50  # titles per prop=revisions request: the API's limit for clients without apihighlimits


@dataclasses.dataclass
class Snapshot:
    url: str
    files: list[Path]
    meta: dict  # sha1, size, pages, crawled_at, namespaces, statistics, requests
    warnings: list[str] = dataclasses.field(default_factory=list)
    network: bool = False

    def identity(self) -> list[dict]:
        return [{"api": self.url, "file": self.files[0].name, "sha1": self.meta["sha1"], "size": self.meta["size"],
                 "namespaces": self.meta["namespaces"]}]

    def summary(self) -> list[str]:
        m = self.meta
        how = f"crawled with {m['requests']} requests" if self.network else "already in the cache"
        return [f"{self.url}: {self.files[0]} ({m['pages']} pages of namespaces {m['namespaces']}, "
                f"{m['size'] / 1e6:.1f} MB; {how})"]


def folder(url: str, namespaces: list[int | str]) -> Path:
    parts = urllib.parse.urlsplit(url)
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", parts.netloc + parts.path).strip("_")[:80]
    key = hashlib.sha1(json.dumps([url, sorted(map(str, namespaces))]).encode()).hexdigest()[:12]
    return Path(paths.cache_dir("api", f"{slug}-{key}"))


def snapshot(url: str, namespaces: list[int | str], contact: str | None = None, *, recrawl: bool = False) -> Snapshot:
    where = folder(url, namespaces)
    done = _read_json(where / "snapshot.json")
    if done and (where / done["file"]).is_file() and (where / done["file"]).stat().st_size == done["size"]:
        fresh = time.time() - done["crawled_at"] < RECHECK_S
        if offline() or (fresh and not recrawl):
            return Snapshot(url, [where / done["file"]], done, done.get("warnings", []))
    if offline():
        raise UserError(f"source.api: {url} has no snapshot in the wiki_qa cache ({where}) and network use is "
                        "off (WIKI_QA_OFFLINE/HF_DATASETS_OFFLINE)")
    return http.run(Crawl(url, namespaces, contact, where).run())


class Crawl:
    def __init__(self, url: str, namespaces: list[int | str], contact: str | None, where: Path):
        self.url, self.namespaces, self.contact, self.where = url, namespaces, contact, where
        self.part, self.index, self.state_file = where / "crawl.xml.part", where / "crawl.idx", where / "crawl.json"

    async def run(self) -> Snapshot:
        self.where.mkdir(parents=True, exist_ok=True)
        async with http.session(self.contact, per_host=1, cookies=True) as s:
            api = Api(self.url, s)
            try:
                await api.login()
                info = (await api.query(meta="siteinfo", siprop="general|namespaces|statistics"))["query"]
                general = info["general"]
                namespaces = list(info["namespaces"].values()) if isinstance(info["namespaces"], dict) \
                    else info["namespaces"]
                wanted = self._wanted(general, namespaces)
                state = self._resume(wanted, general, namespaces)
                await self._pages(api, state)
            except ApiError as e:
                if e.code in ("readapidenied", "mwoauth-invalid-authorization", "permissiondenied"):
                    raise UserError(f"source.api: {self.url} refuses to be read ({e}); for a private wiki set "
                                    "WIKI_QA_BOT_USER/WIKI_QA_BOT_PASSWORD or WIKI_QA_SESSION_COOKIE") from None
                raise UserError(f"source.api: {self.url}: {e}") from None
            except http.Unavailable as e:
                raise UserError(f"source.api: {self.url} stopped answering ({e.why}); the crawl is saved and "
                                "resumes where it stopped on the next build") from None
            meta = self._finish(state, info.get("statistics") or {}, namespaces, api.requests)
        return Snapshot(self.url, [self.where / meta["file"]], meta, meta["warnings"], network=True)

    def _wanted(self, general: dict, namespaces: list[dict]) -> list[int]:
        fields = {"namespaces": [[n["id"], n.get("case"), n.get("name", n.get("*", ""))] for n in namespaces],
                  "dbname": general.get("wikiid")}
        try:
            return sorted(SiteInfo.from_fields(fields, {}).resolve_namespaces(self.namespaces))
        except UserError as e:
            raise UserError(f"{self.url}: {e}") from None

    # --- checkpoint ---------------------------------------------------------------------------------
    def _resume(self, wanted: list[int], general: dict, namespaces: list[dict]) -> dict:
        state = _read_json(self.state_file)
        if state and state.get("wanted") == wanted and self.part.exists() and self.index.exists() \
                and self.part.stat().st_size >= state["xml_bytes"] and self.index.stat().st_size >= state["idx_bytes"]:
            for f, size in ((self.part, state["xml_bytes"]), (self.index, state["idx_bytes"])):
                with open(f, "r+b") as fh:
                    fh.truncate(size)  # whatever came after the last checkpoint is fetched again
            log.warning("%s: resuming an interrupted crawl (%d pages already read)", self.url, state["pages"])
            state["resumed"] = True
            return state
        self.part.write_bytes(b"")
        self.index.write_bytes(b"")
        state = {"wanted": wanted, "todo": list(wanted), "continue": None, "ids": [], "xml_bytes": 0,
                 "idx_bytes": 0, "pages": 0, "redirects": 0, "content": 0, "started_at": time.time(),
                 "head": export.head(general, namespaces).decode("utf-8")}
        self._save(state)
        return state

    def _save(self, state: dict) -> None:
        tmp = self.state_file.with_name(".crawl.json.tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.state_file)

    # --- the crawl ----------------------------------------------------------------------------------
    async def _pages(self, api: Api, state: dict) -> None:
        bar = input_bar(f"{urllib.parse.urlsplit(self.url).netloc} pages", None)
        bar.update(state["pages"])
        with open(self.part, "ab") as xml, open(self.index, "ab") as idx:
            while state["ids"] or state["todo"]:
                if not state["ids"]:  # the next chunk of the listing
                    ns = state["todo"][0]
                    # continue="" asks MediaWiki 1.21-1.25 for the continuation every later version uses
                    got = await api.query(list="allpages", apnamespace=ns, aplimit="max",
                                          **(state["continue"] or {"continue": ""}))
                    state["ids"] = [p["pageid"] for p in got["query"]["allpages"]]
                    state["continue"] = got.get("continue")
                    if not state["continue"]:
                        state["todo"].pop(0)
                    self._save(state)
                    continue
                batch = state["ids"][:BATCH]
                pages = await _revisions(api, batch)
                for pid in batch:  # pages deleted since the listing are simply not there
                    if pid in pages:
                        data = export.page(pages[pid])
                        idx.write(f"{pid} {state['xml_bytes']} {len(data)}\n".encode())
                        xml.write(data)
                        state["xml_bytes"] += len(data)
                        state["pages"] += 1
                        state["redirects"] += export.flag(pages[pid], "redirect")
                        bar.update(1)
                xml.flush()
                idx.flush()
                state["idx_bytes"] = idx.tell()
                state["ids"] = state["ids"][BATCH:]
                self._save(state)
        bar.close()

    def _finish(self, state: dict, statistics: dict, namespaces: list[dict], requests: int) -> dict:
        """Pages in ascending id into the final file (hashed on the way), renamed into place."""
        entries = sorted((int(a), int(b), int(c)) for a, b, c in
                         (line.split() for line in self.index.read_text().splitlines() if line.strip()))
        tmp = self.where / ".snapshot.xml.tmp"
        h, size = hashlib.sha1(), 0
        with open(self.part, "rb") as src, open(tmp, "wb") as out:
            for block in (state["head"].encode("utf-8"), *_pages_in_order(src, entries), export.FOOT):
                out.write(block)
                h.update(block)
                size += len(block)
            out.flush()
            os.fsync(out.fileno())  # on disk before its name says complete
        name = f"snapshot-{h.hexdigest()[:16]}.xml"
        os.replace(tmp, self.where / name)
        for old in self.where.glob("snapshot-*.xml"):
            if old.name != name:
                old.unlink()
        warnings = self._count_check(state, statistics, namespaces)
        meta = {"file": name, "sha1": h.hexdigest(), "size": size, "pages": len(entries), "crawled_at": time.time(),
                "namespaces": state["wanted"], "statistics": statistics, "requests": requests,
                "resumed": bool(state.get("resumed")), "warnings": warnings}
        (self.where / "snapshot.json").write_text(json.dumps(meta, indent=1))
        for f in (self.part, self.index, self.state_file):
            f.unlink(missing_ok=True)
        return meta

    def _count_check(self, state: dict, statistics: dict, namespaces: list[dict]) -> list[str]:
        """siteinfo counts every page of the wiki (`pages`) and its content pages (`articles`)."""
        read, out = state["pages"], []
        every = sorted(n["id"] for n in namespaces if n["id"] >= 0)
        total = statistics.get("pages")
        if total is not None and state["wanted"] == every and read != total:
            out.append(f"{self.url}: read {read} pages of all namespaces; siteinfo counts {total} "
                       f"(a gap of {total - read:+d}: pages created or deleted during the crawl, or hidden)")
        articles = statistics.get("articles")
        content = {n["id"] for n in namespaces if n.get("content")}
        if articles is not None and content and content <= set(state["wanted"]):
            non_redirects = read - state["redirects"]
            if non_redirects < articles:
                out.append(f"{self.url}: read {non_redirects} non-redirect pages of the content namespaces; "
                           f"siteinfo counts {articles} articles (a gap of {articles - non_redirects})")
        for w in out:
            log.warning("%s", w)
        return out


async def _revisions(api: Api, ids: list[int]) -> dict[int, dict]:
    """The pages of `ids` with their current revision. An answer over the site's result size limit holds
    the content of some pages only and a `continue` for the rest: followed until the batch is complete."""
    pages: dict[int, dict] = {}
    cont: dict = {}
    while True:
        got = await api.query(prop="revisions|info", pageids=ids, rvprop="ids|timestamp|content|size",
                              rvslots="main", **(cont or {"continue": ""}))
        for p in got["query"].get("pages", []):
            if not export.flag(p, "missing") and ("revisions" in p or p["pageid"] not in pages):
                pages[p["pageid"]] = p
        cont = {k: v for k, v in (got.get("continue") or {}).items()}
        if not cont:
            return pages


def _pages_in_order(src, entries):
    for _pid, offset, length in entries:
        src.seek(offset)
        yield src.read(length)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
