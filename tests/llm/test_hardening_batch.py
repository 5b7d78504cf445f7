"""Issue 24, round two: `llm.batch` against a provider (the fake server on 127.0.0.1) whose output files,
ids, files and speed are not what they should be; issue 25 item 5 (batch mode never chats online).
docs/security.md, "Round two: the LLM engine, batch and cache", lists each finding with its test here."""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
import tracemalloc

import datasets
import pytest

from tests.llm.conftest import FakeServer
from tests.llm.test_batch import KILL_SCRIPT
from wiki_qa.llm import LLMStats, generate
from wiki_qa.llm import transport as T

PRICE = {"fake-model": {"input_per_1m": 10.0, "output_per_1m": 30.0}}


def rows_of(ds):
    return sorted(ds.to_list(), key=lambda r: r["id"])


@pytest.fixture
def ds(real_chunks):
    return datasets.Dataset.from_list(real_chunks[:12])


@pytest.fixture
def online(ds, fake, llm, tmp_path):
    out = generate(ds, "qa", dict(llm, cache=str(tmp_path / "online.sqlite")))
    fake.reset()
    return rows_of(out)


def batched(llm, tmp_path, name="batch", **batch):
    return dict(llm, prices=PRICE, cache=str(tmp_path / f"{name}.sqlite"), batch={"poll_s": 0.01, **batch})


def run(ds, cfg):
    st = LLMStats()
    return generate(ds, "qa", cfg, stats=st), st


def cached_keys(path) -> list:
    return [r[0] for r in sqlite3.connect(path).execute("SELECT key FROM responses")]


def kill_while_polling(ds, server, cfg, tmp_path, env=None):
    """A build killed with SIGKILL while it polls a job `server` will not finish; returns the job's row."""
    server.reset(batch_polls=10 ** 9)
    (tmp_path / "rows.json").write_text(json.dumps(ds.to_list()))
    p = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(tmp_path / "rows.json"), json.dumps(cfg)],
                         env=dict(os.environ, PYTHONPATH=os.getcwd(), **(env or {})),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while server.stats()["batch_retrieves"] < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    p.kill()
    p.wait()
    assert server.stats()["batches"] == 1


def llm_batches(*argv) -> int:
    from wiki_qa.cli import llm as cli

    ap = argparse.ArgumentParser()
    cli.register(ap.add_subparsers())
    args = ap.parse_args(["llm-batches", *argv])
    return args.func(args)


# -- 3: results are filed only under the job's own ids, each once ---------------------------------------------
def test_batch_results_are_filed_only_under_the_jobs_own_ids_once(ds, fake, llm, tmp_path, online):
    fake.reset(batch_tamper=["foreign_id", "null_id", "duplicate", "drop"])
    cfg = batched(llm, tmp_path)
    out, st = run(ds, cfg)
    s = fake.stats()
    assert rows_of(out) == online  # the duplicate did not replace line 3's answer with line 4's
    assert s["batch_lines"] == [len(ds), 2]  # the foreign and the dropped line's requests, asked again
    keys = cached_keys(cfg["cache"])
    assert len(keys) == len(ds) and "f" * 64 not in keys and None not in keys
    assert st.batch["requests"] == sum(s["batch_lines"]) and st.batch["ok"] == len(ds)
    assert st.batch["anomalies"] == {"unknown_id": 2, "duplicate_id": 1, "missing_id": 2}


# -- 4: a malformed output line fails alone; the job is collected ------------------------------------------
def test_a_malformed_output_line_fails_that_line_only_and_the_job_is_collected(ds, fake, llm, tmp_path, online):
    fake.reset(batch_tamper=["malformed"])
    cfg = batched(llm, tmp_path)
    out, st = run(ds, cfg)
    assert rows_of(out) == online and fake.stats()["batch_lines"] == [len(ds)]
    assert st.batch["anomalies"] == {"malformed_line": 4}
    assert sqlite3.connect(cfg["cache"]).execute("SELECT collected FROM batches").fetchall() == [(1,)]
    fake.reset()
    out, st = run(ds, cfg)  # nothing wedged: the next build is served from the cache
    assert rows_of(out) == online and fake.stats()["requests"] == 0


