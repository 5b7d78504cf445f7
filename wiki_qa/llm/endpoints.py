"""Several OpenAI-compatible endpoints behind one engine: least-busy routing, per-endpoint concurrency
(AIMD) and rate limit, and a circuit breaker that takes a failing endpoint out of rotation.

`Endpoint` is the resolved, picklable description (URL, key, limits); `Slot` is its per-event-loop state
(transport, gate, pacing, health); `Router` picks a slot for each request. A single `base_url` is one
endpoint that is never taken out of rotation, so the single-server behaviour is unchanged. `identity` is the
server part of every response cache key; `check` / `check_all` are the preflight (key, model), which the
engine runs before its first request that must be sent and batch mode runs without any chat request.
"""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import os
import random
import time
from dataclasses import dataclass, field

from wiki_qa.errors import UserError
from wiki_qa.llm import transport as T

log = logging.getLogger("wiki_qa")


@dataclass
class Endpoint:
    base_url: str | None
    api_key: str | None
    concurrency: int
    rate_limit: float | None = None  # requests/s, whole run
    api_key_env: str = "OPENAI_API_KEY"
    healthy: bool = True             # False: failed the preflight, starts out of rotation
    limits: dict = field(default_factory=dict)  # rpm/tpm/input_tpm/output_tpm per minute, whole run

    @property
    def name(self) -> str:
        return self.base_url or "api.openai.com"


def resolve(cfg) -> list[Endpoint]:
    """llm.endpoints (or the single base_url / $OPENAI_BASE_URL) with keys read from the environment."""
    if cfg.endpoints:
        out = []
        for e in cfg.endpoints:
            env = e.api_key_env or cfg.api_key_env
            out.append(Endpoint(e.base_url, os.environ.get(env), e.concurrency or cfg.concurrency, e.rate_limit, env,
                                limits=e.limits()))
        return out
    return [Endpoint(cfg.base_url or os.environ.get("OPENAI_BASE_URL"), os.environ.get(cfg.api_key_env),
                     cfg.concurrency, cfg.rate_limit, cfg.api_key_env, limits=cfg.limits())]


def identity(cfg, endpoints: list[Endpoint]) -> str:
    """The server part of every response cache key: replies of one server are never served for another.
    `llm.cache_namespace` when set; the bundled server (its port changes each run) as "local"; else the
    base URLs without credentials, query or trailing slash (several endpoints are replicas of one model)."""
    if cfg.cache_namespace:
        return f"namespace:{cfg.cache_namespace}"
    if cfg.provider == "local":
        return "local"
    return " ".join(sorted({T.public_url(ep.base_url) for ep in endpoints}))


class Unreachable(UserError):
    """The preflight could not connect: with other endpoints left, the build goes on without this one."""


async def check(cfg, ep: Endpoint, *, chat: bool = True, timeout_s: float = 10.0) -> None:
    """Fail in seconds, with one line, on a bad key / base_url / model, before any chunk is sent. A model
    that /models does not list is tried with a 1-token chat request, unless `chat` is False (batch mode:
    a batch-only key may not chat, and a 403 on /models only means it may not list either)."""
    where = ep.name
    if not ep.api_key and not ep.base_url:
        raise UserError(f"no API key: set ${ep.api_key_env} (or llm.base_url for a local server)")
    t = T.Transport(ep.base_url, ep.api_key, timeout_s, 2)
    try:
        try:
            data, _ = await t.request("GET", "/models")
            ids = {m.get("id") for m in data.get("data", []) if isinstance(m, dict)} \
                if isinstance(data, dict) and isinstance(data.get("data"), list) else set()
        except (T.NotFound, T.InvalidResponse):
            ids = set()  # some servers have no /models; the 1-token call below decides
        except T.AuthFailed as e:
            if chat or e.status != 403:
                raise
            ids = set()
        if cfg.model not in ids:
            if chat:
                await t.post("/chat/completions", {"model": cfg.model, "max_tokens": 1,
                                                   "messages": [{"role": "user", "content": "ping"}]})
            elif ids:
                log.warning("LLM server %s does not list model %r; the batch job will say whether it has it",
                            where, cfg.model)
    except T.AuthFailed as e:
        raise UserError(f"LLM server {where} refused the credentials ({e.status}); check ${ep.api_key_env}") \
            from None
    except T.NotFound:
        raise UserError(f"LLM server {where} has no model {cfg.model!r}") from None
    except T.Redirected as e:
        raise redirected(where, e) from None
    except T.TransportError:
        raise Unreachable(f"cannot reach LLM server at {where}: check llm.base_url") from None
    except T.HTTPError as e:
        if e.status >= 500 or e.status == 429:
            return  # a busy/flaky server is the engine's job, not a config error
        raise UserError(f"LLM server {where} rejected a test request ({e.status})") from None
    finally:
        await t.close()


def redirected(where: str, e: T.HTTPError) -> UserError:
    return UserError(f"LLM server {where} answered with a {e.message} ({e.status}); redirects are not followed "
                     "(they would send the prompts and the key elsewhere): set llm.base_url to the final URL")


def preflight(cfg, base_url, api_key, timeout_s: float = 10.0) -> None:
    """`check` for one server from synchronous code (a thread of its own: works inside a running loop)."""
    ep = Endpoint(base_url, api_key, 1, api_key_env=cfg.api_key_env)
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        ex.submit(asyncio.run, check(cfg, ep, timeout_s=timeout_s)).result()


