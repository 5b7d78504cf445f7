"""The shared engine: one AsyncOpenAI client + AIMD gate per event loop, retries, cache, cost.

Tasks never see HTTP; the engine never sees task semantics beyond `prompt/schema/parse`.
"""
from __future__ import annotations

import asyncio
import collections
import email.utils
import random
import time
from dataclasses import asdict, dataclass, field

import httpx2
import openai

from wiki_qa.errors import BuildAborted, UserError
from wiki_qa.llm import cache as C
from wiki_qa.llm import parsing, prices
from wiki_qa.llm.endpoints import Endpoint, Router, Slot, resolve

_OVERFLOW_MARKERS = ("context length", "context_length", "maximum context", "context window",
                     "exceeds the available context", "too many tokens", "prompt is too long")


class AIMD:
    """Concurrency gate whose limit halves on 429 and grows by ~1 per `limit` successes (TCP-style).
    A 429 for a request sent before the last cut is the same congestion signal: it does not cut again.
    FIFO futures instead of a Condition: waking 1000 waiters per release is O(n^2)."""

    def __init__(self, limit: int):
        self.max = limit
        self.limit = float(limit)
        self.min_seen = limit
        self.inflight = 0
        self._last_cut = -1.0
        self._waiters: collections.deque = collections.deque()

    async def acquire(self):
        while self.inflight >= max(1, int(self.limit)):
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                if fut in self._waiters:
                    self._waiters.remove(fut)
                raise
        self.inflight += 1

    def release(self):
        self.inflight -= 1
        self._wake()

    def _wake(self):
        free = max(1, int(self.limit)) - self.inflight
        while free > 0 and self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                free -= 1

    def on_success(self):
        if self.limit < self.max:
            self.limit = min(self.max, self.limit + 1.0 / self.limit)
            self._wake()

    def on_throttle(self, sent_at: float):
        if sent_at > self._last_cut:
            self._last_cut = time.monotonic()
            self.limit = max(1.0, self.limit / 2)
            self.min_seen = min(self.min_seen, int(self.limit))


@dataclass
class Counters:
    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    dropped: dict = field(default_factory=dict)


def _retry_after(err: openai.APIStatusError) -> float | None:
    h = err.response.headers if getattr(err, "response", None) is not None else {}
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        v = h.get(name)
        if v:
            try:
                return max(0.0, float(v) * scale)
            except ValueError:
                d = email.utils.parsedate_to_datetime(v) if name == "retry-after" else None
                if d:
                    return max(0.0, d.timestamp() - time.time())
    return None


