"""Issue 24, round two: the online engine and its transport against hostile or broken servers on 127.0.0.1
(the fault-injecting fake server, the logging stub as the "other host" or the proxy). docs/security.md,
"Round two: the LLM engine, batch and cache", lists each finding with its test here."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
import tracemalloc

import datasets
import pytest

from tests.llm.conftest import FakeServer
from tests.security.openai_stub import OpenAIStub
from wiki_qa.errors import BuildAborted, UserError
from wiki_qa.llm import LLMStats, generate
from wiki_qa.llm import limits as L
from wiki_qa.llm import transport as T

PRICE = {"fake-model": {"input_per_1m": 10.0, "output_per_1m": 30.0}}


def rows_of(ds):
    return sorted(ds.to_list(), key=lambda r: r["id"])


def run(ds, llm, **kw):
    st = LLMStats()
    return generate(ds, "qa", llm, stats=st, **kw), st


@pytest.fixture
def ds(real_chunks):
    return datasets.Dataset.from_list(real_chunks[:6])


@pytest.fixture
def baseline(ds, fake, llm, tmp_path_factory):
    """The fault-free rows of the same chunks, from their own cache."""
    out, _ = run(ds, dict(llm, cache=str(tmp_path_factory.mktemp("base") / "c.sqlite")))
    fake.reset()
    return rows_of(out)


def cached_bodies(path) -> list[str]:
    return [r[0] for r in sqlite3.connect(path).execute("SELECT body FROM responses")]


# -- 6: the cache key names the server ---------------------------------------------------------------------
def test_two_servers_serving_the_same_model_name_do_not_share_answers(ds, fake, llm, tmp_path):
    cfg = dict(llm, cache=str(tmp_path / "shared.sqlite"))
    run(ds, cfg)
    other = FakeServer()
    try:
        other.reset()
        out, st = run(ds, dict(cfg, base_url=other.base_url))
        assert other.stats()["chat"] == len(ds) and st.cache_hits == 0  # asked, not served from A's replies
        # a credential in the URL or a trailing slash is not part of the server's identity
        fake.reset()
        _, st = run(ds, dict(cfg, base_url=fake.base_url.replace("://", "://user:pw@") + "/"))
        assert fake.stats()["chat"] == 0 and st.cache_hits == len(ds)
        # an explicit namespace shares answers between two servers on purpose
        _, st = run(ds, dict(cfg, cache_namespace="replicas"))
        _, st = run(ds, dict(cfg, base_url=other.base_url, cache_namespace="replicas"))
        assert st.cache_hits == len(ds) and other.stats()["chat"] == len(ds)
    finally:
        other.stop()


def test_provider_local_sends_and_keys_the_served_alias_not_gpt_4o_mini(ds, fake, llm, tmp_path, monkeypatch):
    """`provider: local` with `model:` left at its default: the bundled server's replies must never be filed
    under gpt-4o-mini's keys, where a later real build would reuse them silently."""
    from wiki_qa.llm import local_server

    seen = {}

    @contextlib.contextmanager
    def serve(parallel=4, timeout_s=120, model=None):  # the fake server stands in for llama.cpp here
        seen["model"] = model
        yield local_server.Served(fake.base_url, "local-key-123")
    monkeypatch.setattr(local_server, "serve", serve)
    fake.reset(models=[local_server.DEFAULT_MODEL], api_key="local-key-123")
    cache = str(tmp_path / "c.sqlite")
    out, st = run(ds, {"provider": "local", "cache": cache, "max_retries": 1, "timeout_s": 5})
    assert st.outcomes["ok"] == len(ds) and st.cost_usd == 0.0  # sent as the alias, with the server's key
    # a real build of gpt-4o-mini with the same cache asks its own server
    fake.reset(models=["gpt-4o-mini"])
    _, st = run(ds, {"model": "gpt-4o-mini", "base_url": fake.base_url, "cache": cache})
    assert fake.stats()["chat"] == len(ds) and st.cache_hits == 0


