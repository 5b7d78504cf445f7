"""A Wikimedia wiki's name as people write it -> the database name its dumps are filed under, and back.

    yo, yowiki, yo.wikipedia.org, https://yo.m.wikipedia.org/wiki/X  -> yowiki
    be-x-old, be-tarask.wikipedia.org                               -> be_x_oldwiki
    en.wikivoyage.org, enwikivoyage                                  -> enwikivoyage
    commons, commons.wikimedia.org / wikidata, www.wikidata.org      -> commonswiki / wikidatawiki

Pure rules, no list: whether such a wiki exists (and has a dump) is for the mirror to say (runs.py).
"""
from __future__ import annotations

import re
import urllib.parse

from wiki_qa.errors import UserError

# Host's second-level domain -> db name suffix (yo.wiktionary.org -> yowiktionary).
PROJECTS = {"wikipedia": "wiki", "wiktionary": "wiktionary", "wikibooks": "wikibooks", "wikinews": "wikinews",
            "wikiquote": "wikiquote", "wikisource": "wikisource", "wikiversity": "wikiversity",
            "wikivoyage": "wikivoyage"}
_SUFFIXES = sorted({*PROJECTS.values(), "wikimedia"}, key=len, reverse=True)
# Wikis whose db name does not follow {language}{project}: by host, and by the short name people use.
SPECIAL_HOSTS = {
    "commons.wikimedia.org": "commonswiki", "meta.wikimedia.org": "metawiki", "species.wikimedia.org": "specieswiki",
    "incubator.wikimedia.org": "incubatorwiki", "outreach.wikimedia.org": "outreachwiki",
    "foundation.wikimedia.org": "foundationwiki", "wikimania.wikimedia.org": "wikimaniawiki",
    "www.wikidata.org": "wikidatawiki", "wikidata.org": "wikidatawiki", "www.mediawiki.org": "mediawikiwiki",
    "mediawiki.org": "mediawikiwiki", "wikisource.org": "sourceswiki", "www.wikifunctions.org": "wikifunctionswiki",
    "wikifunctions.org": "wikifunctionswiki", "test.wikipedia.org": "testwiki",
}
SPECIAL_NAMES = {host.split(".")[0] if not host.startswith("www.") else host.split(".")[1]: db
                 for host, db in SPECIAL_HOSTS.items()}
# Wikimedia renamed the language code but kept the database: be-x-old is now be-tarask.
RENAMED = {"be_tarask": "be_x_old"}


def db_name(name: str) -> str:
    """The dump's database name for `name` (see the module doc); UserError if it cannot be one."""
    raw = name
    name = name.strip().lower()
    if "://" in name:
        name = urllib.parse.urlsplit(name).hostname or ""
    if "." in name:
        return _from_host(raw, name)
    name = name.replace("-", "_")
    if name in SPECIAL_NAMES:
        return SPECIAL_NAMES[name]
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise UserError(f"source.wiki: {raw!r} is not a wiki name (a language code such as yo, a db name such as "
                        "yowiki, or a host such as yo.wikipedia.org)")
    if any(name.endswith(s) and len(name) > len(s) for s in _SUFFIXES):
        return name
    return RENAMED.get(name, name) + "wiki"


def _from_host(raw: str, host: str) -> str:
    host = re.sub(r"\.m\.", ".", host.rstrip("."))  # the mobile site: yo.m.wikipedia.org
    if host in SPECIAL_HOSTS:
        return SPECIAL_HOSTS[host]
    m = re.fullmatch(r"([a-z][a-z0-9-]*)\.([a-z]+)\.org", host)
    if m and m.group(2) in PROJECTS:
        lang = m.group(1).replace("-", "_")
        return RENAMED.get(lang, lang) + PROJECTS[m.group(2)]
    if m and m.group(2) == "wikimedia":  # chapter wikis: br.wikimedia.org -> brwikimedia
        return m.group(1).replace("-", "_") + "wikimedia"
    raise UserError(f"source.wiki: {raw!r} is not a Wikimedia wiki's host; for another MediaWiki site use "
                    "source.api: https://HOST/w/api.php (or its /api.php)")


def api_url(db: str) -> str | None:
    """The wiki's own api.php, for the hint after "this wiki has no dump" (None when the name says nothing)."""
    for host, special in SPECIAL_HOSTS.items():
        if special == db:
            return f"https://{host}/w/api.php"
    for suffix in _SUFFIXES:
        if db.endswith(suffix) and len(db) > len(suffix):
            lang = db[: -len(suffix)]
            lang = {v: k for k, v in RENAMED.items()}.get(lang, lang).replace("_", "-")
            project = "wikimedia" if suffix == "wikimedia" else next(p for p, s in PROJECTS.items() if s == suffix)
            return f"https://{lang}.{project}.org/w/api.php"
    return None
