"""generate() end to end against the fault-injecting fake server (tests/servers/fake_openai.py)."""
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time

import datasets
import pytest

from wiki_qa.errors import BuildAborted, UserError
from wiki_qa.llm import LLMStats, estimate, generate
from wiki_qa.llm.engine import AIMD

ALL_FAULTS = {"invalid_json": 0.12, "429": 0.12, "500": 0.12, "length": 0.08, "slow": 0.06, "drop": 0.08}
COLS = ["prompt", "completion", "id", "doc_id", "chunk_id", "title", "url", "lang", "source", "meta", "split"]


def rows_of(ds):
    return sorted(ds.to_list(), key=lambda r: r["id"])


def run(ds, llm, **kw):
    st = LLMStats()
    out = generate(ds, llm=llm, stats=st, **kw)
    return out, st


@pytest.fixture
def ds(real_chunks):
    return datasets.Dataset.from_list(real_chunks)


@pytest.fixture
def baseline(ds, fake, llm, tmp_path_factory):
    """The fault-free output for the same chunks, with its own cache."""
    cache = str(tmp_path_factory.mktemp("base") / "c.sqlite")
    out, st = run(ds, dict(llm, cache=cache))
    assert st.outcomes == {"ok": len(ds), "partial": 0, "failed": 0}
    fake.reset()
    return rows_of(out)


def test_fault_free_columns_ids_and_rerun_sends_nothing(ds, fake, llm):
    out, st = run(ds, llm)
    assert out.column_names == COLS
    ids = out["id"]
    assert len(ids) == len(set(ids)) and len(ids) > len(ds)
    assert all(i.startswith(f"{d}#{c}/qa/") for i, d, c in zip(ids, out["doc_id"], out["chunk_id"]))
    assert st.requests == len(ds) == fake.stats()["chat"] and st.cache_hits == 0
    fake.reset()
    out2, st2 = run(ds, llm)
    assert fake.stats()["chat"] == 0 and st2.requests == 0 and st2.cache_hits == len(ds)
    assert rows_of(out2) == rows_of(out)
    # refresh bypasses the cache
    _, st3 = run(ds, llm, refresh=True)
    assert st3.requests == len(ds) == fake.stats()["chat"]


def test_all_faults_same_output_as_fault_free(ds, fake, llm, baseline):
    fake.reset(faults=ALL_FAULTS, fault_first=list(ALL_FAULTS), slow_s=3.0)
    out, st = run(ds, dict(llm, timeout_s=1.0))
    kinds = fake.stats()["by_kind"]
    for k in ("invalid_json", "429", "500", "length", "slow", "drop"):
        assert kinds.get(k, 0) >= 1, (k, kinds)
    assert st.outcomes == {"ok": len(ds), "partial": 0, "failed": 0}, st.to_json()
    assert st.retries >= sum(kinds.get(k, 0) for k in ALL_FAULTS)
    assert rows_of(out) == baseline
    # and the rerun of this flaky build is free
    fake.reset(faults=ALL_FAULTS)
    out2, st2 = run(ds, dict(llm, timeout_s=1.0))
    assert fake.stats()["chat"] == 0 and rows_of(out2) == baseline


def test_every_chunk_ends_ok_partial_or_failed_with_reason(ds, fake, llm):
    rows = ds.to_list()[:6]
    rows[0]["text"] += " FAULT_OVERFLOW"
    rows[1]["text"] += " FAULT_GARBAGE"
    rows[2]["text"] += " FAULT_PARTIAL"
    out, st = run(datasets.Dataset.from_list(rows), dict(llm, max_retries=2))
    j = st.to_json()
    assert j["outcomes"] == {"ok": 3, "partial": 1, "failed": 2}
    assert j["failures"] == {"context_overflow": 1, "invalid_json": 1}
    assert j["dropped_items"] == {"placeholder_answer": 1, "duplicate_question": 1}
    assert set(out["doc_id"]) == {r["doc_id"] for r in rows[2:]}  # the partial chunk kept its good items
    assert fake.stats()["by_kind"]["invalid_json"] == 3  # garbage: first ask + 2 re-asks


def test_persistent_truncation_fails_the_chunk(ds, fake, llm):
    fake.reset(faults={"length": 1.0}, fault_attempts=99)
    out, st = run(ds.select(range(2)), dict(llm, max_retries=1))
    assert len(out) == 0 and st.failures == {"truncated": 2} and st.requests == 4


def test_retry_after_is_honoured(ds, fake, llm):
    fake.reset(faults={"429": 1.0}, retry_after="0.8")
    t = time.monotonic()
    _, st = run(ds.select(range(3)), llm)
    assert time.monotonic() - t >= 0.8 and st.outcomes["ok"] == 3 and st.retries == 3