# -- 7: server-chosen waits are bounded ---------------------------------------------------------------------
def test_retry_after_and_ratelimit_headers_are_clamped_and_nonsense_ignored(caplog):
    cap = T.MAX_SERVER_WAIT_S
    assert cap <= 120
    assert T.retry_after({"retry-after": "1000000"}) == cap
    assert T.retry_after({"retry-after-ms": "1e12"}) == cap
    assert T.retry_after({"retry-after": "Wed, 01 Jan 2200 00:00:00 GMT"}) == cap
    for bad in ("inf", "-inf", "nan", "-5"):
        assert T.retry_after({"retry-after": bad}) is None, bad
    assert T.retry_after({"retry-after": "2.5"}) == 2.5
    assert L.parse_reset("1m30s") == 90.0 and L.parse_reset("inf") is None
    lim = L.Limiter({"tpm": 60_000})
    for headers in ({"x-ratelimit-remaining-tokens": "-1e15", "x-ratelimit-limit-tokens": "inf"},
                    {"x-ratelimit-remaining-tokens": "nan", "x-ratelimit-limit-tokens": "1e-9"}):
        lim.observe(headers, None)
    b = lim.buckets["tpm"]
    assert b.rate * 60 == pytest.approx(60_000 * L.HEADROOM) and b.wait(100, time.monotonic()) < 1.0
    lim = L.Limiter({})
    lim.observe({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "100000h"}, None)
    assert lim.blocked_until["requests"] - time.monotonic() <= cap
    with caplog.at_level(logging.WARNING, "wiki_qa"):
        assert T.bounded_wait(1e6, "http://x") == cap
    assert "waits 120 s" in caplog.text


@pytest.mark.timeout(120)
def test_one_429_with_retry_after_1000000_does_not_park_the_build(ds, fake, llm, baseline, monkeypatch):
    monkeypatch.setattr(T, "MAX_SERVER_WAIT_S", 1.0, raising=False)  # the clamp, at test speed
    fake.reset(fault_first=["retry_after_huge"])
    t0 = time.monotonic()
    out, st = run(ds, dict(llm, max_retries=2))
    assert rows_of(out) == baseline and st.rate_limited == 1 and time.monotonic() - t0 < 60


# -- 8 and 19: replies that are too big or not a chat completion ---------------------------------------------
def test_a_huge_reply_is_cut_at_max_response_bytes_and_never_cached(ds, fake, llm, baseline, tmp_path):
    fake.reset(fault_first=["huge"], huge_bytes=64 * 2 ** 20)
    cache = str(tmp_path / "c.sqlite")
    tracemalloc.start()
    try:
        out, st = run(ds, dict(llm, cache=cache))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows_of(out) == baseline and st.outcomes["ok"] == len(ds)
    assert peak < 40 * 2 ** 20, f"peak {peak / 2 ** 20:.0f} MiB for a 64 MiB reply"
    assert max(len(b) for b in cached_bodies(cache)) < 100_000


def test_odd_200_replies_are_retried_not_cached_and_usage_is_read_safely(ds, fake, llm, baseline, tmp_path):
    fake.reset(fault_first=["html200", "usage_strings", "usage_negative"])
    cache = str(tmp_path / "c.sqlite")
    out, st = run(ds, dict(llm, cache=cache, prices=PRICE))
    assert rows_of(out) == baseline and st.outcomes["ok"] == len(ds)
    assert fake.stats()["by_kind"]["html200"] == 1
    bodies = cached_bodies(cache)
    assert len(bodies) == len(ds) and not any("<html" in b for b in bodies)  # one reply per chunk, all JSON
    assert st.prompt_tokens > 0 and st.completion_tokens > 0 and st.cost_usd > 0


def test_a_negative_usage_cannot_cancel_out_the_spending_under_max_cost_usd(real_chunks, fake, llm):
    ds = datasets.Dataset.from_list(real_chunks)
    fake.reset(fault_first=["usage_negative"])
    with pytest.raises(BuildAborted, match="max_cost_usd"):
        run(ds, dict(llm, prices=PRICE, max_cost_usd=0.05, concurrency=2))
    assert fake.stats()["chat"] < len(ds)


# -- 20: redirects are not followed -------------------------------------------------------------------------
def test_a_redirect_is_a_config_error_and_the_prompts_never_reach_the_other_host(ds, fake, llm):
    with OpenAIStub(status=200) as other:
        fake.reset(redirect_all=other.base_url)
        with pytest.raises(UserError, match="redirect"):
            run(ds, llm)
        assert other.requests == []  # neither the prompts nor the key


