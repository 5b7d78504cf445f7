"""`source.wiki`: from a name to verified local files, with as little network as the config allows.

Cache layout (under wiki_qa's cache, $WIKI_QA_CACHE or ~/.cache/wiki_qa):

    dumps/yowiki/latest.json                        which run `dump: latest` meant, and when that was asked
    dumps/yowiki/20261101/run.json                  the run's wanted files: size, sha1, md5, url
    dumps/yowiki/20261101/<sha1>/yowiki-20261101-pages-articles-multistream.xml.bz2   (+ its index beside it)

A file is keyed by wiki, date, name and checksum (the folder is the dump's checksum, so a re-run that
replaced the file under the same date is a new folder, and its index sits beside it where shards.py
looks). What lies there under its final name was verified before it was renamed.

Network use:
- `dump: 20261101` with the files cached: none at all.
- `dump: latest`: the answer is remembered for RECHECK_S (Wikimedia publishes about twice a month), so
  a second build the same day asks nothing; `wiki-qa fetch` asks again. When the mirrors cannot be
  reached, the newest cached run is used, with a warning.
- offline (WIKI_QA_OFFLINE=1, or HF_DATASETS_OFFLINE/HF_HUB_OFFLINE): cached runs only.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import time
from pathlib import Path

from wiki_qa import paths
from wiki_qa.builders.mediawiki.fetch import http, names, runs
from wiki_qa.builders.mediawiki.fetch.download import ChecksumMismatch, Expected, download
from wiki_qa.errors import UserError
from wiki_qa.progress import input_bar

log = logging.getLogger("wiki_qa")
RECHECK_S = 24 * 3600
OFFLINE_ENV = ("WIKI_QA_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE")


@dataclasses.dataclass
class Fetched:
    db: str
    date: str
    files: list[Path]  # the dump, then its index
    checksums: dict[str, dict]  # name -> {size, sha1, md5}
    warnings: list[str] = dataclasses.field(default_factory=list)
    downloads: list = dataclasses.field(default_factory=list)  # download.Result of files fetched now
    network: bool = False  # whether anything was asked of a mirror

    @property
    def dump(self) -> Path:
        return self.files[0]

    def summary(self) -> list[str]:
        """What `wiki-qa fetch` prints: each file, and how it got there."""
        got = {r.path.name: r for r in self.downloads if r is not None}
        out = []
        for p in self.files:
            meta, r = self.checksums[p.name], got.get(p.name)
            algo = "sha1" if meta.get("sha1") else "md5"
            how = "already in the cache"
            if r:
                how = (f"downloaded {_size(r.received)} in {r.seconds:.1f}s "
                       f"({r.received / 1e6 / max(r.seconds, 1e-9):.1f} MB/s) from {r.mirror}")
            out.append(f"{self.db} {self.date}: {p} ({_size(meta['size'])}, {algo} verified; {how})")
        return out

    def identity(self) -> list[dict]:
        """The build's cache key of this input: the checksum, so a new dump means a new build."""
        return [{"wiki": self.db, "dump": self.date, "file": p.name, **self.checksums[p.name]} for p in self.files]


def offline() -> bool:
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes") for v in OFFLINE_ENV)


def root(db: str) -> Path:
    return Path(paths.cache_dir("dumps", db))


def fetch_dump(wiki: str, dump: str = "latest", mirrors: list[str] | None = None, contact: str | None = None,
               *, recheck: bool = False) -> Fetched:
    """Local, verified files of `wiki`'s run (`dump` = latest or YYYYMMDD), downloading what is missing.
    `recheck`: ask the mirror which run is newest even if that was asked recently (`wiki-qa fetch`)."""
    from wiki_qa.builders.mediawiki.config import DEFAULT_MIRRORS

    db = names.db_name(wiki)
    mirrors = [m.rstrip("/") for m in (mirrors or DEFAULT_MIRRORS)]
    run = _known_run(db, dump, recheck)
    if run is not None and _complete(run):
        return _fetched(run, warnings=run.skipped)
    if offline():
        raise UserError(f"source.wiki: {db} ({dump}) is not in the wiki_qa cache ({root(db)}) and downloads are "
                        f"off ({'/'.join(OFFLINE_ENV)}); run `wiki-qa fetch {wiki}` where the network is")
    return http.run(_fetch(wiki, db, dump, mirrors, contact, run))


# --- what the cache knows -----------------------------------------------------------------------------
def _known_run(db: str, dump: str, recheck: bool) -> runs.Run | None:
    pin = None
    if dump == "latest":
        pin = _read_json(root(db) / "latest.json")
        if not pin or (recheck and not offline()):
            return _newest_cached(db) if offline() else None
        if time.time() - pin.get("asked_at", 0) > RECHECK_S and not offline():
            return None
        dump = pin["date"]
    saved = _read_json(root(db) / dump / "run.json")
    return runs.Run(db, dump, saved["files"], skipped=pin.get("skipped", []) if pin else []) if saved else None


def _newest_cached(db: str) -> runs.Run | None:
    for folder in sorted(root(db).glob("[0-9]" * 8), reverse=True):
        saved = _read_json(folder / "run.json")
        if saved and _complete(run := runs.Run(db, folder.name, saved["files"])):
            return run
    return None


def folder(run: runs.Run) -> Path:
    main = run.files[runs.wanted_files(run.db, run.date)[0]]
    return root(run.db) / run.date / (main.get("sha1") or main.get("md5"))


def _complete(run: runs.Run) -> bool:
    where = folder(run)
    return all((where / name).is_file() and (where / name).stat().st_size == meta["size"]
               for name, meta in run.files.items())


