"""Issue 24, round two: the sqlite response cache (a file left without tables, credentials and private text
on disk, what `--refresh` may move aside). docs/security.md, "Round two: the LLM engine, batch and cache",
lists each finding with its test here."""
from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat

import datasets
import pytest

from wiki_qa.errors import UserError
from wiki_qa.llm import generate
from wiki_qa.llm.cache import Cache


def _writer(path: str, who: int, n: int) -> None:
    c = Cache(path)
    for i in range(n):
        c.put(f"{who}-{i}", {"content": "x", "finish_reason": "stop", "prompt_tokens": 1, "completion_tokens": 1})


# -- 18: a cache without tables is completed, never left broken ------------------------------------------------
def test_a_cache_left_in_wal_mode_without_tables_is_completed_on_open(tmp_path, capsys):
    from wiki_qa.cli import cache as cli

    path = tmp_path / "llm.sqlite"
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")  # what a kill right after the switch (or a lost race) leaves
    con.close()
    ns = type("Args", (), {"path": str(path)})
    assert cli.repair_handler(ns) == 0  # `wiki-qa cache repair`: not damaged, but incomplete
    assert "lacked" in capsys.readouterr().out
    c = Cache(str(path))
    assert c.get("k") is None
    c.put("k", {"content": "a"})
    assert c.get("k") == {"content": "a"} and c.run_rows("r") == []
    # and an older file without the newer tables and columns gets them
    old = tmp_path / "old.sqlite"
    con = sqlite3.connect(old)
    con.executescript("PRAGMA journal_mode=WAL; CREATE TABLE responses (key TEXT PRIMARY KEY, body TEXT NOT NULL);"
                      "INSERT INTO responses VALUES ('paid', '{\"content\": \"kept\"}');")
    con.close()
    assert Cache(str(old)).get("paid") == {"content": "kept"} and Cache(str(old)).batch_keys(1) == []


def test_processes_racing_to_open_a_fresh_cache_all_get_its_tables_and_lose_nothing(tmp_path):
    path = str(tmp_path / "fresh" / "llm.sqlite")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, who, 50)) for who in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 6
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 300


# -- 22: no credentials, and no other user, can read the cache ---------------------------------------------------
def test_a_base_url_password_never_lands_in_the_cache_and_the_cache_is_private(real_chunks, fake, llm, tmp_path,
                                                                              monkeypatch, capsys):
    from tests.llm.test_hardening_batch import llm_batches

    folder = tmp_path / "private" / "wiki_qa"
    cache = str(folder / "llm.sqlite")
    url = fake.base_url.replace("://", "://alice:hunter2-secret@")
    old = os.umask(0o022)
    try:
        generate(datasets.Dataset.from_list(real_chunks[:4]), "qa",
                 dict(llm, base_url=url, cache=cache, batch={"poll_s": 0.01}))
    finally:
        os.umask(old)
    for f in folder.iterdir():
        assert b"hunter2" not in f.read_bytes(), f
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    assert llm_batches("--cache", cache) == 0
    shown = capsys.readouterr().out
    assert "batch_000001" in shown and "hunter2" not in shown and "alice" not in shown


# -- 24: --refresh touches only the SQLite file the build uses ---------------------------------------------------
def test_refresh_moves_aside_only_sqlite_files_found_beside_the_config(tmp_path, monkeypatch, mediawiki_dir):
    from wiki_qa.config import load_config
    from wiki_qa.orchestrator import run

    conf, work = tmp_path / "conf", tmp_path / "work"
    conf.mkdir()
    work.mkdir()
    for folder in (conf, work):
        (folder / "notes.txt").write_text("my notes, not a cache\n")
    yaml = ("name: refresh\nsource: {type: mediawiki, path: %s}\nformat: text\nllm: {cache: %s}\n")
    (conf / "c.yaml").write_text(yaml % (mediawiki_dir / "simplewiki-7pages.xml", "notes.txt"))
    monkeypatch.chdir(work)
    with pytest.raises(UserError, match="not an SQLite database"):
        run(load_config(str(conf / "c.yaml")), output=str(tmp_path / "out"), refresh=True)
    assert sorted(os.listdir(work)) == ["notes.txt"] and sorted(os.listdir(conf)) == ["c.yaml", "notes.txt"]
    # a damaged cache beside the config (not in the working folder) is the one moved aside
    good = sqlite3.connect(conf / "llm.sqlite")
    good.executescript("CREATE TABLE t (x); INSERT INTO t VALUES (zeroblob(100000));")
    good.close()
    with open(conf / "llm.sqlite", "r+b") as f:
        f.truncate(30_000)  # a torn copy
    (conf / "c.yaml").write_text(yaml % (mediawiki_dir / "simplewiki-7pages.xml", "llm.sqlite"))
    run(load_config(str(conf / "c.yaml")), output=str(tmp_path / "out"), refresh=True)
    assert any(n.startswith("llm.sqlite.damaged-") for n in os.listdir(conf))
    assert sorted(os.listdir(work)) == ["notes.txt"]