def _backoff(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    return random.uniform(0, min(cap, base * 2 ** attempt))  # full jitter: no thundering herd


async def _close_all(clients):
    # gather() must be created inside the loop that runs it (outside, it binds to another loop)
    await asyncio.gather(*[c.close() for c in clients])


class Engine:
    """Sends one task's requests for one run. Picklable: per-process/per-loop state (clients, gates,
    sqlite) is rebuilt lazily after a fork/pickle.

    `cfg` is the `llm:` section (LLMConfig); `task` a wiki_qa.llm.tasks.Task. `endpoints` (see
    wiki_qa.llm.endpoints) default to cfg's. `num_proc` processes (or Ray actors) share each endpoint's
    concurrency and rate limit."""

    def __init__(self, cfg, task, *, run: str, cache_path: str | None = None, refresh: bool = False,
                 num_proc: int = 1, endpoints: list[Endpoint] | None = None):
        self.cfg, self.task = cfg, task
        self.endpoints = endpoints if endpoints is not None else resolve(cfg)
        self.cache = C.Cache(cache_path or cfg.cache_path())
        self.run, self.refresh = run, refresh
        self.price = prices.price_for(cfg)
        self.num_proc = max(1, num_proc)
        self.per_loop_concurrency = sum(self._share(ep.concurrency) for ep in endpoints)
        self.min_seen = self.per_loop_concurrency
        self._init_local()

    def _share(self, concurrency: int) -> int:
        return max(1, -(-concurrency // self.num_proc))

    def _init_local(self):
        # Strong refs on purpose: if datasets' loop were collected first, the client's __del__ would
        # schedule its close on a dead loop. close() shuts both down after the map.
        self._loops: dict = {}
        self.mode = self.cfg.response_format
        self._spent = 0.0          # this process, since the last look at the shared log
        self._others = 0.0         # whole run, as of the last look
        self._cost_checked = 0.0

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_loops"}

    def __setstate__(self, d):
        self.__dict__.update(d)
        self._init_local()

    def state(self) -> Router:
        """The endpoints' clients and gates bound to the running loop: a client from a previous map's loop is dead."""
        loop = asyncio.get_running_loop()
        st = self._loops.get(loop)
        if st is None:
            slots = []
            for i, ep in enumerate(self.endpoints):
                # Several small keep-alive pools instead of one big one: httpcore scans every connection of
                # its pool on each request (O(n) per request), which costs ~40% of throughput at 256 in flight.
                n = self._share(ep.concurrency)
                clients = []
                for _ in range(-(-n // 32)):
                    http = openai.DefaultAsyncHttpxClient(limits=httpx2.Limits(max_connections=n + 8, max_keepalive_connections=n + 8))
                    clients.append(openai.AsyncOpenAI(base_url=ep.base_url, api_key=ep.api_key or "none",
                                                      max_retries=0, timeout=self.cfg.timeout_s, http_client=http))
                rate = ep.rate_limit / self.num_proc if ep.rate_limit else None
                slots.append(Slot(i, ep, clients, AIMD(n), rate, self.cfg.endpoint_failures,
                                  self.cfg.endpoint_cooldown_s))
            st = self._loops[loop] = Router(slots)
        return st

    def close(self):
        """Close the clients of finished maps in this process (worker processes just exit)."""
        for loop, router in list(self._loops.items()):
            clients = [c for s in router.slots for c in s.clients]
            if not loop.is_closed() and not loop.is_running():
                try:
                    loop.run_until_complete(_close_all(clients))
                finally:
                    loop.close()
            self._loops.pop(loop, None)

    # -- cost -------------------------------------------------------------------------------------
    async def _check_budget(self):
        limit = self.cfg.max_cost_usd
        if limit is None:
            return
        now = time.monotonic()
        if now - self._cost_checked > 1.0:  # other worker processes' spending, via the shared log
            self._others, self._spent, self._cost_checked = await self.cache.arun_cost(self.run), 0.0, now
        if self._others + self._spent >= limit:
            raise BuildAborted(f"max_cost_usd={limit} reached (spent ~${self._others + self._spent:.4f}); "
                               "paid responses are cached, rerun with a higher limit to continue")

    # -- one request --------------------------------------------------------------------------------
    def _response_format(self, schema):
        if self.mode == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": f"wiki_qa_{self.task.name}", "schema": schema}}
        if self.mode == "json_object":
            return {"type": "json_object"}
        return None

    async def complete(self, messages: list[dict], schema: dict, n: Counters) -> dict:
        """One chat completion as a plain dict, from the cache or the server. Retries transport errors;
        returns {"error": reason} for deterministic request errors (cached too, so reruns stay free)."""
        cfg = self.cfg
        while True:
            used = self.mode
            rf = self._response_format(schema)
            params = {"model": cfg.model, "temperature": cfg.temperature, "max_tokens": cfg.max_tokens,
                      "seed": cfg.seed}
            k = C.key(messages=messages, rf=rf, params=params, task=self.task.name, v=self.task.VERSION)
            if not self.refresh:
                hit = await self.cache.aget(k)
                if hit is not None:
                    n.cache_hits += 1
                    return hit
            body = await self._send(messages, rf, params, n)
            if body.get("error") == "response_format_unsupported":
                # Concurrent requests all see the rejection: step down once from the mode *they* used.
                order = ["json_schema", "json_object", "text"]
                if used == "text":
                    return {"error": "bad_request_400"}
                if order.index(self.mode) <= order.index(used):
                    self.mode = order[order.index(used) + 1]
                continue
            if body.get("cacheable", True):
                await self.cache.aput(k, body)
            return body

    async def _send(self, messages, rf, params, n: Counters) -> dict:
        router = self.state()
        last = "unknown"
        for attempt in range(self.cfg.max_retries + 1):
            if attempt:
                n.retries += 1
            resp, delay, down = None, None, False
            slot = await router.acquire()
            gate, client = slot.gate, slot.clients[random.randrange(len(slot.clients))]
            sent_at = time.monotonic()
            try:
                await self._check_budget()  # after the gate: a thousand queued chunks must not all pass at $0
                n.requests += 1
                body = {"messages": messages, **{k: v for k, v in params.items() if v is not None}}
                if rf:
                    body["response_format"] = rf
                # client.post, not chat.completions.create: same errors/auth/timeouts, but no typed-dict
                # transform of the request and no pydantic model of the reply (~1.5 ms CPU per request).
                resp = await client.post("/chat/completions", body=body, cast_to=object)
                gate.on_success()
            except openai.RateLimitError as e:
                gate.on_throttle(sent_at)
                self.min_seen = min(self.min_seen, router.min_seen)
                last, delay = "rate_limited", _retry_after(e)
            except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
                raise UserError(f"LLM server {slot.ep.name} refused the credentials ({e.status_code}); "
                                f"check ${slot.ep.api_key_env}") from None
            except openai.NotFoundError:
                raise UserError(f"LLM server {slot.ep.name} has no model {self.cfg.model!r} (404)") from None
            except openai.BadRequestError as e:
                msg = str(getattr(e, "message", e)).lower()
                if any(m in msg for m in _OVERFLOW_MARKERS):
                    return {"error": "context_overflow"}
                if "response_format" in msg or "json_schema" in msg:
                    return {"error": "response_format_unsupported", "cacheable": False}
                return {"error": f"bad_request_{e.status_code}"}
            except openai.APITimeoutError:
                last, down = "timeout", True
            except openai.APIConnectionError:
                last, down = "connection_error", True
            except openai.APIStatusError as e:  # 5xx, 408, 409, odd gateways
                last, delay, down = f"http_{e.status_code}", _retry_after(e), e.status_code >= 500
            finally:
                router.release(slot)
            if down:
                router.failed(slot)
            elif resp is not None:
                router.ok(slot)
            if resp is None:
                if down and router.other_usable(slot):
                    continue  # fail over to another endpoint now, no backoff
                # Retry-After when the server gave one (+10% jitter), else exponential backoff, full jitter.
                if attempt < self.cfg.max_retries:
                    await asyncio.sleep(delay * random.uniform(1.0, 1.1) if delay is not None else _backoff(attempt))
                continue
            if not isinstance(resp, dict):  # a 200 that is not JSON: let the parser/re-ask deal with it
                return {"content": str(resp), "finish_reason": "stop", "prompt_tokens": 0, "completion_tokens": 0}
            usage = resp.get("usage") or {}
            pt, ct = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
            c = prices.cost(self.price, pt, ct)
            n.prompt_tokens += pt
            n.completion_tokens += ct
            n.cost += c
            self._spent += c
            ch = (resp.get("choices") or [{}])[0]
            return {"content": (ch.get("message") or {}).get("content") or "",
                    "finish_reason": ch.get("finish_reason") or "empty", "prompt_tokens": pt, "completion_tokens": ct}
        return {"error": last, "cacheable": False}

    # -- one chunk --------------------------------------------------------------------------------
    async def run_row(self, row: dict) -> tuple[list[dict], dict]:
        """Examples for one row (a chunk) + its log record. Every row ends ok, partial or failed, with a reason."""
        n = Counters()
        messages = self.task.prompt(row)
        schema = self.task.schema(row)
        examples, dropped, reason = [], [], None
        for attempt in range(self.cfg.max_retries + 1):
            body = await self.complete(messages, schema, n)
            if "error" in body:
                reason = body["error"]
                break
            content = body["content"]
            if body["finish_reason"] == "length":
                reason, err = "truncated", "the reply was cut off at the token limit; write fewer or shorter items"
            else:
                try:
                    examples, dropped = self.task.parse(row, content)
                except parsing.ParseError as e:
                    reason, err = "invalid_json", str(e)
                else:
                    if examples:
                        reason = None
                        break
                    reason = "no_valid_items"
                    err = "no item passed validation (" + ", ".join(sorted(set(dropped)) or ["empty list"]) + ")"
            if attempt < self.cfg.max_retries:  # re-ask with the validation error
                n.retries += 1
                messages = messages + [{"role": "assistant", "content": content},
                                       {"role": "user", "content": f"That reply was not usable: {err}. "
                                        "Reply again with JSON only, in the requested format."}]
        for d in dropped:
            n.dropped[d] = n.dropped.get(d, 0) + 1
        if examples:
            outcome = "partial" if dropped else "ok"
            reason = ("dropped:" + ",".join(sorted(set(dropped)))) if dropped else None
        else:
            outcome = "failed"
        rec = {"outcome": outcome, "reason": reason, **asdict(n)}
        await self.cache.alog_chunk(self.run, row["id"], rec)
        return examples, rec
