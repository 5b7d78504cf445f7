"""The shared engine: per event loop, one keep-alive transport + AIMD gate per endpoint; retries, cache, cost.

Tasks never see HTTP; the engine never sees task semantics beyond `prompt/schema/parse`.
"""
from __future__ import annotations

import asyncio
import collections
import math
import random
import time
from dataclasses import dataclass, field

from wiki_qa import tokens
from wiki_qa.errors import BuildAborted, UserError
from wiki_qa.llm import cache as C
from wiki_qa.llm import endpoints as E
from wiki_qa.llm import parsing, prices
from wiki_qa.llm import transport as T
from wiki_qa.llm.endpoints import Endpoint, Router, Slot, resolve
from wiki_qa.llm.limits import Limiter

_OVERFLOW_MARKERS = ("context length", "context_length", "maximum context", "context window",
                     "exceeds the available context", "too many tokens", "prompt is too long")


class AIMD:
    """Concurrency gate whose limit halves on 429 and grows by ~1 per `limit` successes (TCP-style).
    A 429 for a request sent before the last cut is the same congestion signal: it does not cut again.
    Just below the level that last drew a 429, growth is 4x slower (as CUBIC flattens near its last
    maximum): the gate lingers where the server coped instead of re-probing the limit every few requests.
    FIFO futures instead of a Condition: waking 1000 waiters per release is O(n^2)."""

    def __init__(self, limit: int):
        self.max = limit
        self.limit = float(limit)
        self.min_seen = limit
        self.inflight = 0
        self._last_cut = -1.0
        self._ceiling = float("inf")  # the limit when the last 429 arrived
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
            step = 1.0 / self.limit
            if self._ceiling - 1 <= self.limit < self._ceiling:
                step /= 4
            self.limit = min(self.max, self.limit + step)
            self._wake()

    def on_throttle(self, sent_at: float):
        if sent_at > self._last_cut:
            self._last_cut = time.monotonic()
            self._ceiling = self.limit
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
    throttled: int = 0                          # 429 replies
    waits: dict = field(default_factory=dict)   # seconds held back, by limit (rpm, tpm, ..., server_tokens)
    est_out: float = 0.0                        # batch planning: the row's expected completion tokens
    reask: bool = False                         # the request being made re-asks after an unusable reply


class InvalidReply(ValueError):
    """A 200 whose JSON is not a chat completion: retried like a server error, never cached."""


