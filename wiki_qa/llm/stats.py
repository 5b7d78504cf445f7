"""LLMStats: the `llm` section of build_report.json.

Worker processes cannot share an object, so the engine appends one record per finished chunk to the
`chunks` table of the cache db (tagged with the run id); `LLMStats.add_run` sums them after the map.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

# Failure reasons a rerun can fix: the server was unreachable, slow, overloaded, odd or unfinished, not the
# request itself (a context overflow or a 400 fails the same way again). Batch reasons all qualify.
TRANSIENT = frozenset({"timeout", "connection_error", "rate_limited", "invalid_response", "response_too_large"})


def transient(reason: str) -> bool:
    if reason in TRANSIENT or reason.startswith("batch_"):
        return True
    m = re.fullmatch(r"http_(\d+)", reason)
    return bool(m) and (int(m[1]) >= 500 or int(m[1]) in (408, 409, 429))


@dataclass
class LLMStats:
    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    outcomes: dict = field(default_factory=lambda: {"ok": 0, "partial": 0, "failed": 0})
    failures: dict = field(default_factory=dict)   # failed chunks by reason
    dropped: dict = field(default_factory=dict)    # dropped items (of ok/partial/failed chunks) by reason
    examples: int = 0
    elapsed_s: float = 0.0
    min_concurrency: int | None = None             # lowest AIMD limit seen (in-process runs only)
    rate_limited: int = 0                          # 429 replies (each retried)
    batch: dict | None = None                      # Batch API jobs: jobs, ok, failed lines, cost
    limit_wait_s: dict = field(default_factory=dict)  # seconds held back by each limit, summed over workers

    def add_run(self, cache, run: str, elapsed_s: float = 0.0) -> "LLMStats":
        for outcome, reason, req, hits, retries, pt, ct, cost, dropped, throttled, waits in cache.run_rows(run):
            self.requests += req
            self.cache_hits += hits
            self.retries += retries
            self.prompt_tokens += pt
            self.completion_tokens += ct
            self.cost_usd += cost
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
            if outcome == "failed":
                self.failures[reason or "unknown"] = self.failures.get(reason or "unknown", 0) + 1
            for k, v in json.loads(dropped or "{}").items():
                self.dropped[k] = self.dropped.get(k, 0) + v
            self.rate_limited += throttled or 0
            for k, v in json.loads(waits or "{}").items():
                self.limit_wait_s[k] = self.limit_wait_s.get(k, 0.0) + v
        jobs, ok, failed, pt, ct, cost = cache.run_batches(run)
        if jobs:
            b = self.batch or {"jobs": 0, "requests": 0, "ok": 0, "failed": 0, "cost_usd": 0.0}
            self.batch = {"jobs": b["jobs"] + jobs, "requests": b["requests"] + ok + failed, "ok": b["ok"] + ok,
                          "failed": b["failed"] + failed, "cost_usd": b["cost_usd"] + cost}
            # output lines under ids the jobs never sent, twice, not at all, or not readable (issue 24)
            odd = dict(b.get("anomalies") or {})
            for k, v in cache.run_batch_anomalies(run).items():
                odd[k] = odd.get(k, 0) + v
            if odd:
                self.batch["anomalies"] = odd
            # The map then reads these replies from the cache: they were sent (in batches), not reused.
            self.requests += ok + failed
            self.cache_hits = max(0, self.cache_hits - ok)
            self.prompt_tokens += pt
            self.completion_tokens += ct
            self.cost_usd += cost
        self.elapsed_s += elapsed_s
        return self

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_json(self) -> dict:
        return {"requests": self.requests, "cache_hits": self.cache_hits, "retries": self.retries,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "cost_usd": round(self.cost_usd, 6), "outcomes": dict(self.outcomes),
                "failures": dict(self.failures), "dropped_items": dict(self.dropped),
                "examples": self.examples, "requests_per_s": round(self.requests_per_s, 3),
                "elapsed_s": round(self.elapsed_s, 3), "min_concurrency": self.min_concurrency,
                "rate_limited": self.rate_limited,
                **({"batch": {**self.batch, "cost_usd": round(self.batch["cost_usd"], 6)}} if self.batch else {}),
                "limit_wait_s": {k: round(v, 3) for k, v in sorted(self.limit_wait_s.items())}}
