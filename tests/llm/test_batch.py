"""llm.batch: the Batch API (/v1/files + /v1/batches) against the fake server, which moves jobs along on
each status check (never on time)."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import datasets
import pytest

from tests.llm.conftest import FakeServer
from wiki_qa.errors import BuildAborted
from wiki_qa.llm import LLMStats, estimate, generate
from wiki_qa.llm.cache import Cache

PRICE = {"fake-model": {"input_per_1m": 10.0, "output_per_1m": 30.0}}


def rows_of(ds):
    return sorted(ds.to_list(), key=lambda r: r["id"])


@pytest.fixture
def ds(real_chunks):
    return datasets.Dataset.from_list(real_chunks)


@pytest.fixture
def online(ds, fake, llm, tmp_path):
    """The online run's rows and cost, with its own cache."""
    st = LLMStats()
    out = generate(ds, "qa", dict(llm, prices=PRICE, cache=str(tmp_path / "online.sqlite")), stats=st)
    fake.reset()
    return rows_of(out), st.cost_usd


def batched(llm, tmp_path, name="batch", **batch):
    return dict(llm, prices=PRICE, cache=str(tmp_path / f"{name}.sqlite"), batch={"poll_s": 0.01, **batch})


def run(ds, cfg):
    st = LLMStats()
    return generate(ds, "qa", cfg, stats=st), st


def test_same_rows_as_online_at_half_the_cost(ds, fake, llm, tmp_path, online):
    rows, cost = online
    out, st = run(ds, batched(llm, tmp_path))
    s = fake.stats()
    assert rows_of(out) == rows and s["chat"] == 0 and s["batches"] == s["files"] == 1
    assert st.cost_usd == pytest.approx(cost / 2) and st.batch["ok"] == len(ds) and st.requests == len(ds)
    assert st.outcomes == {"ok": len(ds), "partial": 0, "failed": 0} and st.cache_hits == 0
    # --dry-run prices batch mode at the batch rate
    on, off = estimate(ds.to_list(), dict(llm, prices=PRICE)), estimate(ds.to_list(), batched(llm, tmp_path))
    assert off["batch"] and off["cost_usd_est"] == pytest.approx(on["cost_usd_est"] / 2, rel=1e-3)
    # a rerun is served by the cache: nothing submitted
    fake.reset()
    out2, st2 = run(ds, batched(llm, tmp_path))
    assert rows_of(out2) == rows and fake.stats()["batches"] == 0 and st2.cache_hits == len(ds)


def test_num_proc_workers_read_the_batch_replies_and_send_nothing(ds, fake, llm, tmp_path, online):
    fake.reset(batch_outcomes=["expired"], batch_expire_after=10)
    st = LLMStats()
    out = generate(ds, "qa", batched(llm, tmp_path) | {"max_retries": 0}, num_proc=2, stats=st)
    s = fake.stats()  # one round only: the unanswered lines fail their rows in the workers, not online
    assert s["batch_lines"] == [len(ds)] and s["chat"] == 0
    assert st.outcomes == {"ok": 10, "partial": 0, "failed": len(ds) - 10} and st.failures == {"batch_expired": 14}
    assert rows_of(out) == [r for r in online[0] if r["id"].rsplit("/", 2)[0] in set(ds["id"][:10])]


def test_files_respect_the_request_limit_and_spread_over_endpoints(ds, fake, llm, tmp_path, online):
    other = FakeServer()
    try:
        other.reset()
        cfg = {k: v for k, v in batched(llm, tmp_path, max_requests=10).items() if k != "base_url"}
        cfg["endpoints"] = [{"base_url": fake.base_url}, {"base_url": other.base_url}]
        out, st = run(ds, cfg)
        a, b = fake.stats(), other.stats()
        assert rows_of(out) == online[0] and a["batches"] + b["batches"] == 3  # 24 requests, 10 per file
        assert a["batches"] >= 1 and b["batches"] >= 1 and max(a["batch_lines"] + b["batch_lines"]) <= 10
    finally:
        other.stop()