def _tokens(v) -> int:
    """A usage count as the server gave it: a non-negative int, else 0 (a string or a negative count must
    neither kill the map nor make the cost negative, which would keep max_cost_usd from ever tripping)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return 0
    return max(0, int(v))


ROWS_PER_SLOT = 2  # rows prepared (prompt built, cache read) per concurrency slot, ahead of a free slot


def _backoff(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    return random.uniform(0, min(cap, base * 2 ** attempt))  # full jitter: no thundering herd


async def _close_all(transports):
    # gather() must be created inside the loop that runs it (outside, it binds to another loop)
    await asyncio.gather(*[t.close() for t in transports])


class Engine:
    """Sends one task's requests for one run. Picklable: per-process/per-loop state (transports, gates,
    sqlite) is rebuilt lazily after a fork/pickle.

    `cfg` is the `llm:` section (LLMConfig); `task` a wiki_qa.llm.tasks.Task. `endpoints` (see
    wiki_qa.llm.endpoints) default to cfg's. `num_proc` processes (or Ray actors) share each endpoint's
    concurrency and rate limit."""

    def __init__(self, cfg, task, *, run: str, cache_path: str | None = None, refresh: bool = False,
                 num_proc: int = 1, endpoints: list[Endpoint] | None = None):
        self.cfg, self.task = cfg, task
        self.endpoints = endpoints if endpoints is not None else resolve(cfg)
        self.server = E.identity(cfg, self.endpoints)  # in every cache key: one server's replies are its own
        # Endpoints are checked (key, model) before the first request that must be sent, not before the
        # map: a rebuild served from the cache needs no server. Pickled: workers of a checked engine skip it.
        self.checked = False
        self.cache = C.Cache(cache_path or cfg.cache_path())
        self.run, self.refresh = run, refresh
        self.price = prices.price_for(cfg)
        self.num_proc = max(1, num_proc)
        self.per_loop_concurrency = sum(self._share(ep.concurrency) for ep in self.endpoints)
        self.min_seen = self.per_loop_concurrency
        # Batch mode (wiki_qa.llm.batch): "plan" collects the requests the cache cannot answer instead of
        # sending them (re-asks only when `plan_reasks`); "final" answers them with their batch error.
        # `notes`: per-request outcomes of the last batches that are not cached (a refused
        # response_format, a failed or expired line); after the rounds, a noted line is final online too.
        # Set on the driver before the map: they travel with the engine to worker processes and actors.
        self.offline: str | None = None
        self.plan_reasks = True
        self.collector: dict = {}
        self.notes: dict = {}
        self._init_local()

    def _share(self, concurrency: int) -> int:
        return max(1, -(-concurrency // self.num_proc))

    def _init_local(self):
        # Strong refs on purpose: if datasets' loop were collected first, a session's __del__ would
        # complain about a dead loop. close() shuts both down after the map.
        self._loops: dict = {}
        self.mode = self.cfg.response_format
        self._mine = 0.0           # this process's spending, counted as each reply arrives
        self._mine_logged = 0.0    # the part of it already committed to the shared chunk log
        self._others = 0.0         # the other workers' spending, as of the last look at the log
        self._cost_checked = 0.0
        self._in_ratio = 1.0       # server prompt tokens / tiktoken's count, learned from usage
        self._out_mean = float(min(self.cfg.max_tokens, 256))  # running mean of completion tokens

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_loops"}

    def __setstate__(self, d):
        self.__dict__.update(d)
        self._init_local()

    def state(self) -> Router:
        """The endpoints' transports and gates bound to the running loop (a session from a previous map's
        loop is dead)."""
        loop = asyncio.get_running_loop()
        st = self._loops.get(loop)
        if st is None:
            slots = []
            for i, ep in enumerate(self.endpoints):
                n = self._share(ep.concurrency)
                rate = ep.rate_limit / self.num_proc if ep.rate_limit else None
                slots.append(Slot(i, ep, T.Transport(ep.base_url, ep.api_key, self.cfg.timeout_s, n,
                                                     self.cfg.max_response_bytes), AIMD(n),
                                  rate, self.cfg.endpoint_failures, self.cfg.endpoint_cooldown_s,
                                  Limiter(ep.limits, self.num_proc)))
            st = self._loops[loop] = Router(slots)
            st.checking = None  # the preflight's task in this loop, started by the first request sent
            # Rows past the first few per slot wait here before building their prompt and reading the
            # cache. Without it, every row of datasets' up to 1000 concurrent map calls does that work in
            # one burst at the start, and the first replies wait behind it on the event loop.
            st.rows = asyncio.Semaphore(max(64, ROWS_PER_SLOT * self.per_loop_concurrency))
        return st

    def close(self):
        """Close the transports of finished maps in this process (worker processes just exit)."""
        for loop, router in list(self._loops.items()):
            if not loop.is_closed() and not loop.is_running():
                try:
                    loop.run_until_complete(_close_all([s.transport for s in router.slots]))
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
            self._others = max(0.0, await self.cache.arun_cost(self.run) - self._mine_logged)
            self._cost_checked = now
        if self._others + self._mine >= limit:
            raise BuildAborted(f"max_cost_usd={limit} reached (spent ~${self._others + self._mine:.4f}); "
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
        params = {"model": cfg.model, "temperature": cfg.temperature, "max_tokens": cfg.max_tokens, "seed": cfg.seed}
        while True:
            used = self.mode
            rf = self._response_format(schema)
            k = C.key(messages=messages, rf=rf, params=params, task=self.task.name, v=self.task.VERSION,
                      server=self.server)
            if not self.refresh:
                hit = await self.cache.aget(k)
                if hit is not None:
                    n.cache_hits += 1
                    return hit
            body = await self._send(k, messages, rf, params, n)
            if body.get("error") != "response_format_unsupported":
                return body
            # Concurrent requests all see the rejection: step down once from the mode *they* used.
            order = ["json_schema", "json_object", "text"]
            if used == "text":
                return {"error": "bad_request_400"}
            if order.index(self.mode) <= order.index(used):
                self.mode = order[order.index(used) + 1]

    def reply(self, resp, n: Counters, price_factor: float = 1.0) -> dict:
        """The cached form of a chat completion: content, finish_reason and token counts (costed into n).
        Raises InvalidReply for anything that is not a chat completion object (never cached)."""
        choices = resp.get("choices") if isinstance(resp, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise InvalidReply("not a chat completion (no choices)")
        usage = resp.get("usage") if isinstance(resp.get("usage"), dict) else {}
        pt, ct = _tokens(usage.get("prompt_tokens")), _tokens(usage.get("completion_tokens"))
        n.prompt_tokens += pt
        n.completion_tokens += ct
        n.cost += prices.cost(self.price, pt, ct) * price_factor
        ch = choices[0]
        msg = ch.get("message") if isinstance(ch.get("message"), dict) else {}
        content = msg.get("content")
        return {"content": content if isinstance(content, str) else "",
                "finish_reason": ch.get("finish_reason") if isinstance(ch.get("finish_reason"), str) else "empty",
                "prompt_tokens": pt, "completion_tokens": ct}

    async def _check(self, router: Router) -> None:
        """Check the endpoints once per process, at the first request that must be sent (issue 25): a
        rebuild served from the cache needs no server. Unreachable endpoints among several leave the rotation."""
        if self.checked:
            return
        if router.checking is None:
            router.checking = asyncio.ensure_future(E.check_all(self.cfg, self.endpoints))
        down = await asyncio.shield(router.checking)
        for slot in router.slots:
            if any(slot.ep is ep for ep in down) and not slot.tripped:
                slot._trip(time.monotonic())
        self.checked = True

    async def _send(self, key: str, messages, rf, params, n: Counters) -> dict:
        """Send with retries. A reply is cached before its slot is released: at most the requests in
        flight are lost to a kill -9."""
        body = {"messages": messages, **{k: v for k, v in params.items() if v is not None}}
        if rf:
            body["response_format"] = rf
        note = self.notes.get(key) if self.notes else None
        if self.offline == "plan":
            # A refused response_format steps down at once; a failed line is asked again until the last round.
            if note and note["error"] == "response_format_unsupported":
                return dict(note)
            if self.plan_reasks or not n.reask:  # `reask: online`: re-asks wait for the map
                self.collector.setdefault(key, (body, n.est_out))
            return {"error": "pending"}
        if note:  # a line that failed in every round is not sent again online at the full price
            return dict(note)
        if self.offline:
            return {"error": "batch_unfinished"}
        router = self.state()
        await self._check(router)
        last = "unknown"
        for attempt in range(self.cfg.max_retries + 1):
            if attempt:
                n.retries += 1
            delay, down, ok = None, False, False
            slot = await router.acquire()
            try:
                await self._check_budget()  # after the gate: a thousand queued chunks must not all pass at $0
            except BuildAborted:
                router.release(slot)
                await router.drain()  # the requests in flight are paid for: let them land in the cache first
                raise
            ticket, sent_at = None, time.monotonic()
            try:
                if slot.limiter.buckets or slot.limiter.blocked_until:
                    ticket = await self._admit(slot.limiter, messages, n)
                sent_at = time.monotonic()
                n.requests += 1
                resp, headers = await slot.transport.post("/chat/completions", body)
                slot.gate.on_success()
                ok = True
                spent = n.cost
                try:
                    out = self.reply(resp, n)
                except InvalidReply as e:
                    raise T.InvalidResponse(str(e)) from None
                self._mine += n.cost - spent
                if ticket is not None:
                    self._learn(slot.limiter, ticket, out)
                slot.limiter.observe(headers, ticket)
                await self.cache.aput(key, out)
                return out
            except T.RateLimited as e:
                slot.gate.on_throttle(sent_at)
                self.min_seen = min(self.min_seen, router.min_seen)
                n.throttled += 1
                slot.limiter.throttled(ticket)
                slot.limiter.observe(e.headers, ticket)
                last, delay = "rate_limited", T.retry_after(e.headers)
            except T.Redirected as e:
                raise E.redirected(slot.ep.name, e) from None
            except T.AuthFailed as e:
                raise UserError(f"LLM server {slot.ep.name} refused the credentials ({e.status}); "
                                f"check ${slot.ep.api_key_env}") from None
            except T.NotFound:
                raise UserError(f"LLM server {slot.ep.name} has no model {self.cfg.model!r} (404)") from None
            except T.BadRequest as e:
                msg = e.message.lower()
                overflow = any(m in msg for m in _OVERFLOW_MARKERS)
                if not overflow and ("response_format" in msg or "json_schema" in msg):
                    return {"error": "response_format_unsupported"}  # not cached: the next mode is asked
                out = {"error": "context_overflow" if overflow else f"bad_request_{e.status}"}
                await self.cache.aput(key, out)
                return out
            except T.TransportError as e:
                last, down = e.kind, True
            except T.HTTPError as e:  # 5xx, 408, 409, 422, odd gateways
                last, delay, down = f"http_{e.status}", T.retry_after(e.headers), e.status >= 500
                if ticket is not None:
                    slot.limiter.refund(ticket)
            finally:
                router.release(slot)
                if down:
                    router.failed(slot)
                elif ok:
                    router.ok(slot)
            if down and router.other_usable(slot):
                continue  # fail over to another endpoint now, no backoff
            # Retry-After when the server gave one (+10% jitter, capped), else exponential backoff, full jitter.
            if attempt < self.cfg.max_retries:
                if delay is not None:
                    delay = T.bounded_wait(delay * random.uniform(1.0, 1.1), slot.ep.name)
                await asyncio.sleep(delay if delay is not None else _backoff(attempt))
        return {"error": last}

    # -- token limits ---------------------------------------------------------------------------------
    async def _admit(self, limiter: Limiter, messages: list[dict], n: Counters):
        """Wait for the endpoint's rpm/tpm buckets; token costs are estimated only when a token limit exists."""
        raw = tokens.count_messages(messages) if limiter.needs_tokens else 0
        return await limiter.admit(raw * self._in_ratio, self._out_mean if raw else 0.0, n.waits, raw)

    def _learn(self, limiter: Limiter, ticket, out: dict) -> None:
        pt, ct = out["prompt_tokens"], out["completion_tokens"]
        if ticket.raw_in and pt:
            self._in_ratio += 0.2 * (pt / ticket.raw_in - self._in_ratio)
        if ct:
            self._out_mean += 0.2 * (ct - self._out_mean)
        if pt or ct:
            limiter.settle(ticket, pt, ct)

    # -- one chunk --------------------------------------------------------------------------------
    async def run_row(self, row: dict) -> tuple[list[dict], dict]:
        """Examples for one row (a chunk) + its log record. Every row ends ok, partial or failed, with a reason."""
        if not self.task.asks(row):  # nothing to ask about this row (qa focus: answer, no answer span)
            return [], None
        if self.offline == "plan":  # batch planning sends nothing: no gate needed
            return await self._run_row(row)
        async with self.state().rows:
            return await self._run_row(row)

    async def _run_row(self, row: dict) -> tuple[list[dict], dict]:
        n = Counters()
        messages = self.task.prompt(row)
        schema = self.task.schema(row)
        if self.offline == "plan":
            k, per = self.task.estimate(row)
            n.est_out = min(self.cfg.max_tokens, 10 + k * per)
        examples, dropped, reason = [], [], None
        reasks = self.cfg.max_retries if self.task.max_reasks is None else min(self.cfg.max_retries,
                                                                                self.task.max_reasks)
        for attempt in range(reasks + 1):
            n.reask = attempt > 0
            body = await self.complete(messages, schema, n)
            if body.get("error") == "pending":
                return [], None  # batch planning: this row waits for its batch
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
            if attempt < reasks:  # re-ask with the validation error
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
        rec = {"outcome": outcome, "reason": reason, "requests": n.requests, "cache_hits": n.cache_hits,
               "retries": n.retries, "prompt_tokens": n.prompt_tokens, "completion_tokens": n.completion_tokens,
               "cost": n.cost, "dropped": n.dropped, "throttled": n.throttled, "waits": n.waits}
        if self.offline != "plan":
            await self.cache.alog_chunk(self.run, row["id"], rec)
            self._mine_logged += n.cost
        return examples, rec