def test_aimd_gate_unit():
    async def main():
        g = AIMD(16)
        t0 = time.monotonic()
        g.on_throttle(t0)
        g.on_throttle(t0)  # a request sent before the cut: same signal, no second cut
        assert g.limit == 8
        g.on_throttle(time.monotonic())
        assert g.limit == 4 and g.min_seen == 4
        g.limit = 8.0
        for _ in range(4):
            await g.acquire()
        for _ in range(8 * 4):  # ~1 per `limit` successes
            g.on_success()
        assert 11 <= g.limit <= 13
        for _ in range(1000):
            g.on_success()
        assert g.limit == 16
        # the gate really blocks at the limit
        g2 = AIMD(2)
        await g2.acquire(), await g2.acquire()
        waiter = asyncio.ensure_future(g2.acquire())
        await asyncio.sleep(0.01)
        assert not waiter.done()
        g2.release()
        await asyncio.wait_for(waiter, 1)
    asyncio.run(main())


def test_aimd_backs_off_under_sustained_429(ds, fake, llm):
    fake.reset(max_concurrent=3, latency=0.05, retry_after="0.05")
    many = datasets.Dataset.from_list([dict(r, id=f"{r['id']}-{k}") for k in range(4) for r in ds.to_list()])
    out, st = run(many, dict(llm, concurrency=24, max_retries=8))
    assert st.outcomes["ok"] == len(many)
    assert st.min_concurrency is not None and st.min_concurrency <= 6
    overload = fake.stats()["by_kind"].get("429_overload", 0)
    # without AIMD every wave would bounce ~21 of 24; with it the 429s stay a small share of the traffic
    assert 0 < overload < st.requests / 3, (overload, st.requests)


def test_auth_failure_is_fast_one_line_and_keyless(ds, fake, llm):
    fake.reset(api_key="right-key")
    t = time.monotonic()
    with pytest.raises(UserError) as e:
        generate(ds, llm=llm)
    msg = str(e.value)
    assert time.monotonic() - t < 3 and "401" in msg and "\n" not in msg
    assert "SECRET" not in msg and "right-key" not in msg
    assert fake.stats()["chat"] == 0


def test_unknown_model_and_bad_base_url(ds, fake, llm):
    with pytest.raises(UserError, match="no model 'nope'"):
        generate(ds, llm=dict(llm, model="nope"))
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    t = time.monotonic()
    with pytest.raises(UserError, match="cannot reach"):
        generate(ds, llm=dict(llm, base_url=f"http://127.0.0.1:{port}/v1"))
    assert time.monotonic() - t < 5


def test_json_schema_rejected_falls_back_and_text_mode_parses_fences(ds, fake, llm, baseline):
    fake.reset(reject_json_schema=True)
    out, st = run(ds, llm)
    assert rows_of(out) == baseline and fake.stats()["by_kind"]["reject_schema"] >= 1
    fake.reset()
    out, st = run(ds, dict(llm, response_format="text", cache=os.path.join(os.environ["WIKI_QA_CACHE"], "text.sqlite")))
    assert rows_of(out) == baseline and st.outcomes["ok"] == len(ds)


def test_num_proc_matches_and_stats_aggregate_across_workers(ds, fake, llm, baseline):
    fake.reset(faults={"500": 0.2})
    out, st = run(ds, llm, num_proc=2)
    assert rows_of(out) == baseline
    assert st.outcomes["ok"] == len(ds) and st.requests == fake.stats()["chat"]


def test_inside_a_running_event_loop(ds, fake, llm, baseline):
    async def notebook_cell():
        return generate(ds, llm=llm)
    assert rows_of(asyncio.run(notebook_cell())) == baseline


def test_max_cost_stops_cleanly_and_cache_keeps_what_was_paid(ds, fake, llm):
    priced = dict(llm, concurrency=2, max_cost_usd=0.5,
                  prices={"fake-model": {"input_per_1m": 1000.0, "output_per_1m": 1000.0}})
    fake.reset(latency=0.05)
    with pytest.raises(BuildAborted, match="max_cost_usd"):
        generate(ds, llm=priced)
    sent = fake.stats()["chat"]
    assert 1 <= sent <= 4  # each request costs > $0.5: stops after the first wave
    db = sqlite3.connect(os.path.join(os.environ["WIKI_QA_CACHE"], "llm.sqlite"))
    cached = db.execute("select count(*) from responses").fetchone()[0]
    assert cached == sent


def test_estimate_offline(real_chunks):
    e = estimate(real_chunks, {"model": "gpt-4o-mini", "task": "qa"})
    assert e["requests"] == len(real_chunks) and e["priced"]
    assert e["prompt_tokens"] > sum(len(r["text"]) for r in real_chunks) / 6
    assert e["cost_usd_est"] == pytest.approx(
        (e["prompt_tokens"] * 0.15 + e["completion_tokens_est"] * 0.6) / 1e6, abs=1e-6)
    e2 = estimate(real_chunks, {"model": "my-model", "prices": {"my-model": {"input_per_1m": 1, "output_per_1m": 1}}})
    assert e2["priced"] and e2["cost_usd_est"] > 0
    assert not estimate(real_chunks[:1], {"model": "unknown-x"})["priced"]