# -- 21: no proxy for loopback ------------------------------------------------------------------------------
def test_a_proxy_in_the_environment_is_never_used_for_a_loopback_server(ds, fake, llm, baseline, monkeypatch):
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with OpenAIStub(status=200) as proxy:
        proxy_url = f"http://127.0.0.1:{proxy.port}"
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
            monkeypatch.setenv(name, proxy_url)
        out, _ = run(ds, llm)
        assert rows_of(out) == baseline and proxy.requests == []
        assert T._env_proxy("http://localhost:8080/v1") is None and T._env_proxy("http://[::1]:80/v1") is None
        assert T._env_proxy("http://llm.example.org/v1") == proxy_url  # other hosts still use it


# -- 25: server text reaches the terminal clean and bounded ------------------------------------------------
def test_server_messages_lose_control_characters_and_are_capped():
    evil = "\x1b]0;owned\x07\x1b[2J\x1b[31mIncorrect key\r\n\x00" + "A" * 100_000
    msg = T._message(json.dumps({"error": {"message": evil}}).encode())
    assert "\x1b" not in msg and "\x07" not in msg and "\x00" not in msg and "\r" not in msg
    assert msg.startswith("]0;owned") is False and "Incorrect key" in msg and len(msg) <= 600
    assert len(T._message(evil.encode())) <= 600 and "\x1b" not in T._message(evil.encode())


# -- Already holding (issue 24): keep them held ---------------------------------------------------------------
def test_a_key_with_a_line_break_is_refused_not_sent_as_a_header(ds, fake, llm, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test\r\nX-Injected: yes")
    with pytest.raises((UserError, ValueError)):
        run(ds, llm)
    assert fake.stats()["requests"] == 0


def test_a_dripping_chat_server_times_out(ds, fake, llm, baseline):
    """The chat path keeps a total deadline: a reply dripped one piece at a time cannot hold a request."""
    fake.reset(fault_first=["drip"])
    t0 = time.monotonic()
    out, st = run(ds, dict(llm, timeout_s=1.0))
    assert rows_of(out) == baseline and st.retries >= 1 and time.monotonic() - t0 < 30


def test_tls_certificates_are_verified(ds, llm, tmp_path, monkeypatch):
    """A self-signed HTTPS server on 127.0.0.1: the transport refuses it rather than send it the key."""
    from tests.servers.tls_server import SelfSignedServer

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-123")
    with SelfSignedServer(tmp_path) as srv:
        with pytest.raises(UserError, match="cannot reach"):
            run(ds, dict(llm, base_url=srv.base_url))
        assert srv.requests == 0 and srv.handshakes >= 1


def test_redirect_transport_unit():
    """A 3xx is a Redirected error naming where it pointed (redacted), never followed."""
    async def go():
        with OpenAIStub(status=200) as other:
            fake = FakeServer()
            try:
                fake.reset(redirect_all=other.base_url.replace("://", "://u:secret@"))
                t = T.Transport(fake.base_url, "sk-x", 5.0, 1)
                try:
                    with pytest.raises(T.Redirected) as e:
                        await t.request("GET", "/models")
                finally:
                    await t.close()
                assert e.value.status == 307 and "secret" not in str(e.value) and other.requests == []
            finally:
                fake.stop()
    asyncio.run(go())


def _command_lines(marker: str) -> str:
    from pathlib import Path

    lines = []
    for f in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = f.read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if marker in line:
            lines.append(line)
    assert lines, f"no process running {marker}"
    return "\n".join(lines)


# -- 27: the bundled server asks for a key made for the run -----------------------------------------------------
@pytest.mark.slow
def test_the_bundled_server_refuses_requests_without_its_random_key(monkeypatch):
    import urllib.error
    import urllib.request

    pytest.importorskip("xllamacpp")
    from wiki_qa.llm import local_server
    try:
        local_server.model_path()
    except UserError as e:
        pytest.skip(str(e))
    monkeypatch.setenv("WIKI_QA_LLM_THREADS", "1")
    body = json.dumps({"model": local_server.DEFAULT_MODEL, "max_tokens": 2,
                       "messages": [{"role": "user", "content": "Hi"}]}).encode()

    def status(url, key):
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
        try:
            return urllib.request.urlopen(urllib.request.Request(url + "/chat/completions", body, headers),
                                          timeout=120).status
        except urllib.error.HTTPError as e:
            return e.code
    with local_server.serve(parallel=1) as (url, key):
        assert len(key) > 30 and key not in _command_lines("wiki_qa.llm.local_server")  # not visible to `ps`
        assert status(url, None) == 401 and status(url, "none") == 401
        assert status(url, key) == 200
    with local_server.serve(parallel=1) as (_, key2):
        assert key2 != key  # a new key for every server