def test_files_respect_the_byte_limit(ds, fake, llm, tmp_path, online):
    limit = 12_000  # a few of these requests (3-4 kB each as JSONL) per file
    out, st = run(ds, batched(llm, tmp_path, max_bytes=limit))
    s = fake.stats()
    assert rows_of(out) == online[0] and s["files"] == s["batches"] > 2
    assert max(s["file_bytes"]) <= limit and sum(s["batch_lines"]) == len(ds)


def test_expired_job_resubmits_only_its_unfinished_lines(ds, fake, llm, tmp_path, online):
    fake.reset(batch_outcomes=["expired"], batch_expire_after=10)
    out, st = run(ds, batched(llm, tmp_path))
    s = fake.stats()
    assert s["batch_lines"] == [len(ds), len(ds) - 10] and rows_of(out) == online[0]
    assert st.batch == {"jobs": 2, "requests": len(ds) + len(ds) - 10, "ok": len(ds), "failed": len(ds) - 10,
                        "cost_usd": pytest.approx(online[1] / 2)}


def test_failed_job_is_resubmitted(ds, fake, llm, tmp_path, online):
    fake.reset(batch_outcomes=["failed"])
    out, st = run(ds, batched(llm, tmp_path))
    assert fake.stats()["batches"] == 2 and fake.stats()["batch_lines"] == [len(ds)]  # the failed one never ran
    assert rows_of(out) == online[0]


@pytest.mark.parametrize("reask", ["batch", "online"])
def test_invalid_replies_are_reasked_in_a_follow_up_batch_or_online(ds, fake, llm, tmp_path, online, reask):
    fake.reset(batch_invalid_first=3)
    out, st = run(ds, batched(llm, tmp_path, reask=reask))
    s = fake.stats()
    if reask == "batch":
        assert s["batch_lines"] == [len(ds), 3] and s["chat"] == 0
    else:
        assert s["batch_lines"] == [len(ds)] and s["chat"] == 3
    assert rows_of(out) == online[0] and st.outcomes["ok"] == len(ds)


def test_reask_online_still_resubmits_expired_lines_in_batch(ds, fake, llm, tmp_path, online):
    """`reask: online` sends only re-asks online: lines an expired job left unanswered go into the next
    job at the batch price, not online at the full one."""
    fake.reset(batch_outcomes=["expired"], batch_expire_after=10, batch_invalid_first=3)
    out, st = run(ds, batched(llm, tmp_path, reask="online"))
    s = fake.stats()
    assert s["batch_lines"] == [len(ds), len(ds) - 10] and s["chat"] == 3  # the 3 invalid replies, online
    assert rows_of(out) == online[0] and st.outcomes["ok"] == len(ds)


def test_lines_that_keep_failing_fail_their_rows_only(ds, fake, llm, tmp_path):
    rows = ds.to_list()[:6]
    rows[0]["text"] += " FAULT_BATCH_ERROR"
    rows[1]["text"] += " FAULT_OVERFLOW"
    out, st = run(datasets.Dataset.from_list(rows), batched(llm, tmp_path, name="f") | {"max_retries": 2})
    assert st.failures == {"http_500": 1, "context_overflow": 1} and st.outcomes["ok"] == 4
    assert fake.stats()["batch_lines"] == [6, 1, 1]  # the 500 line: three rounds; the 400 is final at once
    fake.reset()  # with re-asks online, a line that failed every round is still not sent online
    run(datasets.Dataset.from_list(rows), batched(llm, tmp_path, name="g", reask="online") | {"max_retries": 2})
    assert fake.stats()["batch_lines"] == [6, 1, 1] and fake.stats()["chat"] == 0


def test_max_cost_counts_batches(ds, fake, llm, tmp_path):
    cfg = batched(llm, tmp_path) | {"max_cost_usd": 1e-6}
    with pytest.raises(BuildAborted, match="max_cost_usd"):
        generate(ds, "qa", cfg)
    assert fake.stats()["files"] == 0  # nothing submitted that the budget could not pay


