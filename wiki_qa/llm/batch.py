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

What a provider sends back is checked (issue 24, round two): output files are streamed to disk and read a
line at a time (a line over llm.max_response_bytes, or one that is not a result object, is counted as
malformed and fails alone); a result is filed only under a request key of its own job, once (unknown,
duplicate and missing ids are counted in the report, and missing ones are asked again). A job's files are
deleted from the provider once it is collected (`keep_files: true` keeps them). Jobs are recorded with
their endpoint (no credentials) and the name of their key's variable: a build resumes and polls only the
jobs of its own endpoints and keys, and `llm-batches --cancel` sends a key only to the jobs made with it.
Nothing is sent online: the endpoints are checked with GET /models, and only when a job is to be created
or polled.
"""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import json
import logging
import os
import re
import tempfile

import aiohttp

from wiki_qa import tokens
from wiki_qa.errors import BuildAborted, UserError
from wiki_qa.llm import endpoints as E
from wiki_qa.llm import prices
from wiki_qa.llm import transport as T
from wiki_qa.llm.engine import _OVERFLOW_MARKERS, Counters, InvalidReply

log = logging.getLogger("wiki_qa")

TERMINAL = {"completed", "failed", "expired", "cancelled"}
PLAN_CHUNK = 512
ADOPT_PAGES = 50  # of 100 jobs: how far back a rerun looks for a job it created but never recorded
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}")  # a provider's file or batch id, put into URL paths


def _id(value, what: str, endpoint: str) -> str:
    if isinstance(value, str) and _ID.fullmatch(value):
        return value
    raise UserError(f"LLM batch API at {endpoint}: the {what} id {T.shown(value, 80)!r} is not an id")


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
        # Jobs are recorded under the endpoint's public URL (no credentials) and the key's variable name.
        self.mine = {T.public_url(e.base_url): e for e in engine.endpoints}
        self.checked = False

    def _owned(self, job: dict) -> bool:
        """A recorded job this build may resume: one of its endpoints, with the same key's variable (jobs
        recorded before key names were kept match on the endpoint alone)."""
        ep = self.mine.get(T.public_url(job["endpoint"]))
        return ep is not None and job.get("key_env") in (None, ep.api_key_env)

    def transport(self, endpoint: str) -> T.Transport:
        if endpoint not in self.transports:
            ep = self.mine[endpoint]
            self.transports[endpoint] = T.Transport(ep.base_url, ep.api_key, max(60.0, self.cfg.timeout_s), 4,
                                                    self.cfg.max_response_bytes)
        return self.transports[endpoint]

    async def _check(self) -> None:
        """GET /models on each endpoint before the first job is created or polled: free, and never a chat
        request (a batch-only key may not chat, and a rerun with nothing to send asks nothing)."""
        if not self.checked:
            await E.check_all(self.cfg, self.engine.endpoints, chat=False)
            self.checked = True

    async def rounds(self, rows_factory) -> None:
        engine = self.engine
        engine.plan_reasks = self.bcfg.reask == "batch"
        try:
            for _ in range(self.cfg.max_retries + 1):
                pending = await self.plan(rows_factory)
                if not pending:
                    break
                await self._check()
                live, taken = self.cache.live_batches(pending, accept=self._owned)
                for job in live:  # jobs recorded before endpoints were stored as public URLs
                    job["endpoint"] = T.public_url(job["endpoint"])
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
            ep = endpoints[i % len(endpoints)]
            url = T.public_url(ep.base_url)
            name = f"wiki_qa-{self.engine.run[:8]}-{i}.jsonl"

            def form(data=data, name=name):  # a FormData is spent once sent: a retry needs a new one
                fd = aiohttp.FormData()
                fd.add_field("purpose", "batch")
                fd.add_field("file", data, filename=name, content_type="application/jsonl")
                return fd
            f = await self._call(url, "POST", "/files", upload=(form, len(data)))
            fid = _id(f.get("id"), "file", url)
            rid = self.cache.batch_record(url, fid, self.engine.run, keys, est, ep.api_key_env)
            job = {"id": rid, "endpoint": url, "file_id": fid, "batch_id": None, "status": "uploaded",
                   "run": self.engine.run, "n": len(keys), "est_cost": est, "key_env": ep.api_key_env}
            await self._create(job)
            created.append(job)
        return created

    async def _create(self, job: dict) -> None:
        b = await self._call(job["endpoint"], "POST", "/batches", body={
            "input_file_id": job["file_id"], "endpoint": "/v1/chat/completions",
            "completion_window": self.bcfg.completion_window, "metadata": {"wiki_qa_run": job["run"]}})
        bid, status = _id(b.get("id"), "batch", job["endpoint"]), _status(b)
        job.update(batch_id=bid, status=status)
        self.cache.batch_update(job["id"], batch_id=bid, status=status)
        log.info("LLM batch: created %s (%d requests) at %s", bid, job["n"], job["endpoint"])

    async def _adopt(self, job: dict) -> None:
        """A job recorded but never confirmed (the process died around its creation): find it by its input
        file, or create it now."""
        found, after = None, ""
        for _ in range(ADOPT_PAGES):  # newest first: the job, if created, is among the most recent
            data = await self._call(job["endpoint"], "GET", f"/batches?limit=100{after}")
            page = [b for b in data.get("data") or [] if isinstance(b, dict)] \
                if isinstance(data.get("data"), list) else []
            found = next((b for b in page if b.get("input_file_id") == job["file_id"]), None)
            if found is not None or not page or not data.get("has_more"):
                break
            after = f"&after={_id(page[-1].get('id'), 'batch', job['endpoint'])}"
        if found is None:
            await self._create(job)
        else:
            bid, status = _id(found.get("id"), "batch", job["endpoint"]), _status(found)
            job.update(batch_id=bid, status=status)
            self.cache.batch_update(job["id"], batch_id=bid, status=status)

    # -- wait and collect -------------------------------------------------------------------------------
    async def wait(self, live: list[dict]) -> None:
        delay = self.bcfg.poll_s
        todo = list(live)
        while todo:
            for job in list(todo):
                if not job["batch_id"]:
                    await self._adopt(job)
                bid = _id(job["batch_id"], "batch", job["endpoint"])
                b = await self._call(job["endpoint"], "GET", f"/batches/{bid}")
                if _status(b) != job.get("status"):
                    self.cache.batch_update(job["id"], status=_status(b))
                    job["status"] = _status(b)
                if job["status"] in TERMINAL:
                    await self.collect(job, b)
                    todo.remove(job)
            if todo:
                await asyncio.sleep(delay)
                delay = min(self.bcfg.poll_max_s, delay * 1.5)

    async def collect(self, job: dict, b: dict) -> None:
        """Cache a finished job's results, each under a request key of this job, once; then delete its files
        at the provider. Lines of the job that did not come back are asked again in the next round."""
        keys = set(self.cache.batch_keys(job["id"]))
        n, puts, seen, odd = Counters(), {}, set(), collections.Counter()
        failed = 0
        for fid in (b.get("output_file_id"), b.get("error_file_id")):
            if not fid:
                continue
            with tempfile.TemporaryFile() as f:
                await self._call(job["endpoint"], "GET", f"/files/{_id(fid, 'file', job['endpoint'])}/content",
                                 into=f)
                f.seek(0)
                for line in _lines(f, self.cfg.max_response_bytes):
                    item = _result(line)
                    if item is None:
                        odd["malformed_line"] += 1
                        continue
                    key, resp = item.get("custom_id"), item.get("response") or {}
                    if not isinstance(key, str) or key not in keys:
                        odd["unknown_id"] += 1  # never sent in this job: filing it would answer another row
                        continue
                    if key in seen:
                        odd["duplicate_id"] += 1  # the first answer stands
                        continue
                    seen.add(key)
                    if self._file(key, item, resp, n, puts):
                        failed += 1
        if _status(b) == "completed":  # a finished job answers every line; a failed or expired one may not
            for key in keys - seen:
                self.engine.notes[key] = {"error": "batch_missing"}
                failed += 1
                odd["missing_id"] += 1
        if odd:
            log.warning("LLM batch %s: its output had %s; those lines count as failed", job["batch_id"],
                        ", ".join(f"{v} {k.replace('_', ' ')}(s)" for k, v in sorted(odd.items())))
        if _status(b) == "failed":
            errs = (b.get("errors") or {}).get("data") if isinstance(b.get("errors"), dict) else None
            first = errs[0] if isinstance(errs, list) and errs and isinstance(errs[0], dict) else {}
            log.warning("LLM batch %s failed: %s", job["batch_id"], T.shown(first.get("message") or "no reason given"))
        counts = {"ok": sum(1 for v in puts.values() if "error" not in v), "failed": failed,
                  "prompt_tokens": n.prompt_tokens, "completion_tokens": n.completion_tokens, "cost": n.cost,
                  "anomalies": dict(odd)}
        self.cache.batch_collect(job["id"], self.engine.run, puts, _status(b), counts)
        if not self.bcfg.keep_files:
            for fid in (job.get("file_id"), b.get("output_file_id"), b.get("error_file_id")):
                await self._delete(job["endpoint"], fid)

    def _file(self, key: str, item: dict, resp: dict, n: Counters, puts: dict) -> bool:
        """File one result line of this job's own request `key`; True when the line failed."""
        code = resp.get("status_code")
        if code == 200:
            try:
                puts[key] = self.engine.reply(resp.get("body"), n, self.bcfg.price_factor)
            except InvalidReply:
                self.engine.notes[key] = {"error": "invalid_response"}  # asked again next round
                return True
            self.engine.notes.pop(key, None)
            return False
        msg = _error_message(item, resp).lower()
        if code == 400 and any(m in msg for m in _OVERFLOW_MARKERS):
            puts[key] = {"error": "context_overflow"}
        elif code == 400 and ("response_format" in msg or "json_schema" in msg):
            self.engine.notes[key] = {"error": "response_format_unsupported"}
        elif isinstance(code, int) and 400 <= code < 500 and code not in (408, 409, 429):
            puts[key] = {"error": f"bad_request_{code}"}
        else:  # a server error, a 429, or the job expired first: resubmitted next round
            err = item.get("error") if isinstance(item.get("error"), dict) else {}
            reason = err.get("code") if isinstance(err.get("code"), str) and _ID.fullmatch(err["code"]) else None
            self.engine.notes[key] = {"error": reason or (f"http_{code}" if isinstance(code, int) else "batch_failed")}
        return True

    async def _delete(self, endpoint: str, fid) -> None:
        """Delete one of a job's files at the provider (best effort: a file left there is only logged)."""
        if not fid or not isinstance(fid, str) or not _ID.fullmatch(fid):
            return
        try:
            await self.transport(endpoint).request("DELETE", f"/files/{fid}")
        except T.NotFound:
            pass
        except (T.HTTPError, T.TransportError) as e:
            log.warning("LLM batch: could not delete file %s at %s (%s); delete it there, or set "
                        "llm.batch.keep_files: true", fid, endpoint, e)

    async def _call(self, endpoint: str, method: str, path: str, *, body: dict | None = None, upload=None,
                    into=None):
        """One Batch API call, retried with backoff on transport errors, 5xx and 429 (a job may take hours:
        a flaky hour of the endpoint must not lose it). Bad credentials or requests stop the build. Returns
        the JSON object; `upload=(form factory, size)` sends a file, `into` receives one (streamed)."""
        delay = 1.0
        t = self.transport(endpoint)
        for attempt in range(12):
            try:
                if upload is not None:
                    data, _ = await t.send_file(path, upload[0](), upload[1])
                elif into is not None:
                    into.seek(0)
                    into.truncate()
                    await t.fetch_file(path, into)
                    return None
                else:
                    data, _ = await t.request(method, path, body=body)
                if not isinstance(data, dict):
                    raise T.InvalidResponse("not a JSON object")
                return data
            except T.AuthFailed as e:
                raise UserError(f"LLM server {endpoint} refused the credentials ({e.status})") from None
            except T.Redirected as e:
                raise E.redirected(endpoint, e) from None
            except (T.NotFound, T.BadRequest) as e:
                raise UserError(f"LLM batch API at {endpoint}: {method} {path} was refused "
                                f"({e.status}: {e.message})") from None
            except (T.TransportError, T.HTTPError) as e:
                if attempt == 11:
                    raise UserError(f"LLM batch API at {endpoint} keeps failing ({T.shown(e)}); "
                                    "rerun later: submitted jobs are resumed, not paid twice") from None
                await asyncio.sleep(min(60.0, T.retry_after(getattr(e, "headers", None)) or delay))
                delay *= 2