def _fetched(run: runs.Run, **kw) -> Fetched:
    where = folder(run)
    names_ = [n for n in runs.wanted_files(run.db, run.date) if n in run.files]
    sums = {n: {k: run.files[n].get(k) for k in ("size", "sha1", "md5")} for n in names_}
    return Fetched(run.db, run.date, [where / n for n in names_], sums, **kw)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


# --- the network ----------------------------------------------------------------------------------------
async def _fetch(wiki: str, db: str, dump: str, mirrors: list[str], contact, run: runs.Run | None) -> Fetched:
    async with http.session(contact) as s:
        warnings: list[str] = []
        if run is None:
            try:
                run = await _resolve(s, wiki, db, dump, mirrors)
            except _AllDown as e:
                cached = _newest_cached(db) if dump == "latest" else None
                if cached is None:
                    raise UserError(f"source.mirrors: every mirror failed for {db}: {e}") from None
                warnings.append(f"{db}: no mirror answered ({e}); using the cached run {cached.date}")
                return _fetched(cached, warnings=warnings, network=True)
            warnings += run.skipped
            _write_json(root(db) / run.date / "run.json", run.to_json())
            if dump == "latest":
                _write_json(root(db) / "latest.json", {"date": run.date, "asked_at": time.time(),
                                                       "skipped": run.skipped})
            mirrors = [run.mirror] + [m for m in mirrors if m != run.mirror]  # the one that answered first
        if _complete(run):
            return _fetched(run, warnings=warnings, network=True)
        results = await asyncio.gather(*(_download_one(s, run, name, mirrors) for name in run.files))
        return _fetched(run, warnings=warnings, downloads=list(results), network=True)


class _AllDown(Exception):
    pass


async def _resolve(s, wiki: str, db: str, dump: str, mirrors: list[str]) -> runs.Run:
    """The run to take, from the first mirror that has the wiki's folder."""
    down, missing = [], []
    for mirror in mirrors:
        try:
            listing = await http.get_bytes(s, f"{mirror}/{db}/")
        except http.NotFound:
            missing.append(mirror)
            continue
        except http.Unavailable as e:
            down.append(f"{mirror} ({e.why})")
            continue
        try:
            run = await _choose(s, db, dump, mirror, runs.dates(listing))
            run.mirror = mirror
            return run
        except http.Unavailable as e:
            down.append(f"{mirror} ({e.why})")
    if missing:
        raise runs.unknown_wiki(wiki, db, missing[0], await _wikis_on(s, missing[0]))
    raise _AllDown("; ".join(down))


async def _choose(s, db: str, dump: str, mirror: str, dates: list[str]) -> runs.Run:
    if dump != "latest":
        if dump not in dates:
            raise runs.no_such_date(db, dump, mirror, dates)
        candidates = [dump]
    else:
        candidates = list(reversed(dates))
    why: list[str] = []
    for date in candidates:
        try:
            raw = await http.get_bytes(s, f"{mirror}/{db}/{date}/dumpstatus.json")
        except http.NotFound:
            why.append(f"{date}: no dumpstatus.json yet")
            continue
        run, reason = runs.finished(db, date, runs.parse_status(raw, f"{mirror}/{db}/{date}/dumpstatus.json"))
        if run is not None:
            if why:
                run.skipped.append(f"{db}: newer runs are not finished ({'; '.join(why)}); took {date}")
            return run
        why.append(f"{date}: {reason}")
        if dump != "latest":
            done = [d for d in dates if d != dump]
            raise UserError(f"source.dump: {db} run {dump} on {mirror} is not usable: {reason}; other runs: "
                            f"{', '.join(reversed(done[-12:])) or 'none'}")
    raise runs.no_dump(db, mirror, why)


async def _wikis_on(s, mirror: str) -> list[str]:
    """The wikis a mirror has dumps of, for "did you mean" (backup-index.html, else the root listing)."""
    for page in ("backup-index.html", ""):
        try:
            found = runs.wikis(await http.get_bytes(s, f"{mirror}/{page}"))
        except (http.NotFound, http.Unavailable):
            continue
        if found:
            return found
    return []


async def _download_one(s, run: runs.Run, name: str, mirrors: list[str]):
    meta = run.files[name]
    dest = folder(run) / name
    if dest.is_file() and dest.stat().st_size == meta["size"]:
        return None
    want = Expected(int(meta["size"]), meta.get("sha1"), meta.get("md5"))
    path = str(meta.get("url") or "")
    if not path.startswith("/"):  # "@host/x" after the base would change the host: only paths are taken
        path = f"/{run.db}/{run.date}/{name}"
    sources = [(m, m + path) for m in mirrors]
    bar = input_bar(f"{name} from {_host(mirrors[0])}", want.size)  # tqdm: MB/s and ETA
    shown = [mirrors[0]]

    def on_bytes(n: int, mirror: str) -> None:
        if mirror != shown[0]:  # which mirror the bytes come from now
            shown[0] = mirror
            bar.set_description_str(f"{name} from {_host(mirror)}")
        bar.update(n)

    try:
        result = await download(s, sources, dest, want, on_bytes)
    except ChecksumMismatch as e:
        raise UserError(f"source.wiki: {run.db} {run.date}: checksum still wrong after a fresh download: {e}; "
                        "the mirror may hold a damaged copy: try another with source.mirrors") from None
    except http.Unavailable as e:
        raise UserError(f"source.mirrors: every mirror failed for {name}: {e.why}") from None
    finally:
        bar.close()
    log.info("%s: %.1f MB in %.1fs (%.1f MB/s) from %s", name, result.received / 1e6, result.seconds,
             result.received / 1e6 / max(result.seconds, 1e-9), result.mirror)
    return result


def _size(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]
