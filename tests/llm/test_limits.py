"""Requests/tokens-per-minute limits: token buckets against a server that enforces a budget, headers."""
from __future__ import annotations

import asyncio
import time

import datasets
import pytest

from wiki_qa.llm import LLMStats, generate
from wiki_qa.llm.limits import HEADROOM, Limiter, parse_reset

TPM = 1_500_000  # 25k tokens/s: about 50 requests/s of these chunks, a few seconds per test
WARM = 32        # two rounds of concurrency 16: what is sent before the replies taught the estimates
# The server's buckets hold 3 s of budget (a provider counts per minute): on a loaded 2-core test machine the
# server process can be descheduled for a few hundred ms and then meet a backlog of requests at once.
BURST = 3.0


@pytest.fixture
def rows(real_chunks):
    # distinct texts: identical ones would be answered from the cache once the first reply is in
    return datasets.Dataset.from_list([dict(r, id=f"{r['id']}-{k}", text=f"{r['text']} Copy {k}.")
                                       for k in range(10) for r in real_chunks])


def after_warm_up(trace: list[str]) -> float:
    """Share of 429s once the first WARM requests are past."""
    rest = trace[WARM:]
    return rest.count("429") / max(1, len(rest))


def run(ds, llm, tmp_path, name):
    st = LLMStats()
    out = generate(ds, "qa", dict(llm, cache=str(tmp_path / f"{name}.sqlite"), max_retries=8), stats=st)
    return out, st


@pytest.mark.parametrize("limits", [{"tpm": TPM}, {"input_tpm": TPM * 0.8, "output_tpm": TPM * 0.2, "rpm": 3000}],
                         ids=["tpm", "input-output-rpm"])
def test_buckets_keep_429s_under_1_percent_against_an_enforcing_server(rows, fake, llm, tmp_path, limits):
    base, _ = run(rows, llm, tmp_path, "base")
    fake.reset(budget=dict(limits, burst_s=BURST))
    out, st = run(rows, dict(llm, concurrency=16, **limits), tmp_path, "limited")
    trace = fake.stats()["trace"]
    assert len(trace) >= len(rows) and after_warm_up(trace) <= 0.01, [i for i, k in enumerate(trace) if k == "429"]
    assert sum(st.limit_wait_s.values()) > 0  # the budget really bound
    assert sorted(out["id"]) == sorted(base["id"]) and st.outcomes["failed"] == 0
    # without the buckets the same server bounces a large share (AIMD alone reacts after the fact)
    fake.reset(budget=dict(limits, burst_s=BURST))
    run(rows, dict(llm, concurrency=16), tmp_path, "unlimited")
    assert fake.stats()["trace"].count("429") > 0.1 * len(rows)


def test_limits_from_x_ratelimit_headers(rows, fake, llm, tmp_path):
    fake.reset(budget={"tpm": TPM, "headers": True, "burst_s": BURST})
    out, st = run(rows, dict(llm, concurrency=16), tmp_path, "headers")
    trace = fake.stats()["trace"]
    assert after_warm_up(trace) <= 0.01, [i for i, k in enumerate(trace) if k == "429"]
    assert st.limit_wait_s.get("tpm", 0) > 0 and st.outcomes["failed"] == 0


def test_parse_reset_durations():
    assert parse_reset("1s") == 1.0 and parse_reset("6m0s") == 360.0 and parse_reset("20ms") == 0.02
    assert parse_reset("1h2m3.5s") == pytest.approx(3723.5) and parse_reset("0.25") == 0.25
    assert parse_reset(None) is None and parse_reset("soon") is None


def test_limiter_waits_settles_and_follows_headers():
    async def main():
        lim = Limiter({"tpm": 60_000})          # 1000 tokens/s (950 with headroom), one second of burst
        b = lim.buckets["tpm"]
        assert b.capacity == pytest.approx(1000 * HEADROOM)
        waits = {}
        t = await lim.admit(400, 100, waits, 400)  # fits the full bucket at once
        assert waits == {} and b.level == pytest.approx(950 - 500, abs=1)
        lim.settle(t, 300, 50)                  # the reply used fewer: the difference comes back
        assert b.level == pytest.approx(950 - 350, abs=1)
        t0 = time.monotonic()
        await lim.admit(900, 0, waits, 900)     # needs ~300 more tokens: ~0.3 s
        assert 0.2 < time.monotonic() - t0 < 1.0 and waits["tpm"] > 0.2
        # the server says less is left than the bucket thinks: the bucket follows it
        lim.observe({"x-ratelimit-remaining-tokens": "10", "x-ratelimit-limit-tokens": "60000"}, None)
        assert b.level <= 10
        # a 429 empties the buckets instead of handing the tokens back
        lim.buckets["tpm"].level = 500
        lim.throttled(t)
        assert lim.buckets["tpm"].level <= 0
        # with no limits configured, the headers create them
        fresh = Limiter({})
        fresh.observe({"x-ratelimit-limit-requests": "600", "x-ratelimit-remaining-requests": "0",
                       "x-ratelimit-limit-tokens": "6000", "x-ratelimit-remaining-tokens": "5000"}, None)
        assert set(fresh.buckets) == {"rpm", "tpm"} and fresh.buckets["rpm"].level <= 0
        # remaining 0 with only a reset time: blocked until then
        blind = Limiter({})
        blind.observe({"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "200ms"}, None)
        t0 = time.monotonic()
        await blind.admit(10, 0, waits)
        assert time.monotonic() - t0 >= 0.15 and waits.get("server_tokens", 0) > 0
    asyncio.run(main())
