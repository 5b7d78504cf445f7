"""A thin OpenAI-compatible HTTP transport on aiohttp, for the engine's hot path.

Why not the official `openai` client here: measured on this machine against the same local server
(bench/llm_throughput.py, section 2), one chat request costs the client about 2.5 ms of CPU through
`AsyncOpenAI.post` (httpx + httpcore + anyio), 1.5 ms through bare httpx and 0.25 ms through aiohttp. At 320
requests/s on 2 cores the first two leave no CPU for anything else. The engine's behaviour (retries, AIMD,
endpoints, cache) does not depend on the transport: errors are mapped to the same categories the openai
client raises (429, auth, 404, 400 with its message, other statuses, timeouts, connection errors).
The preflight and the Batch API calls go through it too; docs/llm-client.md has the measurements.

What a server may impose is bounded (issue 24, round two): a reply larger than `max_bytes` is cut off
(`ResponseTooLarge`); a 200 that is not JSON is an `InvalidResponse` (retried, never cached); a redirect is
never followed (`Redirected`: the prompts and the key stay with the configured host); proxies from the
environment never apply to loopback servers; waits a server asks for are capped at MAX_SERVER_WAIT_S;
its messages lose control characters and are capped before they reach a terminal; batch files move under
connect/read timeouts and a deadline that grows with their size, not under the request timeout.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import json
import logging
import os
import re
import time
import urllib.parse
import urllib.request
from typing import Any

import aiohttp
from yarl import URL

from wiki_qa.retry_after import retry_after as _retry_after
from wiki_qa.secrets import redact

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MAX_BYTES = 10 * 2 ** 20  # a chat reply of max_tokens=1024 is a few KiB
# The longest wait a server's Retry-After or x-ratelimit-reset can impose (the openai client ignores
# Retry-After over 60 s); longer asks are clamped, and waits over LONG_WAIT_S are logged.
MAX_SERVER_WAIT_S = 120.0
LONG_WAIT_S = 60.0
# Batch files move at least this fast on average (after a grace of the request timeout): 190 MB then
# has over three hours; a server that drips bytes is still cut off.
MIN_TRANSFER_BPS = 16 * 1024
MESSAGE_CHARS = 500  # of a server's error message, as shown in errors and logs
log = logging.getLogger("wiki_qa.llm.http")
wlog = logging.getLogger("wiki_qa")
_DEBUG = functools.partial(log.isEnabledFor, logging.DEBUG)


class HTTPError(Exception):
    """A non-2xx answer: status, the server's message, and its headers (Retry-After, x-ratelimit-*)."""

    def __init__(self, status: int, message: str, headers=None):
        super().__init__(f"{status}: {message}")
        self.status, self.message, self.headers = status, message, headers or {}


class RateLimited(HTTPError):
    pass


class AuthFailed(HTTPError):
    pass


class NotFound(HTTPError):
    pass


class BadRequest(HTTPError):
    pass


class Redirected(HTTPError):
    """A 3xx: never followed (a 307/308 would resend the prompts, and a cross-host one the key, elsewhere)."""


