"""Requests- and tokens-per-minute limits of one endpoint, as token buckets, plus the server's own word.

Provider tiers cap requests *and* tokens per minute (some count input and output separately). Reacting to
429s alone (AIMD) wastes requests and time when a token limit binds, so each request waits here first:

- `rpm`, `tpm`, `input_tpm`, `output_tpm` (YAML, per endpoint) are buckets refilled at limit/60 per second
  holding at most one second's worth, so the client never bursts past a server that enforces the limit
  over short windows. A request takes its estimated cost up front: input tokens counted with tiktoken (times
  a ratio learned from the replies' `usage`, since servers tokenize differently), output tokens from a
  running mean of the replies. The reply's usage then corrects the buckets, so estimation errors do not pile
  up. 5% headroom absorbs the error of the requests still in flight.
- `x-ratelimit-limit-*` headers set the limits when YAML gives none; `x-ratelimit-remaining-*` lower a
  bucket to what the server says is left, and a spent budget waits for `x-ratelimit-reset-*`.
- AIMD on 429 (engine.py) stays as the safety net.

What a server says is bounded: a header that is not a finite, non-negative number is ignored (as is a
limit under 1 per minute), and a reset is capped at transport.MAX_SERVER_WAIT_S, so one odd reply cannot
park a build for days.

Waiting is serialised per endpoint (FIFO lock): the time the lock holder sleeps is the wall time this
process was held back by that limit, which the report shows per limit.
"""
from __future__ import annotations

import asyncio
import math
import re
import time

from wiki_qa.llm import transport as T

HEADROOM = 0.95
BURST_S = 1.0
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)?")


def parse_reset(value: str | None) -> float | None:
    """OpenAI-style durations ("1s", "6m0s", "20ms", "1h2m3.5s") or plain seconds -> seconds (None when
    not a finite duration)."""
    if not value:
        return None
    total, found = 0.0, False
    for num, unit in _DURATION.findall(value.strip()[:64]):
        found = True
        total += float(num) * {"ms": 1e-3, "h": 3600.0, "m": 60.0, "s": 1.0, "": 1.0}[unit]
    return total if found and math.isfinite(total) else None


def _num(headers, name: str) -> float | None:
    """A header's finite, non-negative number, else None (a server's `inf` or `-5` means nothing usable)."""
    v = headers.get(name) if headers else None
    try:
        x = float(v) if v is not None else None
    except ValueError:
        return None
    return x if x is not None and math.isfinite(x) and x >= 0 else None


class Bucket:
    def __init__(self, name: str, per_minute: float):
        self.name = name
        self.rate = self.capacity = 0.0
        self.level, self.t = 0.0, time.monotonic()
        self.set_limit(per_minute)
        self.level = self.capacity

    def set_limit(self, per_minute: float) -> None:
        self.rate = max(1e-9, per_minute * HEADROOM / 60.0)
        self.capacity = max(1.0, self.rate * BURST_S)

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.t) * self.rate)
        self.t = now

    def wait(self, cost: float, now: float) -> float:
        """Seconds until `cost` fits (a request bigger than the bucket waits for a full bucket)."""
        self.refill(now)
        need = min(cost, self.capacity)
        return 0.0 if self.level >= need else (need - self.level) / self.rate


class Ticket:
    """What one request took from the buckets, to settle or refund when its reply comes. `marks` are the
    limiter's running totals (tokens, requests) right after it: what was sent later is their difference."""
    __slots__ = ("costs", "marks", "raw_in")

    def __init__(self, costs: dict, marks: tuple[float, int], raw_in: int):
        self.costs, self.marks, self.raw_in = costs, marks, raw_in


KINDS = ("rpm", "tpm", "input_tpm", "output_tpm")


