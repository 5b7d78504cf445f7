"""`source.api`: any MediaWiki site through api.php, against a real-shaped API server on 127.0.0.1 that serves
the real pages of dumps in ../shared/data (tests/servers/mediawiki_api.py), with continuation, maxlag errors,
429s, a result size limit, a private wiki and a site that dies mid-crawl. The rows equal those built from the
dump file itself."""
from __future__ import annotations

import json

import pytest

from tests.builders.mediawiki.test_fetch import build
from tests.servers.mediawiki_api import MediaWikiAPI
from wiki_qa.builders.mediawiki.api import client, crawl, snapshot
from wiki_qa.builders.mediawiki.fetch import dumps, http
from wiki_qa.cli import main


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WIKI_QA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(http, "BACKOFF_S", 0.05)
    for var in (*dumps.OFFLINE_ENV, client.BOT_USER_ENV, client.BOT_PASSWORD_ENV, client.COOKIE_ENV):
        monkeypatch.delenv(var, raising=False)


def requests_of(api, **match):
    return [e for e in api.log if all(e["params"].get(k) == v for k, v in match.items())]


@pytest.mark.slow  # two builds of 206 real pages; make test-fast leaves it out
def test_api_rows_equal_the_dump_rows(tmp_path, mediawiki_dir):
    dump = str(mediawiki_dir / "enwiki-206pages.xml.bz2")
    with MediaWikiAPI(dump, page_limit=40, max_result_bytes=400_000) as api:
        api.maxlag_at = {2, 9}
        api.statuses = [(429, "1")]
        by_api = build(tmp_path, "by-api", {"source": {"type": "mediawiki", "api": api.url}})
        log = list(api.log)
    local = build(tmp_path, "local", {"source": {"type": "mediawiki", "path": dump}})
    assert by_api["rows"] == local["rows"]  # same rows, same order: doc_ids, titles, text, urls, meta
    assert sum(len(r) for r in by_api["rows"].values()) > 100
    params = [e["params"] for e in log]
    assert all(p["maxlag"] == "5" and p["format"] == "json" and p["formatversion"] == "2" for p in params)
    revs = [p for p in params if p.get("prop")]
    assert all(len(p["pageids"].split("|")) <= 50 for p in revs)
    assert any("rvcontinue" in p for p in revs)  # answers over the size limit were continued
    assert sum(1 for p in params if "apcontinue" in p) >= 4  # the listing was continued
    assert len({e["port"] for e in log}) == 1  # one connection
    gaps = [b["t"] - a["t"] for a, b in zip(log, log[1:])]
    assert min(gaps) >= client.MIN_INTERVAL_S
    maxlagged = [i for i in (2, 9)]
    assert all(log[i + 1]["t"] - log[i]["t"] >= 1.0 for i in maxlagged)  # Retry-After: 1 honoured
    assert all(e["ua"].startswith("wiki_qa/0.1.0 (+") for e in log)


def test_maxlag_and_429_are_waited_out_politely(mediawiki_dir):
    with MediaWikiAPI(str(mediawiki_dir / "simplewiki-7pages.xml"), page_limit=3) as api:
        api.maxlag_at = {1}
        api.statuses = [(429, "1")]  # the first request
        snap = snapshot(api.url, [0])
        log = list(api.log)
    assert snap.meta["pages"] == 6
    assert log[1]["t"] - log[0]["t"] >= 1.0 and log[2]["t"] - log[1]["t"] >= 1.0  # both Retry-After: 1
    assert all(e["params"]["maxlag"] == "5" for e in log)
    assert min(b["t"] - a["t"] for a, b in zip(log, log[1:])) >= client.MIN_INTERVAL_S
    assert len({e["port"] for e in log}) == 1


def test_fandom_wiki_by_namespace_name(tmp_path, mediawiki_dir):
    """A Fandom (Wikia) wiki in Polish with its own namespaces, chosen by their Polish, English and Fandom
    names, as with its dump."""
    dump = str(mediawiki_dir / "fandom-macbre.xml.7z")
    source = {"namespaces": [0, "Kategoria", "Template", "Forum"]}
    tree = {"chunk": {"min_words": 1}}
    with MediaWikiAPI(dump, lang="pl", page_limit=2) as api:
        by_api = build(tmp_path, "fandom-api", {"source": {"type": "mediawiki", "api": api.url, **source}, **tree})
        namespaces_asked = sorted({e["params"]["apnamespace"] for e in requests_of(api, list="allpages")}, key=int)
    local = build(tmp_path, "fandom-local", {"source": {"type": "mediawiki", "path": dump, **source}, **tree})
    assert by_api["rows"] == local["rows"]
    assert namespaces_asked == ["0", "10", "14", "110"]
    rows = [r for split in by_api["rows"].values() for r in split]
    assert {json.loads(r["meta"])["namespace"] for r in rows} == {0, 10, 14}
    assert all(r["doc_id"].startswith("macbre:") for r in rows)


def test_interrupted_crawl_resumes_without_asking_twice(tmp_path, mediawiki_dir, monkeypatch):
    monkeypatch.setattr(client, "ATTEMPTS", 3)
    dump = str(mediawiki_dir / "enwiki-206pages.xml.bz2")
    with MediaWikiAPI(dump, page_limit=60) as api:
        api.fail_from = 6  # the site dies after a few batches
        with pytest.raises(Exception, match="stopped answering.*resumes"):
            snapshot(api.url, [0])
        first = [e["params"] for e in api.log[:6] if e["params"].get("prop")]  # answered before it died
        api.fail_from, died = None, len(api.log)
        snap = snapshot(api.url, [0])
        later = [e["params"] for e in api.log[died:] if e["params"].get("prop")]
    fetched = [i for p in first + later for i in p["pageids"].split("|")]
    assert len(fetched) == len(set(fetched)) == snap.meta["pages"]  # every page asked for exactly once
    assert first and snap.meta["resumed"]
    with MediaWikiAPI(dump) as fresh:
        whole = snapshot(fresh.url, [0], recrawl=True)
    assert whole.files[0].read_bytes() == snap.files[0].read_bytes()