class TransportError(Exception):
    """No usable HTTP answer: `kind` is "timeout", "connection_error", "response_too_large" (over the
    transport's max_bytes) or "invalid_response" (a 200 that is not JSON)."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


class ResponseTooLarge(TransportError):
    def __init__(self, limit: int):
        super().__init__("response_too_large", f"the reply is over {limit} bytes (llm.max_response_bytes)")


class InvalidResponse(TransportError):
    def __init__(self, detail: str = ""):
        super().__init__("invalid_response", detail)


_BY_STATUS = {429: RateLimited, 401: AuthFailed, 403: AuthFailed, 404: NotFound, 400: BadRequest}
# C0/C1 controls (escape sequences, bell, NUL, CR) and the bidi overrides that reorder what a terminal shows
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def shown(text, limit: int = MESSAGE_CHARS) -> str:
    """Server-chosen text as it may reach a terminal or a log: no control characters, at most `limit` chars."""
    text = " ".join(_CONTROL.sub(" ", str(text)).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _message(raw: bytes) -> str:
    raw = raw[:64 * 1024]  # an error page's head says what it is
    try:
        data = json.loads(raw)
    except ValueError:
        return shown(raw.decode("utf-8", "replace"))
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        return shown(err.get("message") or err)
    return shown(err or data)


class Transport:
    """One endpoint's keep-alive session, bound to the event loop that first uses it."""

    def __init__(self, base_url: str | None, api_key: str | None, timeout_s: float, limit: int,
                 max_bytes: int = DEFAULT_MAX_BYTES):
        self.base, basic = _split_userinfo((base_url or DEFAULT_BASE_URL).rstrip("/"))
        # aiohttp refuses a URL with credentials next to an Authorization header. Credentials in the URL
        # (a proxy with basic auth in front of a local server) are sent as such when there is no API key.
        auth = basic.encode() if basic and not api_key else f"Bearer {api_key or 'none'}"
        self.headers = {"Authorization": auth, "Accept": "application/json"}
        for env, header in (("OPENAI_ORG_ID", "OpenAI-Organization"), ("OPENAI_PROJECT_ID", "OpenAI-Project")):
            if os.environ.get(env) and self.base == DEFAULT_BASE_URL:
                self.headers[header] = os.environ[env]
        self.timeout_s, self.max_bytes = timeout_s, max_bytes
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.limit = limit
        self.proxy = _env_proxy(self.base)
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict = {}  # path -> parsed URL: yarl's parse is a visible share of a request's CPU

    def _s(self) -> aiohttp.ClientSession:
        if self._session is None:
            # No trust_env: it looks up proxies and .netrc in a thread on every request. The proxy is
            # resolved once instead (_env_proxy); no cookies either.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.limit + 8, keepalive_timeout=60),
                headers=self.headers, timeout=self.timeout, cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    def _url(self, path: str):
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = URL(self.base + path) if len(self._urls) < 64 else self.base + path
        return url

    @contextlib.asynccontextmanager
    async def _exchange(self, method: str, path: str, **kw):
        """One request's response once its status is known to be 2xx (redirects are errors, never followed);
        timeouts and broken connections, while sending or while the caller reads, become TransportError."""
        kw["allow_redirects"] = False
        if self.proxy:
            kw["proxy"] = self.proxy
        url = self._url(path)
        try:
            async with self._s().request(method, url, **kw) as r:
                if _DEBUG():  # the CLI's log filter redacts what a URL may carry (keys in the query)
                    log.debug('HTTP Request: %s %s "%s %s"', method, url, r.status, r.reason)
                if 300 <= r.status < 400:
                    where = redact(shown(r.headers.get("Location", "nowhere"), 200))
                    raise Redirected(r.status, f"redirect to {where}", r.headers)
                if r.status >= 400:
                    raise _BY_STATUS.get(r.status, HTTPError)(r.status, _message(await self._read(r)), r.headers)
                yield r
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as e:
            raise TransportError("timeout", str(e)) from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as e:
            raise TransportError("connection_error", str(e)) from None

    async def request(self, method: str, path: str, *, body: dict | None = None, data=None,
                      raw: bool = False, timeout: aiohttp.ClientTimeout | None = None) -> tuple[Any, Any]:
        """(decoded JSON, or bytes when raw; response headers). A 200 that is not JSON is InvalidResponse."""
        kw: dict = {}
        if body is not None:
            kw["data"] = json.dumps(body, ensure_ascii=False).encode()
            kw["headers"] = {"Content-Type": "application/json"}
        elif data is not None:
            kw["data"] = data
        if timeout is not None:
            kw["timeout"] = timeout
        async with self._exchange(method, path, **kw) as r:
            content = await self._read(r)
            if raw:
                return content, r.headers
            try:
                return json.loads(content), r.headers
            except ValueError:
                raise InvalidResponse(f"a {r.status} reply that is not JSON "
                                      f"({shown(r.headers.get('Content-Type', 'no type'), 80)})") from None

    async def _read(self, r: aiohttp.ClientResponse) -> bytes:
        """The body, refused past max_bytes without holding more than that (decoded size when compressed)."""
        declared = r.content_length
        if declared is not None and declared > self.max_bytes:
            raise ResponseTooLarge(self.max_bytes)
        if declared is not None and not r.headers.get("Content-Encoding"):
            return await r.read()  # the hot path: one read of a known, small size
        parts, size = [], 0
        async for piece in r.content.iter_chunked(256 * 1024):
            size += len(piece)
            if size > self.max_bytes:
                raise ResponseTooLarge(self.max_bytes)
            parts.append(piece)
        return b"".join(parts)

    async def send_file(self, path: str, form, size: int) -> tuple[Any, Any]:
        """POST a multipart upload of `size` bytes under a connect timeout and a total that grows with the
        size (a 190 MB batch file on a slow uplink must not die at the request timeout). No read timeout:
        aiohttp runs it while the body is still being sent."""
        t = self.timeout_s
        return await self.request("POST", path, data=form, timeout=aiohttp.ClientTimeout(
            total=t + size / MIN_TRANSFER_BPS, sock_connect=t))

    async def fetch_file(self, path: str, out) -> int:
        """GET a file's content into the binary file object `out`, streamed (never whole in memory). The
        server must keep up an average of MIN_TRANSFER_BPS after a grace of the request timeout, so a slow
        link gets time in proportion to the size and a dripping server is still cut off. Returns the bytes."""
        t = self.timeout_s
        t0, got = time.monotonic(), 0
        async with self._exchange("GET", path, timeout=aiohttp.ClientTimeout(total=None, sock_connect=t,
                                                                              sock_read=t)) as r:
            it = r.content.iter_chunked(2 ** 20).__aiter__()
            while True:
                left = t0 + t + got / MIN_TRANSFER_BPS - time.monotonic()
                if left <= 0:
                    raise TransportError("timeout", f"under {MIN_TRANSFER_BPS} bytes/s after {got} bytes")
                try:
                    piece = await asyncio.wait_for(it.__anext__(), left)
                except StopAsyncIteration:
                    return got
                out.write(piece)
                got += len(piece)

    async def post(self, path: str, body: dict) -> tuple[Any, Any]:
        return await self.request("POST", path, body=body)

    async def close(self):
        if self._session is not None:
            await self._session.close()
            self._session = None