async def check_all(cfg, endpoints: list[Endpoint], *, chat: bool = True) -> list[Endpoint]:
    """Check every endpoint at once. Credentials/model errors stop the build; an unreachable endpoint among
    several is marked unhealthy (out of rotation; the breaker probes it later). All unreachable: the first
    error. Returns the endpoints that could not be reached."""
    results = await asyncio.gather(*(check(cfg, ep, chat=chat) for ep in endpoints), return_exceptions=True)
    down = []
    for ep, r in zip(endpoints, results):
        if isinstance(r, Unreachable):
            down.append((ep, r))
        elif isinstance(r, BaseException):
            raise r
    if down and (len(endpoints) == 1 or len(down) == len(endpoints)):
        raise down[0][1]
    for ep, err in down:
        ep.healthy = False
        log.warning("%s; starting without it", err)
    return [ep for ep, _ in down]


class Slot:
    """One endpoint as seen from one event loop: transport, AIMD gate, pacing and health."""

    def __init__(self, index: int, ep: Endpoint, transport, gate, rate: float | None, threshold: int,
                 cooldown_s: float, limiter=None):
        self.index, self.ep, self.transport, self.gate, self.rate = index, ep, transport, gate, rate
        self.limiter = limiter
        self.threshold, self.cooldown_s = threshold, cooldown_s
        self.fails = 0          # consecutive server failures
        self.trips = 0          # times taken out of rotation since the last success
        self.down_until = 0.0
        self._next = 0.0        # pacing: earliest start of the next request
        self.sent = 0
        if not ep.healthy:
            self._trip(time.monotonic())

    @property
    def tripped(self) -> bool:
        return self.fails >= self.threshold

    def usable(self, now: float) -> bool:
        # Out of rotation until down_until; then half-open: one probe at a time until a success.
        return not self.tripped or (now >= self.down_until and self.gate.inflight == 0)

    def free(self) -> bool:
        return self.gate.inflight < max(1, int(self.gate.limit))

    def spare(self) -> int:
        return max(0, max(1, int(self.gate.limit)) - self.gate.inflight)

    def load(self) -> float:
        return (self.gate.inflight + 1) / max(1, int(self.gate.limit))

    async def pace(self):
        if not self.rate:
            return
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + 1.0 / self.rate
        if start > now:
            await asyncio.sleep(start - now)

    def _trip(self, now: float):
        self.fails = max(self.fails, self.threshold)
        self.trips += 1
        wait = min(self.cooldown_s * 10, self.cooldown_s * 2 ** (self.trips - 1))
        self.down_until = now + wait
        log.warning("LLM endpoint %s out of rotation for %.0f s (%d failures in a row)", self.ep.name, wait,
                    self.fails)


class Router:
    """Least busy live endpoint first (in-flight / limit); waits in FIFO order when all are full.

    A woken waiter holds a reservation until it runs, so a newcomer cannot take the slot it was woken
    for (which would send it to the back of the queue again); no operation scans the queue."""

    def __init__(self, slots: list[Slot]):
        self.slots = slots
        self._waiters: collections.deque = collections.deque()
        self._reserved = 0
        self._idle: list = []

    @property
    def single(self) -> bool:
        return len(self.slots) == 1

    def _usable(self, now: float) -> list[Slot]:
        return self.slots if self.single else [s for s in self.slots if s.usable(now)]

    async def acquire(self) -> Slot:
        woken = False
        while True:
            now = time.monotonic()
            usable = self._usable(now)
            free = [s for s in usable if s.free()]
            if free and (woken or sum(s.spare() for s in free) > self._reserved):
                best = min(s.load() for s in free)
                slot = random.choice([s for s in free if s.load() == best])  # ties: spread, not first-wins
                slot.gate.inflight += 1
                slot.sent += 1
                try:
                    await slot.pace()
                except BaseException:
                    self.release(slot)
                    raise
                return slot
            # Nothing free: wait for a release, or for a tripped endpoint's cooldown to end.
            downs = [s.down_until - now for s in self.slots if s.tripped and s.down_until > now]
            timeout = max(0.01, min(downs)) if downs else (None if usable else 0.05)
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)  # a cancelled future stays queued; _wake skips it
            try:
                await (fut if timeout is None else asyncio.wait_for(fut, timeout))
            except asyncio.TimeoutError:
                pass
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled():
                    self._reserved -= 1
                    self._wake()  # pass on a wake-up we can no longer use
                raise
            woken = fut.done() and not fut.cancelled()
            if woken:
                self._reserved -= 1

    def release(self, slot: Slot):
        slot.gate.inflight -= 1
        self._wake()
        if self._idle and not any(s.gate.inflight for s in self.slots):
            for fut in self._idle:
                if not fut.done():
                    fut.set_result(None)
            self._idle.clear()

    async def drain(self):
        """Wait until no request is in flight on any endpoint."""
        while any(s.gate.inflight for s in self.slots):
            fut = asyncio.get_running_loop().create_future()
            self._idle.append(fut)
            await fut

    def _wake(self):
        free = sum(s.spare() for s in self._usable(time.monotonic())) - self._reserved
        while free > 0 and self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                self._reserved += 1
                free -= 1

    # -- health -------------------------------------------------------------------------------------
    def ok(self, slot: Slot):
        slot.fails, slot.trips = 0, 0

    def failed(self, slot: Slot):
        """A connection error, timeout or 5xx. Never trips the only endpoint (the retries handle it)."""
        slot.fails += 1
        if not self.single and slot.fails >= slot.threshold:
            slot._trip(time.monotonic())

    def other_usable(self, slot: Slot) -> bool:
        now = time.monotonic()
        return any(s is not slot and s.usable(now) for s in self.slots)

    @property
    def min_seen(self) -> int:
        return sum(s.gate.min_seen for s in self.slots)