def _other_jobs(fake, n: int) -> None:
    """n jobs of someone else's on the same account, created after ours."""
    import asyncio

    import aiohttp

    from wiki_qa.llm import transport as T

    if not n:
        return

    async def go():
        t = T.Transport(fake.base_url, "sk-other", 10.0, 4)
        fd = aiohttp.FormData()
        fd.add_field("purpose", "batch")
        fd.add_field("file", b"{}\n", filename="other.jsonl")
        f, _ = await t.request("POST", "/files", data=fd)
        for _ in range(n):
            await t.post("/batches", {"input_file_id": f["id"], "endpoint": "/v1/chat/completions"})
        await t.close()
    asyncio.run(go())


@pytest.mark.parametrize("others", [0, 150])
def test_died_between_creating_and_recording_a_job_adopts_it(ds, fake, llm, tmp_path, online, monkeypatch,
                                                             others):
    real = Cache.batch_update
    calls = []

    def dies_once(self, rid, **fields):
        calls.append(fields)
        if len(calls) == 1:
            raise RuntimeError("killed right after the job was created")
        return real(self, rid, **fields)
    monkeypatch.setattr(Cache, "batch_update", dies_once)
    with pytest.raises(RuntimeError):
        generate(ds, "qa", batched(llm, tmp_path))
    monkeypatch.setattr(Cache, "batch_update", real)
    _other_jobs(fake, others)  # ours is then past the first page of the newest 100
    out, _ = run(ds, batched(llm, tmp_path))
    s = fake.stats()
    assert s["batches"] == 1 + others and s["files"] == 1 + bool(others) and rows_of(out) == online[0]


def test_died_after_a_job_finished_before_its_results_were_cached(ds, fake, llm, tmp_path, online, monkeypatch):
    """The job completed at the provider (it is paid for) but the process died before the collecting
    transaction: the rerun downloads its output again instead of submitting the requests again."""
    def dies(self, *a, **kw):
        raise RuntimeError("killed while collecting")
    real = Cache.batch_collect
    monkeypatch.setattr(Cache, "batch_collect", dies)
    with pytest.raises(RuntimeError):
        generate(ds, "qa", batched(llm, tmp_path))
    assert fake.stats()["batch_lines"] == [len(ds)]  # it ran
    monkeypatch.setattr(Cache, "batch_collect", real)
    out, st = run(ds, batched(llm, tmp_path))
    s = fake.stats()
    assert s["batches"] == s["files"] == 1 and s["batch_lines"] == [len(ds)] and s["chat"] == 0
    assert rows_of(out) == online[0] and st.cost_usd == pytest.approx(online[1] / 2) and st.batch["jobs"] == 1


KILL_SCRIPT = """
import json, sys, datasets
from wiki_qa.llm import generate
rows = json.load(open(sys.argv[1]))
generate(datasets.Dataset.from_list(rows), "qa", json.loads(sys.argv[2]))
"""


def _killed_while_polling(ds, fake, cfg, tmp_path):
    """A build killed with SIGKILL while it polls a job the server will not finish."""
    fake.reset(batch_polls=10 ** 9)
    (tmp_path / "rows.json").write_text(json.dumps(ds.to_list()))
    p = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(tmp_path / "rows.json"), json.dumps(cfg)],
                         env=dict(os.environ, PYTHONPATH=os.getcwd()), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while fake.stats()["batch_retrieves"] < 3 and time.monotonic() < deadline:  # polling a created job
        time.sleep(0.05)
    p.kill()  # SIGKILL
    p.wait()
    jobs = sqlite3.connect(cfg["cache"]).execute("SELECT batch_id, collected FROM batches").fetchall()
    assert jobs == [("batch_000001", 0)] and fake.stats()["batches"] == 1


