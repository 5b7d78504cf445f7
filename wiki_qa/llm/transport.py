"""A thin OpenAI-compatible HTTP transport on aiohttp, for the engine's hot path.

Why not the official `openai` client here: measured on this machine against the same local server
(bench/llm_throughput.py, section 2), one chat request costs the client about 2.5 ms of CPU through
`AsyncOpenAI.post` (httpx + httpcore + anyio), 1.5 ms through bare httpx and 0.25 ms through aiohttp. At 320
requests/s on 2 cores the first two leave no CPU for anything else. The engine's behaviour (retries, AIMD,
endpoints, cache) does not depend on the transport: errors are mapped to the same categories the openai
client raises (429, auth, 404, 400 with its message, other statuses, timeouts, connection errors).
The preflight and the Batch API calls go through it too; docs/llm-client.md has the measurements.
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import urllib.parse
import urllib.request
from typing import Any

import aiohttp
from yarl import URL

DEFAULT_BASE_URL = "https://api.openai.com/v1"
log = logging.getLogger("wiki_qa.llm.http")
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


class TransportError(Exception):
    """No HTTP answer at all: `kind` is "timeout" or "connection_error"."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


_BY_STATUS = {429: RateLimited, 401: AuthFailed, 403: AuthFailed, 404: NotFound, 400: BadRequest}


def _message(raw: bytes) -> str:
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")[:500]
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        return str(err.get("message") or err)
    return str(err or data)[:500]


class Transport:
    """One endpoint's keep-alive session, bound to the event loop that first uses it."""

    def __init__(self, base_url: str | None, api_key: str | None, timeout_s: float, limit: int):
        self.base, basic = _split_userinfo((base_url or DEFAULT_BASE_URL).rstrip("/"))
        # aiohttp refuses a URL with credentials next to an Authorization header. Credentials in the URL
        # (a proxy with basic auth in front of a local server) are sent as such when there is no API key.
        auth = basic.encode() if basic and not api_key else f"Bearer {api_key or 'none'}"
        self.headers = {"Authorization": auth, "Accept": "application/json"}
        for env, header in (("OPENAI_ORG_ID", "OpenAI-Organization"), ("OPENAI_PROJECT_ID", "OpenAI-Project")):
            if os.environ.get(env) and self.base == DEFAULT_BASE_URL:
                self.headers[header] = os.environ[env]
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

    async def request(self, method: str, path: str, *, body: dict | None = None, data=None,
                      raw: bool = False) -> tuple[Any, Any]:
        """(decoded JSON, or bytes when raw, or text when the body is not JSON; response headers)."""
        kw = {}
        if body is not None:
            kw["data"] = json.dumps(body, ensure_ascii=False).encode()
            kw["headers"] = {"Content-Type": "application/json"}
        elif data is not None:
            kw["data"] = data
        if self.proxy:
            kw["proxy"] = self.proxy
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = URL(self.base + path) if len(self._urls) < 64 else self.base + path
        try:
            async with self._s().request(method, url, **kw) as r:
                content = await r.read()
                if _DEBUG():  # the CLI's log filter redacts what a URL may carry (keys in the query)
                    log.debug('HTTP Request: %s %s "%s %s"', method, url, r.status, r.reason)
                if r.status >= 400:
                    raise _BY_STATUS.get(r.status, HTTPError)(r.status, _message(content), r.headers)
                if raw:
                    return content, r.headers
                try:
                    return json.loads(content), r.headers
                except ValueError:
                    return content.decode("utf-8", "replace"), r.headers
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as e:
            raise TransportError("timeout", str(e)) from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as e:
            raise TransportError("connection_error", str(e)) from None

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


def _env_proxy(base: str) -> str | None:
    """HTTP(S)_PROXY for this base URL unless NO_PROXY excludes its host (as the openai client does)."""
    parts = urllib.parse.urlsplit(base)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


def retry_after(headers) -> float | None:
    """Seconds to wait from Retry-After-Ms / Retry-After (seconds or an HTTP date)."""
    import email.utils
    import time

    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        v = headers.get(name) if headers else None
        if v:
            try:
                return max(0.0, float(v) * scale)
            except ValueError:
                try:
                    d = email.utils.parsedate_to_datetime(v) if name == "retry-after" else None
                except (TypeError, ValueError):
                    d = None
                if d:
                    return max(0.0, d.timestamp() - time.time())
    return None