def _split_userinfo(url: str) -> tuple[str, aiohttp.BasicAuth | None]:
    u = URL(url)
    if u.user is None and u.password is None:
        return url, None
    return str(u.with_user(None)), aiohttp.BasicAuth(u.user or "", u.password or "")


def public_url(url: str | None) -> str:
    """A base URL as it may be stored, shown or hashed: no userinfo, no query, no trailing slash; None is
    the OpenAI API."""
    u = URL((url or DEFAULT_BASE_URL).strip())
    if u.user is not None or u.password is not None:
        u = u.with_user(None)
    return str(u.with_query(None).with_fragment(None)).rstrip("/")


def _loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _env_proxy(base: str) -> str | None:
    """HTTP(S)_PROXY for this base URL unless NO_PROXY excludes its host (as the openai client does). A
    loopback server (the bundled one, a local vLLM) is never reached through a proxy: every chunk would
    go to the proxy instead."""
    parts = urllib.parse.urlsplit(base)
    if parts.hostname and (_loopback(parts.hostname) or urllib.request.proxy_bypass(parts.hostname)):
        return None
    return urllib.request.getproxies().get(parts.scheme)


def bounded_wait(seconds: float, where: str) -> float:
    """A wait a server asked for, capped at MAX_SERVER_WAIT_S; a long one is logged (a silent week-long
    sleep looks like a hang)."""
    wait = min(seconds, MAX_SERVER_WAIT_S)
    if seconds > LONG_WAIT_S:
        wlog.warning("LLM server %s asks to wait %.0f s; waits %.0f s", where, seconds, wait)
    return wait


def retry_after(headers) -> float | None:
    """The server's Retry-After (wiki_qa/retry_after.py), at most MAX_SERVER_WAIT_S."""
    secs = _retry_after(headers)
    return None if secs is None else min(secs, MAX_SERVER_WAIT_S)