# -- 8: output files are streamed to disk, a line at a time ---------------------------------------------------
def test_a_huge_output_line_is_streamed_to_disk_and_fails_alone(ds, fake, llm, tmp_path, online):
    fake.reset(batch_tamper=["huge_line"], huge_bytes=64 * 2 ** 20)
    tracemalloc.start()
    try:
        out, st = run(ds, batched(llm, tmp_path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows_of(out) == online and st.batch["anomalies"] == {"malformed_line": 1}
    assert peak < 40 * 2 ** 20, f"peak {peak / 2 ** 20:.0f} MiB for a 64 MiB output line"


# -- 5: --cancel sends each key only to the jobs made with it ----------------------------------------------------
def test_llm_batches_cancel_sends_each_key_only_to_its_own_jobs(ds, fake, llm, tmp_path, monkeypatch, capsys):
    keys = {"KEY_A": "sk-A-aaaaaaaaaaaa", "KEY_B": "sk-B-bbbbbbbbbbbb"}
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    other = FakeServer()
    try:
        cache = str(tmp_path / "shared.sqlite")
        kill_while_polling(ds, fake, dict(batched(llm, tmp_path), cache=cache, api_key_env="KEY_A"), tmp_path)
        kill_while_polling(ds, other, dict(batched(llm, tmp_path), cache=cache, api_key_env="KEY_B",
                                           base_url=other.base_url), tmp_path)
        a_seen = set(fake.stats()["auth_seen"])
        assert llm_batches("--cache", cache, "--cancel", "--api-key-env", "KEY_A") == 0
        shown = capsys.readouterr().out
        a, b = fake.stats(), other.stats()
        assert a["batch_cancels"] == 1 and b["batch_cancels"] == 0
        assert f"Bearer {keys['KEY_A']}" in a["auth_seen"] and set(a["auth_seen"]) <= a_seen
        assert f"Bearer {keys['KEY_A']}" not in b["auth_seen"]
        assert "KEY_B" in shown and "not cancelled" in shown  # the other job is named, with the key it needs
        assert llm_batches("--cache", cache, "--cancel", "--api-key-env", "KEY_B") == 0
        assert other.stats()["batch_cancels"] == 1
    finally:
        other.stop()


# -- 10: the provider's copies are deleted -------------------------------------------------------------------------
@pytest.mark.parametrize("keep", [False, True])
def test_batch_files_are_deleted_from_the_provider_once_collected(ds, fake, llm, tmp_path, online, keep):
    fake.reset(batch_outcomes=["expired"], batch_expire_after=5)  # an input, an output and an error file
    out, _ = run(ds, batched(llm, tmp_path, keep_files=keep))
    s = fake.stats()
    assert rows_of(out) == online and s["batches"] == 2
    # job 1: input, output, error file; job 2 (its expired lines): input, output
    assert sorted(s["files_deleted"]) == ([] if keep else [f"file-{i:06d}" for i in range(1, 6)])


# -- 11: another config's live job is neither resumed nor polled ------------------------------------------------
def test_a_live_job_of_another_config_is_neither_resumed_nor_polled(ds, fake, llm, tmp_path, online):
    other = FakeServer()
    try:
        cache = str(tmp_path / "shared.sqlite")
        kill_while_polling(ds, fake, dict(batched(llm, tmp_path), cache=cache), tmp_path)
        before = fake.stats()["requests"]
        other.reset()
        out, st = run(ds, dict(batched(llm, tmp_path), cache=cache, base_url=other.base_url))
        assert fake.stats()["requests"] == before  # the first config's server was not asked anything
        assert rows_of(out) == online and other.stats()["batches"] == 1
        # the same prompts under one cache namespace on two servers: still only this config's own jobs
        ns = {"cache": cache, "cache_namespace": "team"}
        kill_while_polling(ds, fake, dict(batched(llm, tmp_path), **ns), tmp_path)
        before = fake.stats()["requests"]
        other.reset()
        out, st = run(ds, dict(batched(llm, tmp_path), **ns, base_url=other.base_url))
        assert fake.stats()["requests"] == before and other.stats()["batches"] == 1 and rows_of(out) == online
    finally:
        other.stop()


# -- issue 25 item 5: batch mode never chats online -------------------------------------------------------------
def test_batch_mode_sends_no_online_chat_and_a_rerun_sends_nothing(ds, fake, llm, tmp_path, online):
    fake.reset(refuse_chat=True, models_status=404)  # a batch-only key on a server without /models
    cfg = batched(llm, tmp_path)
    out, st = run(ds, cfg)
    s = fake.stats()
    assert rows_of(out) == online and s["chat"] == 0 and s["batches"] == 1
    fake.reset(refuse_chat=True)
    out, st = run(ds, cfg)  # nothing left to send: no request at all, not even GET /models
    assert rows_of(out) == online and fake.stats()["requests"] == 0 and st.cache_hits == len(ds)


# -- 25: a job's failure reason reaches the log clean and bounded ------------------------------------------------
def test_a_failed_jobs_reason_reaches_the_log_without_control_characters(ds, fake, llm, tmp_path, caplog):
    evil = "\x1b]0;owned\x07\x1b[2J\x1b[31mbad input\r\n" + "A" * 100_000
    fake.reset(batch_outcomes=["failed"] * 2, batch_fail_message=evil)
    with caplog.at_level(logging.WARNING, "wiki_qa"):
        _, st = run(ds, batched(llm, tmp_path) | {"max_retries": 1})
    assert st.outcomes["failed"] == len(ds)
    lines = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert lines and all("\x1b" not in m and "\x07" not in m and len(m) < 700 for m in lines)


# -- 26: batch files get time in proportion to their size -----------------------------------------------------
def test_a_dripping_file_download_is_cut_off_and_a_slow_one_is_not(fake):
    async def go():
        t = T.Transport(fake.base_url, "sk-x", 1.0, 1)
        try:
            form = T.aiohttp.FormData()
            form.add_field("purpose", "batch")
            form.add_field("file", b"x" * 300_000, filename="f.jsonl")
            f, _ = await t.send_file("/files", form, 300_000)
            fake.configure(file_rate_bps=200_000)  # 1.5 s for 300 kB: over timeout_s, and allowed
            buf = io.BytesIO()
            assert await t.fetch_file(f"/files/{f['id']}/content", buf) == 300_000
            fake.configure(file_rate_bps=50)  # a drip: cut off soon after timeout_s
            t0 = time.monotonic()
            with pytest.raises(T.TransportError, match="timeout"):
                await t.fetch_file(f"/files/{f['id']}/content", io.BytesIO())
            assert time.monotonic() - t0 < 5
        finally:
            await t.close()
    asyncio.run(go())


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_a_batch_file_slower_than_the_request_timeout_still_uploads(real_chunks, fake, llm, tmp_path):
    """A 1.5 MB input at 20 kB/s takes 75 s: past the request timeout (and the old 60 s floor), well above
    the minimum rate. It used to time out and be retried for ever."""
    filler = " ".join(f"Sentence number {i} of the padding says nothing new." for i in range(2400))
    rows = [dict(r, text=f"{r['text']}\n\n{filler}") for r in real_chunks[:12]]
    fake.reset(file_rate_bps=20_000)
    t0 = time.monotonic()
    _, st = run(datasets.Dataset.from_list(rows), batched(llm, tmp_path))
    assert st.outcomes["ok"] == len(rows) and fake.stats()["files"] == 1 and time.monotonic() - t0 > 60
    assert sum(fake.stats()["file_bytes"]) > 1_400_000