def test_kill_9_while_polling_then_rerun_submits_nothing_new(ds, fake, llm, tmp_path, online):
    cfg = batched(llm, tmp_path)
    _killed_while_polling(ds, fake, cfg, tmp_path)
    fake.configure(batch_polls=2)  # now it finishes; the server keeps its files and jobs
    out, st = run(ds, cfg)
    s = fake.stats()
    assert s["batches"] == 1 and s["files"] == 1 and s["chat"] == 0  # one upload, one job, nothing online
    assert rows_of(out) == online[0] and st.batch["jobs"] == 1 and st.cost_usd == pytest.approx(online[1] / 2)


def test_max_cost_counts_the_resumed_jobs_estimate(ds, fake, llm, tmp_path):
    """A rerun waits for (and pays for) the job it resumes: new requests get only what is left."""
    rows = ds.to_list()
    cfg = batched(llm, tmp_path)
    _killed_while_polling(datasets.Dataset.from_list(rows[:18]), fake, cfg, tmp_path)
    est = sqlite3.connect(cfg["cache"]).execute("SELECT est_cost FROM batches").fetchone()[0]
    assert est > 0
    fake.configure(batch_polls=2)
    with pytest.raises(BuildAborted, match="max_cost_usd"):  # 6 new rows; about 2 fit beside the job
        generate(ds, "qa", cfg | {"max_cost_usd": est * (1 + 2.5 / 18)})
    assert 1 <= fake.stats()["batch_lines"][-1] <= 4 and fake.stats()["batches"] == 2


def test_llm_batches_cli_lists_and_cancels_then_a_rerun_resubmits(ds, fake, llm, tmp_path, online, capsys):
    import argparse

    from wiki_qa.cli import llm as cli

    cfg = batched(llm, tmp_path)
    _killed_while_polling(ds, fake, cfg, tmp_path)
    ap = argparse.ArgumentParser()
    cli.register(ap.add_subparsers())
    for argv in (["llm-batches", "--cache", cfg["cache"]], ["llm-batches", "--cache", cfg["cache"], "--cancel"]):
        args = ap.parse_args(argv)
        assert args.func(args) == 0
    shown = capsys.readouterr().out
    assert "batch_000001  in_progress live" in shown and "batch_000001: cancelling" in shown
    assert fake.stats()["batch_cancels"] == 1
    fake.configure(batch_polls=2)
    out, st = run(ds, cfg)  # the cancelled job answered nothing: its requests go into a new one
    assert fake.stats()["batches"] == 2 and rows_of(out) == online[0] and st.batch["jobs"] == 2


def test_ray_executor_one_submitter_same_rows(ds, fake, llm, tmp_path, online):
    ray = pytest.importorskip("ray")
    from wiki_qa.executor import ray as ray_exec

    rows = ds.to_list()
    feats = ds.features
    dsd = datasets.DatasetDict({s: datasets.Dataset.from_list([dict(r, split=s) for r in rows[i::3]], features=feats)
                                for i, s in enumerate(("train", "val", "test"))})
    if ray.is_initialized():
        ray.shutdown()
    ray_exec.init(None, 2)
    try:
        st = LLMStats()
        out = ray_exec.generate(dsd, {"task": "qa"}, batched(llm, tmp_path, name="ray"), stats=st)
        got = sorted((r for s in out for r in out[s].to_list()), key=lambda r: r["id"])
        assert [dict(r, split=None) for r in got] == [dict(r, split=None) for r in online[0]]
        assert fake.stats()["batches"] == 1 and fake.stats()["chat"] == 0 and st.batch["ok"] == len(ds)
        # lines an expired job left unanswered, with no round left: the actors fail those rows, never
        # sending them online
        fake.reset(batch_outcomes=["expired"], batch_expire_after=10)
        st = LLMStats()
        ray_exec.generate(dsd, {"task": "qa"}, batched(llm, tmp_path, name="ray2") | {"max_retries": 0}, stats=st)
        assert fake.stats()["chat"] == 0 and st.failures == {"batch_expired": len(ds) - 10}
    finally:
        ray.shutdown()