KILL_SCRIPT = """
import json, sys, datasets
from wiki_qa.llm import generate
rows = json.load(open(sys.argv[1]))
generate(datasets.Dataset.from_list(rows), llm=json.loads(sys.argv[2]))
"""


def test_cache_writes_of_one_loop_turn_share_one_commit(tmp_path, monkeypatch):
    """The engine's writes are group-committed, and a waiter is released only once its write is durable
    (visible to another connection); a failed transaction fails every waiter and keeps nothing."""
    from wiki_qa.llm.cache import Cache

    commits = []
    real = Cache._commit
    monkeypatch.setattr(Cache, "_commit", lambda self, local: (commits.append(len(local.buf)), real(self, local)))
    cache = Cache(str(tmp_path / "c.sqlite"))
    other = lambda: sqlite3.connect(cache.path).execute("select count(*) from responses").fetchone()[0]  # noqa

    async def main():
        await asyncio.gather(*(cache.aput(f"k{i}", {"content": str(i)}) for i in range(50)))
        seen = other()
        rec = {"outcome": "ok", "requests": 1, "cache_hits": 0, "retries": 0, "prompt_tokens": 1,
               "completion_tokens": 1, "cost": 0.0, "waits": {}}
        bad = {k: v for k, v in rec.items() if k != "requests"}  # fails inside the shared transaction
        results = await asyncio.gather(cache.aput("k-late", {"content": "x"}), cache.alog_chunk("r", "c", bad),
                                       return_exceptions=True)
        return seen, results
    seen, results = asyncio.run(main())
    assert commits == [50, 2] and seen == 50
    assert all(isinstance(r, KeyError) for r in results) and other() == 50  # rolled back together


def test_rows_are_prepared_a_few_per_slot_ahead_not_all_at_once(real_chunks, fake, llm, monkeypatch):
    """Building prompts and reading the cache for every row of the map up front would hold the first
    replies behind that work; rows wait at a gate of ROWS_PER_SLOT per slot (at least 64) instead."""
    from wiki_qa.llm import engine as E
    from wiki_qa.llm import transport as T
    from wiki_qa.llm.tasks import TASKS

    Task = TASKS["qa"]
    rows = [dict(r, id=f"{r['id']}-{k}", text=f"{r['text']} Copy {k}.") for k in range(12) for r in real_chunks]
    built, at_first_reply = [0], []
    prompt, post = Task.prompt, T.Transport.post

    def counting_prompt(self, row):
        built[0] += 1
        return prompt(self, row)

    async def noting_post(self, path, body):
        out = await post(self, path, body)
        if not at_first_reply:
            at_first_reply.append(built[0])
        return out
    monkeypatch.setattr(Task, "prompt", counting_prompt)
    monkeypatch.setattr(T.Transport, "post", noting_post)
    fake.reset(latency=0.3)
    out, st = run(datasets.Dataset.from_list(rows), dict(llm, concurrency=16))
    assert st.outcomes["ok"] == len(rows) == 288 and built[0] >= len(rows)
    assert 16 <= at_first_reply[0] <= max(64, E.ROWS_PER_SLOT * 16)


@pytest.mark.slow  # make test-fast leaves it out
@pytest.mark.parametrize("concurrency", [2, 8])
def test_resume_after_kill_9(ds, fake, llm, baseline, tmp_path, concurrency):
    """Killed mid-run, a build loses at most the requests in flight: a reply keeps its concurrency slot
    until the group commit holding it is done."""
    fake.reset(latency=0.25)
    cache = os.path.join(os.environ["WIKI_QA_CACHE"], "llm.sqlite")
    (tmp_path / "rows.json").write_text(json.dumps(ds.to_list()))
    cfg = dict(llm, concurrency=concurrency)
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    p = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(tmp_path / "rows.json"), json.dumps(cfg)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = 0
    deadline = time.monotonic() + 60
    while done < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
        if os.path.exists(cache):
            try:
                done = sqlite3.connect(cache).execute("select count(*) from responses").fetchone()[0]
            except sqlite3.OperationalError:
                pass
    p.kill()  # SIGKILL
    p.wait()
    cached = sqlite3.connect(cache).execute("select count(*) from responses").fetchone()[0]
    sent_before = fake.stats()["chat"]
    assert 6 <= cached < len(ds) and sent_before - cached <= concurrency  # at most the in-flight ones lost
    fake.reset(latency=0.0)
    out, st = run(ds, llm)
    assert st.cache_hits == cached and st.requests == len(ds) - cached
    assert rows_of(out) == baseline
