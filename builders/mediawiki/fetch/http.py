"""The one HTTP client of the MediaWiki source's network side (dumps mirrors and api.php): aiohttp.

Why aiohttp: the project already depends on it (the LLM transport); a download is one long stream where
aiohttp's C parser moves bytes with the least Python per MB (bench/fetch.py holds it against a bare aiohttp
download of the same file); `TCPConnector(limit_per_host=2)` is Wikimedia's "at most 2 connections per
host" as a property of the session rather than a promise of the caller; and one event loop fetches a dump
and its index side by side.

Every request carries a User-Agent in the form Wikimedia's policy asks for, `wiki_qa/0.1.0 (+contact)
aiohttp/3.x`: dumps.wikimedia.org blocks generic agents, and the contact is how an operator reaches the
person behind a misbehaving client instead of banning its address range.
"""
from __future__ import annotations

import asyncio
import os
import random
import threading

import aiohttp

from wiki_qa.retry_after import retry_after
from wiki_qa.version import __version__

CONTACT_ENV = "WIKI_QA_CONTACT"
PROJECT_URL = "https://github.com/wiki-qa/wiki_qa"
RETRY_STATUSES = {429, 500, 502, 503, 504}
ATTEMPTS = 5  # per URL and mirror, for answers worth retrying (429, 5xx, a dropped connection)
CONNECT_ATTEMPTS = 2  # a mirror that refuses connections is down: move on soon
BACKOFF_S = 1.0  # first wait without a Retry-After; doubles each time (with jitter)
MAX_WAIT_S = 300.0  # a Retry-After longer than this is not waited out: next mirror


class Unavailable(Exception):
    """A URL that kept failing (refused, reset, 429/5xx) through every attempt. `status` is the last one."""

    def __init__(self, url: str, why: str, status: int | None = None):
        super().__init__(f"{url}: {why}")
        self.url, self.why, self.status = url, why, status


class NotFound(Exception):
    def __init__(self, url: str):
        super().__init__(f"{url}: 404 not found")
        self.url = url


def user_agent(contact: str | None = None) -> str:
    contact = contact or os.environ.get(CONTACT_ENV) or PROJECT_URL
    return f"wiki_qa/{__version__} (+{contact}) aiohttp/{aiohttp.__version__}"


def session(contact: str | None, per_host: int = 2, cookies: bool = False,
            timeout_s: float = 60) -> aiohttp.ClientSession:
    """A session for one fetch: the policy User-Agent, at most `per_host` connections to any host, no
    read that stalls longer than `timeout_s`. trust_env: HTTP(S)_PROXY and NO_PROXY apply as everywhere.
    A 1 MiB read buffer (aiohttp's default is 64 KiB): a multi-GB body in 16x fewer pieces."""
    return aiohttp.ClientSession(read_bufsize=1 << 20,
        connector=aiohttp.TCPConnector(limit_per_host=per_host),
        headers={"User-Agent": user_agent(contact)},
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=timeout_s),
        cookie_jar=aiohttp.CookieJar(unsafe=True) if cookies else aiohttp.DummyCookieJar(), trust_env=True)


def backoff(attempt: int) -> float:
    return BACKOFF_S * 2 ** attempt * (0.5 + random.random() / 2)


async def get_bytes(s: aiohttp.ClientSession, url: str, *, limit: int = 64 << 20) -> bytes:
    """A small document (a listing, dumpstatus.json), retried like every request; NotFound on 404."""
    last: Unavailable | None = None
    for attempt in range(ATTEMPTS):
        try:
            async with s.get(url) as r:
                if r.status == 404:
                    raise NotFound(url)
                if r.status in RETRY_STATUSES:
                    wait = retry_after(r.headers)
                    last = Unavailable(url, f"HTTP {r.status}", r.status)
                    if wait is not None and wait > MAX_WAIT_S:
                        raise last
                    await asyncio.sleep(backoff(attempt) if wait is None else wait)
                    continue
                if r.status >= 400:
                    raise Unavailable(url, f"HTTP {r.status}", r.status)
                body = await r.content.read(limit + 1)
                if len(body) > limit:
                    raise Unavailable(url, f"larger than {limit} bytes")
                return body
        except (aiohttp.ClientConnectorError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError,
                asyncio.TimeoutError) as e:
            last = Unavailable(url, f"{type(e).__name__}: {e}".rstrip(": "))
            if isinstance(e, aiohttp.ClientConnectorError) and attempt + 1 >= CONNECT_ATTEMPTS:
                raise last from None
            await asyncio.sleep(backoff(attempt))
    raise last


def run(coro):
    """Run a coroutine from sync code, also when the caller is inside an event loop (Jupyter): then in a
    thread of its own with a fresh loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    out: dict = {}

    def target():
        try:
            out["value"] = asyncio.run(coro)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            out["error"] = e

    t = threading.Thread(target=target, name="wiki_qa-fetch")
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]
