"""`llm.batch`: the same requests through the OpenAI-compatible Batch API (/v1/files + /v1/batches), at the
provider's batch price (half, at OpenAI).

Before the map, in rounds:
1. plan: every row runs through the engine with the network switched off; the requests the cache cannot
   answer (first asks, and re-asks of replies that failed validation) are collected;
2. submit: requests already in a job recorded in the cache database are not sent again (a rerun after
   kill -9 resumes polling); the rest is written as JSONL files within the provider's limits (requests and
   bytes per file), spread over the live endpoints, uploaded and created. Each job is recorded (with its
   request keys) before it is created, and adopted by its input file id if the process died in between;
3. wait: jobs are polled with a growing interval; a finished one's output and error files are downloaded
   and its results cached, with the job marked collected, in one transaction. Lines that failed (a 5xx,
   an expired or failed job) are not cached, so the next round resubmits only them.
The map then runs as usual and finds every reply in the cache, so parsing, validation and the rows are
exactly those of online mode. Re-asks go to further rounds, or online with `reask: online`; failed and
expired lines go to further rounds either way, and a line that failed in every round fails its row.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging

import aiohttp

from wiki_qa import tokens
from wiki_qa.errors import BuildAborted, UserError
from wiki_qa.llm import prices
from wiki_qa.llm import transport as T
from wiki_qa.llm.engine import _OVERFLOW_MARKERS, Counters

log = logging.getLogger("wiki_qa")

TERMINAL = {"completed", "failed", "expired", "cancelled"}
PLAN_CHUNK = 512
ADOPT_PAGES = 50  # of 100 jobs: how far back a rerun looks for a job it created but never recorded


def run(engine, rows_factory) -> None:
    """Batch rounds for all rows (`rows_factory()` yields them afresh each round), then leave the engine
    answering from the cache. Safe inside a running event loop (Jupyter): runs in its own thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        ex.submit(asyncio.run, Submitter(engine).rounds(rows_factory)).result()


