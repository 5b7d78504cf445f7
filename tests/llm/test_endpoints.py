"""generate.endpoints: least-busy routing over several servers and the per-endpoint circuit breaker."""
import asyncio
import time

import datasets
import pytest

from tests.llm.conftest import FakeServer
from wiki_qa.errors import UserError
from wiki_qa.llm import LLMStats, generate
from wiki_qa.llm.endpoints import Endpoint, Router, Slot
from wiki_qa.llm.engine import AIMD


def _router(n, threshold=2, cooldown=0.2, limit=2):
    return Router([Slot(i, Endpoint(f"http://e{i}", None, limit), [], AIMD(limit), None, threshold, cooldown)
                   for i in range(n)])


def test_router_least_busy_breaker_and_probe():
    async def main():
        r = _router(2)
        a = await r.acquire()
        b = await r.acquire()
        assert a is not b  # the idle endpoint wins over the busy one
        r.release(a), r.release(b)
        # endpoint 0 fails twice: out of rotation, every request goes to endpoint 1
        s0 = r.slots[0]
        r.failed(s0), r.failed(s0)
        assert s0.tripped and not s0.usable(time.monotonic())
        got = [await r.acquire() for _ in range(2)]
        assert all(s is r.slots[1] for s in got)
        # both of endpoint 1's slots are taken: the next request waits for the cooldown, then probes 0
        t = time.monotonic()
        probe = await asyncio.wait_for(r.acquire(), 2)
        assert probe is s0 and time.monotonic() - t >= 0.1
        r.ok(s0)
        assert not s0.tripped
        for s in got + [probe]:
            r.release(s)
        # the only endpoint is never taken out of rotation
        one = _router(1)
        for _ in range(5):
            one.failed(one.slots[0])
        assert (await one.acquire()) is one.slots[0]
    asyncio.run(main())


@pytest.fixture
def second_server():
    s = FakeServer()
    s.reset()
    yield s
    s.stop()


def test_requests_spread_over_endpoints_same_output(real_chunks, fake, llm, second_server, tmp_path):
    ds = datasets.Dataset.from_list(real_chunks)
    fake.reset(latency=0.05)
    second_server.reset(latency=0.05)
    base = generate(ds, llm=dict(llm, cache=str(tmp_path / "a.sqlite")))
    fake.reset(latency=0.05)
    st = LLMStats()
    cfg = {k: v for k, v in llm.items() if k != "base_url"}
    out = generate(ds, llm=dict(cfg, cache=str(tmp_path / "b.sqlite"), endpoints=[
        {"base_url": fake.base_url, "concurrency": 2}, {"base_url": second_server.base_url, "concurrency": 2}]),
        stats=st)
    a, b = fake.stats()["chat"], second_server.stats()["chat"]
    assert a + b == len(ds) and a >= 4 and b >= 4, (a, b)
    assert st.outcomes["ok"] == len(ds)
    assert sorted(out.to_list(), key=lambda r: r["id"]) == sorted(base.to_list(), key=lambda r: r["id"])


def test_rate_limit_paces_requests(real_chunks, fake, llm, tmp_path):
    ds = datasets.Dataset.from_list(real_chunks[:6])
    t = time.monotonic()
    generate(ds, llm=dict(llm, rate_limit=20.0, cache=str(tmp_path / "r.sqlite")))
    assert fake.stats()["chat"] == 6 and time.monotonic() - t >= 0.25  # 6 requests at 20/s: >= 5 gaps


def test_all_endpoints_unreachable_is_one_line(real_chunks, fake, llm):
    ds = datasets.Dataset.from_list(real_chunks[:2])
    cfg = {k: v for k, v in llm.items() if k != "base_url"}
    with pytest.raises(UserError, match="cannot reach"):
        generate(ds, llm=dict(cfg, endpoints=[{"base_url": "http://127.0.0.1:9/v1"},
                                              {"base_url": "http://127.0.0.1:7/v1"}]))
