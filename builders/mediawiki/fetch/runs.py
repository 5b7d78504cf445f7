"""Which run of a wiki's dumps to take, from what every mirror serves: the wiki's folder listing (one
folder per dated run, YYYYMMDD/) and each run's `dumpstatus.json` (per job: status, files with size, sha1,
md5). `latest/` is not used: it holds no checksums, and it can point into a run that is still going.

A run is taken when the job that writes the wanted files says `done`. Small wikis get the multistream
dump straight from `articlesmultistreamdump`; big ones from `articlesmultistreamdumprecombine`, which
joins the numbered parts and finishes later (its files exist only then), so the files are looked up in
the job that lists them under their exact names.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import re

from wiki_qa.builders.mediawiki.fetch import names
from wiki_qa.errors import UserError

JOBS = ("articlesmultistreamdumprecombine", "articlesmultistreamdump")
_RUN = re.compile(r'href="(?:\./)?(\d{8})/?"')
# backup-index.html: <a href="yowiki/20261101">yowiki</a>; a mirror's root listing: <a href="yowiki/">
_WIKI = re.compile(r'href="(?:\./)?([a-z][a-z0-9_]*wik[a-z]*)(?:/\d{8})?/?"')


def wanted_files(db: str, date: str) -> list[str]:
    """The pages-articles multistream dump and its index (so byte-range shards can start at any stream)."""
    return [f"{db}-{date}-pages-articles-multistream.xml.bz2", f"{db}-{date}-pages-articles-multistream-index.txt.bz2"]


@dataclasses.dataclass
class Run:
    db: str
    date: str
    files: dict[str, dict]  # name -> {size, sha1, md5, url} from dumpstatus.json
    skipped: list[str] = dataclasses.field(default_factory=list)  # newer runs passed over, and why
    mirror: str | None = None  # the mirror that answered

    def to_json(self) -> dict:
        return {"db": self.db, "date": self.date, "files": self.files}


def dates(listing: bytes) -> list[str]:
    """Run dates in a wiki folder's HTML listing, oldest first."""
    return sorted(set(_RUN.findall(listing.decode("utf-8", "replace"))))


def wikis(listing: bytes) -> list[str]:
    return sorted(set(_WIKI.findall(listing.decode("utf-8", "replace"))))


def job_files(status: dict, db: str, date: str) -> tuple[str | None, str | None, dict]:
    """(job name, its status, {file: metadata}) of the job listing the wanted files; (None, None, {}) if none."""
    want = wanted_files(db, date)
    for job in JOBS:
        info = (status.get("jobs") or {}).get(job) or {}
        files = info.get("files") or {}
        if want[0] in files:
            return job, info.get("status"), {name: files[name] for name in want if name in files}
    return None, None, {}


def parse_status(raw: bytes, where: str) -> dict:
    try:
        status = json.loads(raw)
    except ValueError:
        raise UserError(f"{where}: is not JSON (is this a Wikimedia dumps mirror?)") from None
    if not isinstance(status, dict) or not isinstance(status.get("jobs"), dict):
        raise UserError(f"{where}: has no 'jobs' (is this a Wikimedia dumps mirror?)")
    return status


def finished(db: str, date: str, status: dict) -> tuple[Run | None, str]:
    """The run if its wanted files are done and checksummed, else (None, why not)."""
    job, state, files = job_files(status, db, date)
    if job is None:
        return None, "has no pages-articles multistream dump"
    if state != "done":
        return None, f"{job} is {state or 'not started'}"
    main = wanted_files(db, date)[0]
    meta = files[main]
    if not (meta.get("sha1") or meta.get("md5")) or not meta.get("size"):
        return None, f"{main} has no checksum or size in dumpstatus.json"
    return Run(db, date, files), ""


def no_such_date(db: str, date: str, mirror: str, known: list[str]) -> UserError:
    listed = ", ".join(reversed(known[-12:])) or "none"
    return UserError(f"source.dump: {db} has no run {date} on {mirror} (old runs are deleted after a few "
                     f"months); runs there now: {listed}; or use dump: latest")


def unknown_wiki(name: str, db: str, mirror: str, known: list[str]) -> UserError:
    close = difflib.get_close_matches(db, known, n=3, cutoff=0.75)
    api = names.api_url(db)
    hint = f" If {db} exists but has no dump, read it through its API: source.api: {api}" if api else ""
    if close:
        return UserError(f"source.wiki: {name!r} ({db}) is not a wiki on {mirror}; did you mean "
                         f"{', '.join(close)}?{hint}")
    return UserError(f"source.wiki: {name!r}: {mirror} has no dumps of {db}.{hint or ' Check the name.'}")


def no_dump(db: str, mirror: str, why: list[str]) -> UserError:
    api = names.api_url(db)
    runs = "; ".join(why[:4]) or "no dated runs"
    return UserError(f"source.wiki: {db} has no finished dump on {mirror} ({runs})"
                     + (f"; read it through its API instead: source.api: {api}" if api else ""))