class Submitter:
    def __init__(self, engine):
        self.engine, self.cfg, self.bcfg = engine, engine.cfg, engine.cfg.batch
        self.cache = engine.cache
        self.transports: dict = {}

    def transport(self, endpoint: str | None) -> T.Transport:
        if endpoint not in self.transports:
            ep = next((e for e in self.engine.endpoints if e.base_url == endpoint), None)
            key = ep.api_key if ep else None
            self.transports[endpoint] = T.Transport(endpoint, key, max(60.0, self.cfg.timeout_s), 4)
        return self.transports[endpoint]

    async def rounds(self, rows_factory) -> None:
        engine = self.engine
        engine.plan_reasks = self.bcfg.reask == "batch"
        try:
            for _ in range(self.cfg.max_retries + 1):
                pending = await self.plan(rows_factory)
                if not pending:
                    break
                live, taken = self.cache.live_batches(pending)
                if taken:
                    log.warning("LLM batch: resuming %d job(s) already submitted for %d request(s)", len(live),
                                len(taken))
                new = {k: v for k, v in pending.items() if k not in taken}
                live += await self.submit(new, live)
                await self.wait(live)
        finally:
            await asyncio.gather(*(t.close() for t in self.transports.values()))
            engine.offline = "final" if self.bcfg.reask == "batch" else None
            engine.collector = {}

    async def plan(self, rows_factory) -> dict:
        """Requests (key -> (body, expected completion tokens)) the cache cannot answer yet."""
        engine = self.engine
        engine.offline, engine.collector = "plan", {}
        chunk = []
        for row in rows_factory():
            chunk.append(row)
            if len(chunk) == PLAN_CHUNK:
                await asyncio.gather(*(engine.run_row(r) for r in chunk))
                chunk = []
        await asyncio.gather(*(engine.run_row(r) for r in chunk))
        return dict(engine.collector)

    # -- submit ---------------------------------------------------------------------------------------
    def _estimate(self, body: dict, est_out: float) -> float:
        if not self.engine.price:
            return 0.0
        return prices.cost(self.engine.price, tokens.count_messages(body["messages"]), est_out) * \
            self.bcfg.price_factor

    def _affordable(self, new: dict, live: list[dict]) -> dict:
        """The requests that fit max_cost_usd, counting what this run spent and the jobs it waits for
        (resumed ones included: they are collected, and paid, in this run)."""
        limit = self.cfg.max_cost_usd
        if limit is None or not new:
            return new
        committed = self.cache.run_cost(self.engine.run) + sum(b["est_cost"] or 0 for b in live)
        out = {}
        for k, (body, est_out) in new.items():
            committed += self._estimate(body, est_out)
            if committed > limit:
                break
            out[k] = (body, est_out)
        if not out:
            raise BuildAborted(f"max_cost_usd={limit} reached (spent or committed ~${committed:.4f}); paid "
                               "responses are cached, rerun with a higher limit to continue")
        if len(out) < len(new):
            log.warning("LLM batch: max_cost_usd=%s allows %d of %d requests now", limit, len(out), len(new))
        return out

    def _files(self, new: dict):
        """JSONL files within the provider's request and byte limits: (keys, bytes, estimated cost)."""
        keys, lines, size, cost = [], [], 0, 0.0
        for k, (body, est_out) in new.items():
            line = (json.dumps({"custom_id": k, "method": "POST", "url": "/v1/chat/completions", "body": body},
                               ensure_ascii=False) + "\n").encode()
            if keys and (len(keys) == self.bcfg.max_requests or size + len(line) > self.bcfg.max_bytes):
                yield keys, b"".join(lines), cost
                keys, lines, size, cost = [], [], 0, 0.0
            if len(line) > self.bcfg.max_bytes:
                raise UserError(f"llm.batch.max_bytes={self.bcfg.max_bytes} is smaller than one request "
                                f"({len(line)} bytes)")
            keys.append(k)
            lines.append(line)
            size += len(line)
            cost += self._estimate(body, est_out)  # recorded: a rerun with max_cost_usd counts the job
        if keys:
            yield keys, b"".join(lines), cost

    async def submit(self, new: dict, live: list[dict]) -> list[dict]:
        created = []
        endpoints = [e for e in self.engine.endpoints if e.healthy] or self.engine.endpoints
        for i, (keys, data, est) in enumerate(self._files(self._affordable(new, live))):
            ep = endpoints[i % len(endpoints)].base_url
            name = f"wiki_qa-{self.engine.run[:8]}-{i}.jsonl"

            def form(data=data, name=name):  # a FormData is spent once sent: a retry needs a new one
                fd = aiohttp.FormData()
                fd.add_field("purpose", "batch")
                fd.add_field("file", data, filename=name, content_type="application/jsonl")
                return fd
            f, _ = await self._call(ep, "POST", "/files", data=form)
            rid = self.cache.batch_record(ep, f["id"], self.engine.run, keys, est)
            job = {"id": rid, "endpoint": ep, "file_id": f["id"], "batch_id": None, "status": "uploaded",
                   "run": self.engine.run, "n": len(keys), "est_cost": est}
            await self._create(job)
            created.append(job)
        return created

    async def _create(self, job: dict) -> None:
        b, _ = await self._call(job["endpoint"], "POST", "/batches", body={
            "input_file_id": job["file_id"], "endpoint": "/v1/chat/completions",
            "completion_window": self.bcfg.completion_window, "metadata": {"wiki_qa_run": job["run"]}})
        job.update(batch_id=b["id"], status=b.get("status"))
        self.cache.batch_update(job["id"], batch_id=b["id"], status=b.get("status"))
        log.info("LLM batch: created %s (%d requests) at %s", b["id"], job["n"], job["endpoint"] or "api.openai.com")

    async def _adopt(self, job: dict) -> None:
        """A job recorded but never confirmed (the process died around its creation): find it by its input
        file, or create it now."""
        found, after = None, ""
        for _ in range(ADOPT_PAGES):  # newest first: the job, if created, is among the most recent
            data, _ = await self._call(job["endpoint"], "GET", f"/batches?limit=100{after}")
            page = (data.get("data") or []) if isinstance(data, dict) else []
            found = next((b for b in page if b.get("input_file_id") == job["file_id"]), None)
            if found is not None or not page or not data.get("has_more"):
                break
            after = f"&after={page[-1]['id']}"
        if found is None:
            await self._create(job)
        else:
            job.update(batch_id=found["id"], status=found.get("status"))
            self.cache.batch_update(job["id"], batch_id=found["id"], status=found.get("status"))

    # -- wait and collect -------------------------------------------------------------------------------
    async def wait(self, live: list[dict]) -> None:
        delay = self.bcfg.poll_s
        todo = list(live)
        while todo:
            for job in list(todo):
                if not job["batch_id"]:
                    await self._adopt(job)
                b, _ = await self._call(job["endpoint"], "GET", f"/batches/{job['batch_id']}")
                if b.get("status") != job.get("status"):
                    self.cache.batch_update(job["id"], status=b.get("status"))
                    job["status"] = b.get("status")
                if b.get("status") in TERMINAL:
                    await self.collect(job, b)
                    todo.remove(job)
            if todo:
                await asyncio.sleep(delay)
                delay = min(self.bcfg.poll_max_s, delay * 1.5)

    async def collect(self, job: dict, b: dict) -> None:
        n = Counters()
        puts, failed = {}, 0
        for fid in (b.get("output_file_id"), b.get("error_file_id")):
            if not fid:
                continue
            raw, _ = await self._call(job["endpoint"], "GET", f"/files/{fid}/content", raw=True)
            for line in raw.decode("utf-8", "replace").splitlines():
                if not line.strip():
                    continue
                item = json.loads(line)
                key, resp = item.get("custom_id"), item.get("response") or {}
                code = resp.get("status_code")
                if code == 200:
                    puts[key] = self.engine.reply(resp.get("body"), n, self.bcfg.price_factor)
                    self.engine.notes.pop(key, None)
                    continue
                failed += 1
                msg = str(((resp.get("body") or {}).get("error") or item.get("error") or {}).get("message", ""))
                if code == 400 and any(m in msg.lower() for m in _OVERFLOW_MARKERS):
                    puts[key] = {"error": "context_overflow"}
                elif code == 400 and ("response_format" in msg.lower() or "json_schema" in msg.lower()):
                    self.engine.notes[key] = {"error": "response_format_unsupported"}
                elif code is not None and 400 <= code < 500 and code not in (408, 409, 429):
                    puts[key] = {"error": f"bad_request_{code}"}
                else:  # a server error, a 429, or the job expired first: resubmitted next round
                    err = (item.get("error") or {}).get("code") or (f"http_{code}" if code else "batch_failed")
                    self.engine.notes[key] = {"error": err}
        if b.get("status") == "failed":
            errs = ((b.get("errors") or {}).get("data") or [{}])[0]
            log.warning("LLM batch %s failed: %s", job["batch_id"], errs.get("message", "no reason given"))
        counts = {"ok": sum(1 for v in puts.values() if "error" not in v), "failed": failed,
                  "prompt_tokens": n.prompt_tokens, "completion_tokens": n.completion_tokens, "cost": n.cost}
        self.cache.batch_collect(job["id"], self.engine.run, puts, b.get("status"), counts)

    async def _call(self, endpoint, method: str, path: str, **kw):
        """One Batch API call, retried with backoff on transport errors, 5xx and 429 (a job may take hours:
        a flaky hour of the endpoint must not lose it). Bad credentials or requests stop the build."""
        delay = 1.0
        for attempt in range(12):
            try:
                args = {**kw, "data": kw["data"]()} if callable(kw.get("data")) else kw
                return await self.transport(endpoint).request(method, path, **args)
            except T.AuthFailed as e:
                raise UserError(f"LLM server {endpoint or 'api.openai.com'} refused the credentials ({e.status})") \
                    from None
            except (T.NotFound, T.BadRequest) as e:
                raise UserError(f"LLM batch API at {endpoint or 'api.openai.com'}: {method} {path} was refused "
                                f"({e.status}: {e.message})") from None
            except (T.TransportError, T.HTTPError) as e:
                if attempt == 11:
                    raise UserError(f"LLM batch API at {endpoint or 'api.openai.com'} keeps failing ({e}); "
                                    "rerun later: submitted jobs are resumed, not paid twice") from None
                await asyncio.sleep(min(60.0, T.retry_after(getattr(e, "headers", None)) or delay))
                delay *= 2


def jobs(cache_path: str) -> list[dict]:
    """Every Batch API job recorded in a cache database, newest first."""
    from wiki_qa.llm.cache import Cache

    cols = ("id", "endpoint", "batch_id", "status", "n", "collected", "ok", "failed", "cost", "run")
    return [dict(zip(cols, r)) for r in Cache(cache_path).db.execute(
        f"SELECT {', '.join(cols)} FROM batches ORDER BY id DESC")]


def cancel(cache_path: str, api_key: str | None) -> list[str]:
    """Ask the provider to cancel every job not yet collected. The next build collects what they finished
    and submits the rest again."""
    live = [j for j in jobs(cache_path) if not j["collected"] and j["batch_id"]]

    async def go():
        out = []
        for j in live:
            t = T.Transport(j["endpoint"], api_key, 60.0, 1)
            try:
                b, _ = await t.post(f"/batches/{j['batch_id']}/cancel", {})
                out.append(f"{j['batch_id']}: {b.get('status')}")
            except (T.HTTPError, T.TransportError) as e:
                out.append(f"{j['batch_id']}: not cancelled ({e})")
            finally:
                await t.close()
        return out
    return asyncio.run(go())