def test_second_build_asks_the_site_nothing(tmp_path, mediawiki_dir):
    dump = str(mediawiki_dir / "simplewiki-7pages.xml")
    with MediaWikiAPI(dump) as api:
        tree = {"source": {"type": "mediawiki", "api": api.url}}
        first = build(tmp_path, "one", tree)
        asked = len(api.log)
        second = build(tmp_path, "two", tree)
        assert len(api.log) == asked
    assert first["rows"] == second["rows"]


def test_page_count_gap_is_reported(tmp_path, mediawiki_dir):
    dump = str(mediawiki_dir / "simplewiki-7pages.xml")
    with MediaWikiAPI(dump) as api:
        hidden = api.pages[-1]  # counted by siteinfo's statistics, never listed by allpages
        original = api.allpages

        def allpages(p):
            out = original(p)
            out["query"]["allpages"] = [q for q in out["query"]["allpages"] if q["pageid"] != hidden["pageid"]]
            return out

        api.allpages = allpages
        every = sorted(k for k, _, _ in api.site["namespaces"] if k >= 0)
        snap = snapshot(api.url, every)
    assert any("siteinfo counts 7" in w and "gap of +1" in w for w in snap.warnings), snap.warnings


def test_private_wiki_with_a_bot_password(tmp_path, mediawiki_dir, monkeypatch, capsys):
    dump = str(mediawiki_dir / "simplewiki-7pages.xml")
    with MediaWikiAPI(dump, private=True) as api:
        code = main(["fetch", "--api", api.url, "--quiet"])
        err = capsys.readouterr().err
        assert code == 2 and "refuses to be read" in err and "WIKI_QA_BOT_USER" in err
        monkeypatch.setenv(client.BOT_USER_ENV, api.bot[0])
        monkeypatch.setenv(client.BOT_PASSWORD_ENV, api.bot[1])
        assert main(["--debug", "fetch", "--api", api.url, "--quiet"]) == 0
        out, err = capsys.readouterr()
        logins = [e for e in api.log if e["params"].get("action") == "login"]
        later = [e for e in api.log if e["params"].get("list") == "allpages"]
    assert "pages of namespaces [0]" in out
    assert logins and all(e["cookie"] and "wikiSession=" in e["cookie"] for e in later)
    assert api.bot[1] not in out + err
    snap = json.loads(next((tmp_path / "cache" / "api").glob("*/snapshot.json")).read_text())
    assert api.bot[1] not in json.dumps(snap)


def test_wrong_bot_password_is_one_line(tmp_path, mediawiki_dir, monkeypatch, capsys):
    dump = str(mediawiki_dir / "simplewiki-7pages.xml")
    monkeypatch.setenv(client.BOT_USER_ENV, "Crawler@wiki_qa")
    monkeypatch.setenv(client.BOT_PASSWORD_ENV, "not-the-password-999")
    with MediaWikiAPI(dump, private=True) as api:
        code = main(["fetch", "--api", api.url, "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "login as Crawler@wiki_qa failed" in err and "not-the-password-999" not in err


def test_not_an_api_url(tmp_path, mediawiki_dir, capsys):
    with MediaWikiAPI(str(mediawiki_dir / "simplewiki-7pages.xml")) as api:
        code = main(["fetch", "--api", api.url.replace("/w/api.php", "/wiki/Main_Page"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "answers 404" in err


def test_config_takes_exactly_one_origin(tmp_path):
    from wiki_qa.config import from_dict
    from wiki_qa.errors import UserError

    for source in ({}, {"path": "x.xml", "wiki": "yo"}, {"wiki": "yo", "api": "https://w.example.org/api.php"}):
        with pytest.raises(UserError, match="exactly one of source.path"):
            from_dict({"name": "t", "source": {"type": "mediawiki", **source}}, tmp_path / "t.yaml")
    with pytest.raises(UserError, match="latest"):
        from_dict({"name": "t", "source": {"type": "mediawiki", "wiki": "yo", "dump": "2026-11"}}, tmp_path / "t.yaml")
    assert crawl.BATCH == 50


def test_an_override_of_the_origin_replaces_the_yaml_one():
    """`wiki-qa build mediawiki --set source.wiki=yo`, `load_dataset("wiki_qa", "mediawiki", source_api=...)`."""
    from wiki_qa.config import load_config

    cfg = load_config("mediawiki", ["source.wiki=yo"])
    assert (cfg.source.wiki, cfg.source.path, cfg.source.api) == ("yo", None, None)
    cfg = load_config("mediawiki", {"source_api": "https://starwars.fandom.com/api.php"})
    assert (cfg.source.api, cfg.source.path) == ("https://starwars.fandom.com/api.php", None)


def test_json_that_is_not_an_api_answer(tmp_path, mediawiki_dir, capsys):
    import bz2

    from tests.servers.dumps_site import DumpsSite, lay_out

    lay_out(tmp_path / "m", "yowiki", bz2.open(mediawiki_dir / "dbpedia-minidump-yo.xml.bz2").read(), "20261101")
    with DumpsSite(tmp_path / "m") as site:
        code = main(["fetch", "--api", site.url + "/yowiki/20261101/dumpstatus.json", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "is it a MediaWiki api.php?" in err