class Limiter:
    """The buckets of one endpoint in one process (its share of the limits when several share them)."""

    def __init__(self, limits: dict, share: int = 1):
        self.share = max(1, share)
        self.buckets = {k: Bucket(k, v / self.share) for k, v in limits.items() if v}
        self.blocked_until = {}      # "requests"/"tokens" -> monotonic time, from x-ratelimit-reset-* at 0
        self.taken = (0.0, 0)        # (tokens, requests) taken so far, to tell what a reply's header saw
        self._lock = asyncio.Lock()

    @property
    def needs_tokens(self) -> bool:
        return any(k != "rpm" for k in self.buckets) or "tokens" in self.blocked_until

    def _costs(self, est_in: float, est_out: float) -> dict:
        per = {"rpm": 1.0, "tpm": est_in + est_out, "input_tpm": est_in, "output_tpm": est_out}
        return {k: per[k] for k in self.buckets}

    async def admit(self, est_in: float, est_out: float, waits: dict, raw_in: int = 0) -> Ticket:
        """Wait until the request fits every bucket, take its cost, and add the wait to `waits`."""
        costs = self._costs(est_in, est_out)
        async with self._lock:
            while True:
                now = time.monotonic()
                name, delay = "", 0.0
                for k, b in self.buckets.items():
                    d = b.wait(costs[k], now)
                    if d > delay:
                        name, delay = k, d
                for k, until in self.blocked_until.items():
                    if until - now > delay:
                        name, delay = f"server_{k}", until - now
                if delay <= 0:
                    break
                if delay > T.LONG_WAIT_S:
                    T.wlog.warning("LLM limit %s holds requests for %.0f s", name, delay)
                waits[name] = waits.get(name, 0.0) + delay
                await asyncio.sleep(delay)
            self.blocked_until = {k: t for k, t in self.blocked_until.items() if t > now}
            for k, c in costs.items():
                self.buckets[k].level -= c
            self.taken = (self.taken[0] + est_in + est_out, self.taken[1] + 1)
            return Ticket(costs, self.taken, raw_in)

    def settle(self, ticket: Ticket, actual_in: int, actual_out: int) -> None:
        """Replace the estimate by the reply's usage."""
        actual = self._costs(actual_in, actual_out)
        for k, c in ticket.costs.items():
            if k != "rpm":
                b = self.buckets[k]
                b.level = min(b.capacity, b.level + c - actual[k])

    def refund(self, ticket: Ticket) -> None:
        """The server failed the request (5xx): it did not count against the limits."""
        for k, c in ticket.costs.items():
            b = self.buckets[k]
            b.level = min(b.capacity, b.level + c)

    def throttled(self, ticket: Ticket | None) -> None:
        """A 429: the request did not count, but the server's budget is spent. Handing the tokens back
        would send the next waiter straight into another 429, so the buckets restart from empty."""
        costs = ticket.costs if ticket else {}
        for k, b in self.buckets.items():
            b.refill(time.monotonic())
            b.level = min(b.level + costs.get(k, 0.0), 0.0)

    def observe(self, headers, ticket: Ticket | None) -> None:
        """Follow x-ratelimit-* headers: learn limits, lower buckets to what is left, wait out a reset."""
        if not headers or "x-ratelimit-remaining-tokens" not in headers and \
                "x-ratelimit-remaining-requests" not in headers:
            return
        now = time.monotonic()
        for kind, bucket_name in (("requests", "rpm"), ("tokens", "tpm")):
            limit = _num(headers, f"x-ratelimit-limit-{kind}")
            remaining = _num(headers, f"x-ratelimit-remaining-{kind}")
            b = self.buckets.get(bucket_name)
            if limit is not None and limit < 1:
                limit = None  # under one request or token a minute: not a tier, a broken header
            if limit and (b is None or b.rate * 60 / HEADROOM > limit / self.share + 1e-6):
                if b is None:
                    b = self.buckets[bucket_name] = Bucket(bucket_name, limit / self.share)
                else:
                    b.set_limit(limit / self.share)
            if remaining is None:
                continue
            if b is not None:
                # What the server counted as of this reply, minus what was sent after this request.
                i = 0 if kind == "tokens" else 1
                later = self.taken[i] - ticket.marks[i] if ticket else 0.0
                b.refill(now)
                b.level = min(b.level, remaining * HEADROOM / self.share - later)
            elif remaining <= 0:
                reset = parse_reset(headers.get(f"x-ratelimit-reset-{kind}"))
                if reset:
                    self.blocked_until[kind] = now + T.bounded_wait(reset, f"(x-ratelimit-reset-{kind})")