def _status(b: dict) -> str:
    """A job's status as the provider gives it, if it is one of the Batch API's (else "unknown": polled on)."""
    status = b.get("status")
    known = TERMINAL | {"validating", "in_progress", "finalizing", "cancelling"}
    return status if status in known else "unknown"


def _lines(f, limit: int):
    """The non-empty lines of a downloaded file, read one at a time; None for a line over `limit` bytes
    (skipped without being held)."""
    while line := f.readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := f.readline(2 ** 20)) and not rest.endswith(b"\n"):
                pass
            yield None
        elif line.strip():
            yield line


def _result(line: bytes | None) -> dict | None:
    """One output line as a result object ({custom_id, response: {...} or null, error}), else None."""
    if line is None:
        return None
    try:
        item = json.loads(line)
    except ValueError:
        return None
    if not isinstance(item, dict) or not isinstance(item.get("response") or {}, dict):
        return None
    return item


def _error_message(item: dict, resp: dict) -> str:
    for holder in (resp.get("body"), item):
        err = holder.get("error") if isinstance(holder, dict) else None
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return err["message"]
    return ""


def jobs(cache_path: str) -> list[dict]:
    """Every Batch API job recorded in a cache database, newest first."""
    from wiki_qa.llm.cache import Cache

    cols = ("id", "endpoint", "batch_id", "status", "n", "collected", "ok", "failed", "cost", "run", "key_env")
    return [dict(zip(cols, r)) for r in Cache(cache_path).db.execute(
        f"SELECT {', '.join(cols)} FROM batches ORDER BY id DESC")]


def cancel(cache_path: str, api_key_env: str) -> list[str]:
    """Ask the provider to cancel every job not yet collected that was made with the key in $`api_key_env`
    (each job is sent only its own key). The next build collects what they finished and submits the rest
    again."""
    key = os.environ.get(api_key_env)
    live = [j for j in jobs(cache_path) if not j["collected"] and j["batch_id"]]

    async def go():
        out = []
        for j in live:
            bid = T.shown(j["batch_id"], 80)
            if j["key_env"] != api_key_env:
                how = (f"made with ${j['key_env']}: --api-key-env {j['key_env']}" if j["key_env"] else
                       "recorded without its key's name: cancel it at the provider")
                out.append(f"{bid}: not cancelled ({how})")
                continue
            t = T.Transport(j["endpoint"], key, 60.0, 1)
            try:
                b, _ = await t.post(f"/batches/{_id(j['batch_id'], 'batch', j['endpoint'])}/cancel", {})
                out.append(f"{bid}: {_status(b) if isinstance(b, dict) else 'unknown'}")
            except (T.HTTPError, T.TransportError, UserError) as e:
                out.append(f"{bid}: not cancelled ({T.shown(e)})")
            finally:
                await t.close()
        return out
    return asyncio.run(go())
