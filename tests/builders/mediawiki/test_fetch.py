"""`source.wiki`: a Wikimedia dump by name, fetched from a real dumps-mirror layout on 127.0.0.1 that serves
real dumps (tests/servers/dumps_site.py) and misbehaves: a newest run still in progress, a connection cut at
40%, 503 with Retry-After, a mirror that is down, a flipped byte. Builds from `wiki:` give the rows of the
same dump read from its local file, and a second build asks the network nothing."""
from __future__ import annotations

import bz2
import hashlib
import json
import time
from pathlib import Path

import pytest
from datasets import load_dataset, load_from_disk

import wiki_qa  # noqa: F401  (registers the builder with datasets)
from tests.servers.dumps_site import DumpsSite, down_url, lay_out
from wiki_qa.builders.mediawiki.fetch import dumps, fetch_dump, http, names
from wiki_qa.builders.mediawiki.fetch.download import part_of
from wiki_qa.cli import main
from wiki_qa.config import from_dict
from wiki_qa.orchestrator import run

MAIN = "{db}-{date}-pages-articles-multistream.xml.bz2"


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Each test its own wiki_qa cache, and short back-offs (Retry-After values are the servers' own)."""
    monkeypatch.setenv("WIKI_QA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(http, "BACKOFF_S", 0.05)
    for var in dumps.OFFLINE_ENV:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def enwiki_xml(mediawiki_dir) -> bytes:
    return bz2.open(mediawiki_dir / "enwiki-206pages.xml.bz2").read()


@pytest.fixture(scope="module")
def yo_xml(mediawiki_dir) -> bytes:
    return bz2.open(mediawiki_dir / "dbpedia-minidump-yo.xml.bz2").read()


def file_path(db, date):
    return f"/{db}/{date}/" + MAIN.format(db=db, date=date)


def test_names():
    assert names.db_name("yo") == "yowiki"
    assert names.db_name("yowiki") == "yowiki"
    assert names.db_name("yo.wikipedia.org") == "yowiki"
    assert names.db_name("https://yo.m.wikipedia.org/wiki/Ojúewé_Àkọ́kọ́") == "yowiki"
    assert names.db_name("be-x-old") == "be_x_oldwiki"
    assert names.db_name("be-tarask.wikipedia.org") == "be_x_oldwiki"
    assert names.db_name("en.wikivoyage.org") == "enwikivoyage"
    assert names.db_name("enwikivoyage") == "enwikivoyage"
    assert names.db_name("zh-min-nan") == "zh_min_nanwiki"
    assert names.db_name("commons") == names.db_name("commons.wikimedia.org") == "commonswiki"
    assert names.db_name("www.wikidata.org") == "wikidatawiki"
    assert names.api_url("be_x_oldwiki") == "https://be-tarask.wikipedia.org/w/api.php"
    assert names.api_url("bbcwiki") == "https://bbc.wikipedia.org/w/api.php"
    assert names.api_url("enwikivoyage") == "https://en.wikivoyage.org/w/api.php"
    with pytest.raises(Exception, match="not a Wikimedia wiki's host"):
        names.db_name("wiki.example.org")


def test_user_agent_follows_wikimedia_policy(monkeypatch):
    import aiohttp

    monkeypatch.setenv(http.CONTACT_ENV, "ml-team@example.org")
    assert http.user_agent() == f"wiki_qa/0.1.0 (+ml-team@example.org) aiohttp/{aiohttp.__version__}"
    assert http.user_agent("https://example.org/me").startswith("wiki_qa/0.1.0 (+https://example.org/me) aiohttp/")


def test_drop_at_40_percent_resumes_with_range(tmp_path, enwiki_xml, monkeypatch):
    monkeypatch.setenv(http.CONTACT_ENV, "ops@example.org")
    lay_out(tmp_path / "m", "enwiki", enwiki_xml, "20261101")
    path = file_path("enwiki", "20261101")
    with DumpsSite(tmp_path / "m") as site:
        site.faults.drop[path] = 0.4
        got = fetch_dump("en", mirrors=[site.url])
        size = (tmp_path / "m" / path.lstrip("/")).stat().st_size
        body = [e for e in site.requests(path)]
    assert [e["status"] for e in body] == [200, 206]
    assert body[1]["range"] == f"bytes={body[0]['sent']}-" and body[0]["sent"] == int(size * 0.4)
    assert site.sent[path] <= size + (1 << 20)  # the Done-when: the drop costs at most 1 MiB more
    assert site.sent[path] == size  # in fact, not one byte twice
    assert all(e["ua"].startswith("wiki_qa/0.1.0 (+ops@example.org) aiohttp/") for e in site.log)
    assert hashlib.sha1(got.dump.read_bytes()).hexdigest() == got.checksums[got.dump.name]["sha1"]
    assert not part_of(got.dump).exists()


def test_part_left_by_a_killed_process_is_resumed_not_trusted(tmp_path, enwiki_xml):
    """Ctrl-C mid-download leaves NAME.part, never NAME: the next run continues it with a Range request."""
    lay_out(tmp_path / "m", "enwiki", enwiki_xml, "20261101")
    path = file_path("enwiki", "20261101")
    served = (tmp_path / "m" / path.lstrip("/")).read_bytes()
    with DumpsSite(tmp_path / "m") as site:
        site.faults.statuses["/enwiki/20261101/" + MAIN.format(db="enwiki", date="20261101")] = [(503, "0")] * 5
        with pytest.raises(Exception, match="every mirror failed"):
            fetch_dump("en", mirrors=[site.url])
        run_ = dumps._known_run("enwiki", "latest", False)
        dest = dumps.folder(run_) / MAIN.format(db="enwiki", date="20261101")
        assert not dest.exists()
        part_of(dest).write_bytes(served[: len(served) // 3])  # what a killed download left behind
        got = fetch_dump("en", mirrors=[site.url])
        ranges = [e["range"] for e in site.requests(path) if e["status"] == 206]
    assert ranges == [f"bytes={len(served) // 3}-"]
    assert got.dump.read_bytes() == served


def test_503_with_retry_after_is_waited_out(tmp_path, yo_xml):
    lay_out(tmp_path / "m", "yowiki", yo_xml, "20261101")
    path = file_path("yowiki", "20261101")
    with DumpsSite(tmp_path / "m") as site:
        site.faults.statuses[path] = [(503, "1"), (429, "1")]
        site.faults.statuses["/yowiki/"] = [(503, "1")]
        t0 = time.monotonic()
        fetch_dump("yo", mirrors=[site.url])
        took = time.monotonic() - t0
        statuses = [e["status"] for e in site.requests(path)]
    assert statuses == [503, 429, 200]
    assert took >= 3.0  # three Retry-After: 1 honoured


def test_in_progress_run_falls_back_to_the_finished_one(tmp_path, yo_xml):
    lay_out(tmp_path / "m", "yowiki", yo_xml, "20261101")
    lay_out(tmp_path / "m", "yowiki", yo_xml, "20261120", state="in-progress")
    with DumpsSite(tmp_path / "m") as site:
        got = fetch_dump("yo", mirrors=[site.url])
        asked = [e["path"] for e in site.log]
    assert got.date == "20261101"
    assert any("20261120" in w and "in-progress" in w and "took 20261101" in w for w in got.warnings)
    assert not any("20261120/yowiki-" in p for p in asked)  # nothing of the unfinished run was downloaded


def test_down_mirror_then_the_next(tmp_path, yo_xml):
    lay_out(tmp_path / "m", "yowiki", yo_xml, "20261101")
    with DumpsSite(tmp_path / "m") as site:
        got = fetch_dump("yo", mirrors=[down_url(), site.url])
    assert got.dump.is_file() and got.date == "20261101"


def test_flipped_byte_on_one_mirror_is_fetched_afresh_from_the_next(tmp_path, enwiki_xml):
    lay_out(tmp_path / "bad", "enwiki", enwiki_xml, "20261101", flip=True)
    lay_out(tmp_path / "good", "enwiki", enwiki_xml, "20261101")
    path = file_path("enwiki", "20261101")
    with DumpsSite(tmp_path / "bad") as bad, DumpsSite(tmp_path / "good") as good:
        got = fetch_dump("en", mirrors=[bad.url, good.url])
        assert bad.sent[path] > 0 and good.sent[path] == got.checksums[got.dump.name]["size"]
        assert [e["range"] for e in good.requests(path)] == [None]  # fresh, not resumed onto bad bytes
    assert hashlib.sha1(got.dump.read_bytes()).hexdigest() == got.checksums[got.dump.name]["sha1"]
    assert got.downloads[0].fresh_after_mismatch == 1


@pytest.mark.slow  # four builds of 206 real pages; make test-fast leaves it out
def test_second_build_makes_no_request_and_works_with_the_server_gone(tmp_path, enwiki_xml, mediawiki_dir):
    lay_out(tmp_path / "m", "enwiki", enwiki_xml, "20261101")
    lay_out(tmp_path / "m", "enwiki", enwiki_xml, "20261120", state="in-progress")
    site = DumpsSite(tmp_path / "m").__enter__()
    try:
        tree = {"source": {"type": "mediawiki", "wiki": "en", "mirrors": [site.url]}}
        first = build(tmp_path, "by-name", tree)
        asked = len(site.log)
        assert asked > 0
        second = build(tmp_path, "again", tree)
        assert len(site.log) == asked  # the second build asked the mirror nothing
    finally:
        site.close()
    third = build(tmp_path, "offline", tree)  # the mirror is gone altogether
    yaml_path = tmp_path / "by-name.yaml"
    yaml_path.write_text(json.dumps({"name": "by-name", **tree}))  # JSON is YAML
    loaded = load_dataset("wiki_qa", str(yaml_path))  # and load_dataset, with the mirror gone
    assert {s: loaded[s].to_list() for s in ("train", "val", "test")} == first["rows"]
    dump = str(mediawiki_dir / "enwiki-206pages.xml.bz2")
    local = build(tmp_path, "local", {"source": {"type": "mediawiki", "path": dump}})
    assert first["rows"] == second["rows"] == third["rows"] == local["rows"]
    assert sum(len(rows) for rows in first["rows"].values()) > 100
    files = first["report"]["source"]["files"]
    assert files[0]["path"].endswith(MAIN.format(db="enwiki", date="20261101"))
    assert any("in-progress" in w for w in first["report"]["source"]["warnings"])


def test_new_dump_is_a_new_build_key(tmp_path, yo_xml, enwiki_xml):
    from wiki_qa.builders import make_source
    from wiki_qa.builders.mediawiki.config import MediaWikiConfig

    lay_out(tmp_path / "m", "yowiki", yo_xml, "20261101")
    with DumpsSite(tmp_path / "m") as site:
        cfg = MediaWikiConfig(wiki="yo", mirrors=[site.url], dump="20261101")
        before = make_source(cfg).identity()
        assert before[0]["sha1"] and before[0]["dump"] == "20261101"
        lay_out(tmp_path / "m", "yowiki", enwiki_xml, "20261201")
        after = make_source(MediaWikiConfig(wiki="yo", mirrors=[site.url], dump="20261201")).identity()
    assert after[0]["sha1"] != before[0]["sha1"]


def build(tmp_path: Path, name: str, tree: dict) -> dict:
    tree = {"name": name, "output": {"dir": str(tmp_path / name)}, **tree}
    report = run(from_dict(tree, tmp_path / f"{name}.yaml"))
    dsd = load_from_disk(str(tmp_path / name))
    rows = {s: dsd[s].to_list() for s in ("train", "val", "test")}
    return {"rows": rows, "report": report}


# --- one-line errors (exit 2) ----------------------------------------------------------------------------
def fetch_cli(capsys, *args) -> tuple[int, str]:
    code = main(["fetch", *args, "--quiet"])
    return code, capsys.readouterr().err.strip()


def test_unknown_wiki_says_did_you_mean(tmp_path, yo_xml, capsys):
    lay_out(tmp_path / "m", "yowiki", yo_xml, "20261101")
    with DumpsSite(tmp_path / "m") as site:
        code, err = fetch_cli(capsys, "yowikk", "--mirror", site.url)
    assert code == 2 and len(err.splitlines()) == 1
    assert "did you mean yowiki" in err


def test_wiki_without_a_dump_suggests_the_api(tmp_path, yo_xml, capsys):
    lay_out(tmp_path / "m", "bbcwiki", yo_xml, "20261101", state="in-progress")
    with DumpsSite(tmp_path / "m") as site:
        code, err = fetch_cli(capsys, "bbc", "--mirror", site.url)
    assert code == 2 and len(err.splitlines()) == 1
    assert "no finished dump" in err and "source.api: https://bbc.wikipedia.org/w/api.php" in err


def test_date_that_no_longer_exists_lists_those_that_do(tmp_path, yo_xml, capsys):
    for date in ("20261001", "20261101"):
        lay_out(tmp_path / "m", "yowiki", yo_xml, date)
    with DumpsSite(tmp_path / "m") as site:
        code, err = fetch_cli(capsys, "yo", "--dump", "20220301", "--mirror", site.url)
    assert code == 2 and len(err.splitlines()) == 1
    assert "no run 20220301" in err and "20261101, 20261001" in err


def test_checksum_still_wrong_after_a_fresh_download(tmp_path, yo_xml, capsys):
    lay_out(tmp_path / "m", "yowiki", yo_xml, "20261101", flip=True)
    path = file_path("yowiki", "20261101")
    with DumpsSite(tmp_path / "m") as site:
        code, err = fetch_cli(capsys, "yo", "--mirror", site.url)
        whole_gets = [e for e in site.requests(path) if e["range"] is None]
    assert code == 2 and len(err.splitlines()) == 1
    assert "checksum still wrong after a fresh download" in err
    assert len(whole_gets) == 2  # the first download, then one fresh one
    leftovers = [p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert MAIN.format(db="yowiki", date="20261101") not in leftovers  # nothing looks complete


def test_every_mirror_down(capsys):
    code, err = fetch_cli(capsys, "yo", "--mirror", down_url(), "--mirror", down_url())
    assert code == 2 and len(err.splitlines()) == 1
    assert "every mirror failed" in err


def test_fetch_cli_prints_the_files(tmp_path, yo_xml, capsys):
    lay_out(tmp_path / "m", "yowiki", yo_xml, "20261101")
    with DumpsSite(tmp_path / "m") as site:
        assert main(["fetch", "yo", "--mirror", site.url, "--quiet"]) == 0
        out = capsys.readouterr().out
        assert "yowiki 20261101" in out and "sha1 verified" in out and "downloaded" in out
        assert main(["fetch", "yo", "--mirror", site.url, "--quiet"]) == 0
        assert "already in the cache" in capsys.readouterr().out
    pin = json.loads((tmp_path / "cache" / "dumps" / "yowiki" / "latest.json").read_text())
    assert pin["date"] == "20261101"


def test_a_mirror_sending_more_than_dumpstatus_says_is_cut_off(tmp_path, yo_xml, capsys):
    lay_out(tmp_path / "m", "yowiki", yo_xml, "20261101")
    served = tmp_path / "m" / file_path("yowiki", "20261101").lstrip("/")
    size = served.stat().st_size
    with open(served, "ab") as f:
        f.write(b"\0" * (8 << 20))  # the file on the mirror grew; dumpstatus.json still says `size`
    with DumpsSite(tmp_path / "m") as site:
        code, err = fetch_cli(capsys, "yo", "--mirror", site.url)
    assert code == 2 and "sends more than" in err
    parts = list((tmp_path / "cache").rglob("*.part"))
    assert all(p.stat().st_size <= size for p in parts)


def test_the_fetched_dump_is_cut_into_byte_range_shards_by_its_index(tmp_path, enwiki_xml, caplog):
    from wiki_qa.builders.base import SourceStats
    from wiki_qa.builders.mediawiki.config import MediaWikiConfig
    from wiki_qa.builders.mediawiki.source import MediaWikiSource

    lay_out(tmp_path / "m", "enwiki", enwiki_xml, "20261101", per=20)
    with DumpsSite(tmp_path / "m") as site:
        src = MediaWikiSource(MediaWikiConfig(wiki="en", mirrors=[site.url], min_shard_bytes=1))
        shards = src.shards(3)
    assert len(shards) == 3 and all("#bytes=" in s for s in shards)
    assert "index does not match" not in caplog.text

    def docs(parts):
        out, stats = [], SourceStats()
        for shard in parts:
            out += list(src.read(shard, stats))
        return [(d["doc_id"], d["text"]) for d in out], stats

    (cut, cut_stats), (whole, _) = docs(shards), docs(src.input_files())
    assert cut == whole and len(whole) > 100
    assert not [w for w in cut_stats.warnings if "ascending" in w]


def test_latest_with_every_mirror_down_uses_the_cached_run(tmp_path, yo_xml, monkeypatch):
    lay_out(tmp_path / "m", "yowiki", yo_xml, "20261101")
    with DumpsSite(tmp_path / "m") as site:
        first = fetch_dump("yo", mirrors=[site.url])
    monkeypatch.setattr(dumps, "RECHECK_S", 0)  # a day later: `latest` is asked again, and nobody answers
    again = fetch_dump("yo", mirrors=[down_url()])
    assert again.dump == first.dump and again.network
    assert any("no mirror answered" in w and "cached run 20261101" in w for w in again.warnings)
    monkeypatch.setenv("WIKI_QA_OFFLINE", "1")  # offline: the cache only, and not a single connection
    assert fetch_dump("yo", mirrors=[down_url()]).dump == first.dump


def test_at_most_two_connections_per_host():
    import asyncio

    async def limits():
        async with http.session(None) as s:
            return s.connector.limit_per_host

    assert asyncio.run(limits()) == 2
