"""A polite client of one MediaWiki api.php: what the API etiquette asks, enforced in one place.

- one connection, one request at a time, at least MIN_INTERVAL_S between requests;
- `maxlag=5` on every request, and a `maxlag` error (an HTTP 200 with an error body, or a 503) waited
  out for its Retry-After (MediaWiki sends one; else 5 s) before asking again;
- 429 and 5xx retried after Retry-After or an exponential back-off;
- `format=json&formatversion=2` (lists instead of id-keyed objects, booleans as booleans);
- private wikis: a bot password (Special:BotPasswords; WIKI_QA_BOT_USER + WIKI_QA_BOT_PASSWORD) logs in
  with action=login, or a browser session cookie (WIKI_QA_SESSION_COOKIE) is sent as it is. Both values
  are registered with wiki_qa.secrets, so no message, log line or report can show them.
"""
from __future__ import annotations

import asyncio
import os
import time

import aiohttp

from wiki_qa.builders.mediawiki.fetch import http
from wiki_qa.errors import UserError
from wiki_qa.retry_after import retry_after
from wiki_qa.secrets import register_secret

MIN_INTERVAL_S = 0.1
MAXLAG_S = 5
MAXLAG_WAIT_S = 5.0  # when a maxlag answer carries no Retry-After
ATTEMPTS = 8  # maxlag waits included: a lagging cluster usually recovers within a minute
BOT_USER_ENV, BOT_PASSWORD_ENV, COOKIE_ENV = "WIKI_QA_BOT_USER", "WIKI_QA_BOT_PASSWORD", "WIKI_QA_SESSION_COOKIE"


class ApiError(Exception):
    def __init__(self, code: str, info: str):
        super().__init__(f"{code}: {info}")
        self.code, self.info = code, info


class Api:
    def __init__(self, url: str, session: aiohttp.ClientSession):
        self.url, self.s = url, session
        self.requests = 0
        self.maxlag_waits = 0
        self.retries = 0
        self._last = 0.0
        cookie = os.environ.get(COOKIE_ENV)
        register_secret(cookie)
        self.headers = {"Cookie": cookie} if cookie else {}

    async def query(self, **params) -> dict:
        """An action=query request; the parsed JSON (errors raised as ApiError / http.Unavailable)."""
        data = await self.call({"action": "query", **params})
        if not isinstance(data, dict) or not isinstance(data.get("query"), dict):
            raise UserError(f"source.api: {self.url} answered JSON without a 'query' object; is it a MediaWiki "
                            "api.php?")
        return data

    async def call(self, params: dict, post: bool = False) -> dict:
        params = {**{k: _value(v) for k, v in params.items() if v is not None}, "format": "json",
                  "formatversion": "2", "maxlag": str(MAXLAG_S)}
        last = "no answer"
        for attempt in range(ATTEMPTS):
            await self._pace()
            self.requests += 1
            try:
                kw = {"data": params} if post else {"params": params}
                async with self.s.request("POST" if post else "GET", self.url, headers=self.headers, **kw) as r:
                    wait = retry_after(r.headers)
                    body = await r.read()
                    self._last = time.monotonic()  # the pause runs from the end of this answer
                    if r.status in http.RETRY_STATUSES:
                        last = f"HTTP {r.status}"
                        await self._wait(wait, attempt, maxlag=b'"maxlag"' in body)
                        continue
                    if r.status == 404:
                        raise UserError(f"source.api: {self.url} answers 404; give the wiki's api.php (e.g. "
                                        "https://HOST/w/api.php, or https://HOST/api.php on Fandom)")
                    if r.status >= 400:
                        raise http.Unavailable(self.url, f"HTTP {r.status}", r.status)
                    try:
                        data = await asyncio.to_thread(_json, body) if len(body) > 1 << 20 else _json(body)
                    except ValueError:
                        raise UserError(f"source.api: {self.url} did not answer with JSON (HTTP {r.status}, "
                                        f"{r.headers.get('Content-Type')}); is it the wiki's api.php?") from None
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError) as e:
                last = f"{type(e).__name__}: {e}".rstrip(": ")
                if isinstance(e, aiohttp.ClientConnectorError) and attempt + 1 >= http.CONNECT_ATTEMPTS:
                    break
                await self._wait(None, attempt)
                continue
            error = data.get("error") if isinstance(data, dict) else None
            if error:
                if error.get("code") == "maxlag":
                    last = f"maxlag: {error.get('info')}"
                    await self._wait(wait, attempt, maxlag=True)
                    continue
                raise ApiError(str(error.get("code")), str(error.get("info", "")))
            return data
        raise http.Unavailable(self.url, last)

    async def login(self) -> bool:
        """Log in with a bot password from the environment (True), or do nothing without one (False)."""
        user, password = os.environ.get(BOT_USER_ENV), os.environ.get(BOT_PASSWORD_ENV)
        if not user or not password:
            return False
        register_secret(password)
        token = (await self.query(meta="tokens", type="login"))["query"]["tokens"]["logintoken"]
        got = await self.call({"action": "login", "lgname": user, "lgpassword": password, "lgtoken": token},
                              post=True)
        result = (got.get("login") or {}).get("result")
        if result != "Success":
            reason = (got.get("login") or {}).get("reason") or result
            raise UserError(f"source.api: login as {user} failed ({reason}); check {BOT_USER_ENV} and "
                            f"{BOT_PASSWORD_ENV} (a bot password from Special:BotPasswords)")
        return True

    async def _pace(self) -> None:
        gap = self._last + MIN_INTERVAL_S - time.monotonic()
        if gap > 0:
            await asyncio.sleep(gap)
        self._last = time.monotonic()

    async def _wait(self, retry_after: float | None, attempt: int, maxlag: bool = False) -> None:
        if maxlag:
            self.maxlag_waits += 1
        else:
            self.retries += 1
        wait = retry_after if retry_after is not None else (MAXLAG_WAIT_S if maxlag else http.backoff(attempt))
        if wait > http.MAX_WAIT_S:
            raise http.Unavailable(self.url, f"asked to wait {wait:.0f}s")
        await asyncio.sleep(wait)
        self._last = time.monotonic()


def _value(v) -> str:
    if isinstance(v, (list, tuple)):
        return "|".join(str(x) for x in v)
    return str(v)


def _json(body: bytes):
    import json

    return json.loads(body)
