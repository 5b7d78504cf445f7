"""Persistent response cache + per-chunk run log, one sqlite file in WAL mode.

- `responses`: one row per completed request, keyed by sha256(model, messages, response_format, params,
  task version). The engine's writes are group-committed: every response that arrives in one turn of the
  event loop goes into one transaction, and the request keeps its concurrency slot until that commit is
  done, so `kill -9` still loses only what was in flight, at a fraction of the per-commit cost.
- `chunks`: one row per finished chunk per run (outcome, reason, counters). Worker processes of a
  `num_proc` map all append here; `LLMStats` sums the rows of the run afterwards. This is how stats
  survive multiprocessing without any shared memory.
- `batches` / `batch_items`: every Batch API job (endpoint without credentials, the name of its key's
  variable, input file, batch id, the request keys in it), written before the job is created and marked
  collected in the same transaction that caches its results. A rerun after kill -9 resumes polling these
  instead of submitting (and paying for) the requests again.

The schema is created (or completed) in one `BEGIN IMMEDIATE` transaction whenever a table or column is
missing, so processes racing to open a fresh file, or a file left by a kill between switching to WAL and
creating the tables, end with every table. The folder is created 0700 and the file 0600: it holds the
prompts and the replies.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import threading
import time

from wiki_qa.llm.cache_check import check_db

TABLES = {
    "responses": "key TEXT PRIMARY KEY, body TEXT NOT NULL, created REAL DEFAULT (julianday('now'))",
    "chunks": "run TEXT, chunk TEXT, outcome TEXT, reason TEXT, requests INT, cache_hits INT, retries INT, "
              "prompt_tokens INT, completion_tokens INT, cost REAL, dropped TEXT, throttled INT, waits TEXT, "
              "PRIMARY KEY (run, chunk)",
    "runs": "run TEXT PRIMARY KEY, info TEXT",
    "batches": "id INTEGER PRIMARY KEY AUTOINCREMENT, endpoint TEXT, file_id TEXT, batch_id TEXT, status TEXT, "
               "run TEXT, n INT, est_cost REAL, created REAL DEFAULT (julianday('now')), collected INT DEFAULT 0, "
               "collected_run TEXT, ok INT, failed INT, prompt_tokens INT, completion_tokens INT, cost REAL, "
               "key_env TEXT, anomalies TEXT",
    "batch_items": "key TEXT, batch INTEGER, PRIMARY KEY (key, batch)",
}
# Columns added since a cache file could have been created: older files get them (and keep working).
ADDED = {"chunks": {"throttled": "INT", "waits": "TEXT"}, "batches": {"key_env": "TEXT", "anomalies": "TEXT"}}


def _missing(con: sqlite3.Connection) -> tuple[list[str], list[tuple[str, str, str]]]:
    have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    cols = [(t, c, typ) for t, added in ADDED.items() if t in have
            for c, typ in added.items() if c not in {r[1] for r in con.execute(f"PRAGMA table_info({t})")}]
    return [t for t in TABLES if t not in have], cols


def ensure_schema(con: sqlite3.Connection) -> list[str]:
    """Create the missing tables and columns in one immediate transaction (processes racing here wait for
    each other under the busy timeout); returns what was created."""
    tables, cols = _missing(con)
    if not tables and not cols:
        return []
    con.execute("BEGIN IMMEDIATE")
    try:
        tables, cols = _missing(con)  # as of now, under the write lock
        for t in tables:
            con.execute(f"CREATE TABLE {t} ({TABLES[t]})")
        for t, c, typ in cols:
            con.execute(f"ALTER TABLE {t} ADD COLUMN {c} {typ}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return tables + [f"{t}.{c}" for t, c, _ in cols]


def _wal(con: sqlite3.Connection) -> None:
    """WAL is persistent: switch once, on a new file. The switch takes a lock that the busy timeout does not
    cover, so workers racing here retry for a while."""
    for _ in range(300):
        try:
            if con.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            con.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
        time.sleep(0.05)
    raise sqlite3.OperationalError("could not switch the LLM cache to WAL mode (locked)")


def _create_private(path: str) -> None:
    """The cache's folder (0700) and file (0600), when new: it holds every prompt and reply."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass


def key(**parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class Cache:
    """Picklable (for num_proc): the connection is opened lazily per process and per thread."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        self._local, self._pid = None, None

    def __getstate__(self):
        return {"path": self.path}

    def __setstate__(self, state):
        self.path, self._local, self._pid = state["path"], None, None

    @property
    def db(self) -> sqlite3.Connection:
        if self._local is None or self._pid != os.getpid():  # fresh connections after a fork
            self._local, self._pid = threading.local(), os.getpid()
        con = getattr(self._local, "con", None)
        if con is None:
            _create_private(self.path)
            con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            check_db(con, self.path)  # a damaged file: one line naming it (security helper, issue 15)
            _wal(con)
            ensure_schema(con)
            con.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process kills
            self._local.con = con
        return con

    def get(self, k: str) -> dict | None:
        row = self.db.execute("SELECT body FROM responses WHERE key=?", (k,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, k: str, body: dict) -> None:
        self.db.execute("INSERT OR REPLACE INTO responses(key, body) VALUES (?, ?)", (k, json.dumps(body)))

    def log_chunk(self, run: str, chunk: str, rec: dict) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO chunks (run, chunk, outcome, reason, requests, cache_hits, retries, prompt_tokens,"
            " completion_tokens, cost, dropped, throttled, waits) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (run, chunk, rec["outcome"], rec.get("reason"), rec["requests"], rec["cache_hits"], rec["retries"],
             rec["prompt_tokens"], rec["completion_tokens"], rec["cost"], json.dumps(rec.get("dropped", {})),
             rec.get("throttled", 0), json.dumps(rec["waits"]) if rec.get("waits") else None))

    def run_cost(self, run: str) -> float:
        """Spent in this run: online requests (chunk log) and collected batches."""
        return self.db.execute(
            "SELECT (SELECT COALESCE(SUM(cost), 0) FROM chunks WHERE run=?)"
            " + (SELECT COALESCE(SUM(cost), 0) FROM batches WHERE collected_run=?)", (run, run)).fetchone()[0]

    # -- Batch API jobs -----------------------------------------------------------------------------
    def batch_record(self, endpoint: str, file_id: str, run: str, keys: list[str], est_cost: float,
                     key_env: str | None = None) -> int:
        """Record a job before it is created (its input file is uploaded): the keys are now taken.
        `endpoint` must carry no credentials; `key_env` names the variable of the key it was made with."""
        con = self.db
        with con:
            con.execute("BEGIN")
            rid = con.execute("INSERT INTO batches (endpoint, file_id, status, run, n, est_cost, key_env) VALUES "
                              "(?, ?, 'uploaded', ?, ?, ?, ?)",
                              (endpoint, file_id, run, len(keys), est_cost, key_env)).lastrowid
            con.executemany("INSERT OR IGNORE INTO batch_items VALUES (?, ?)", [(k, rid) for k in keys])
        return rid

    def batch_update(self, rid: int, **fields) -> None:
        sets = ", ".join(f"{k}=?" for k in fields)
        self.db.execute(f"UPDATE batches SET {sets} WHERE id=?", (*fields.values(), rid))

    def live_batches(self, keys, accept=None) -> tuple[list[dict], set[str]]:
        """Jobs not yet collected that hold any of `keys` (and that `accept(job)`, when given), and which of
        the keys they hold."""
        con, held = self.db, {}
        for k in keys:
            for (rid,) in con.execute("SELECT batch FROM batch_items JOIN batches ON batch=id "
                                      "WHERE key=? AND collected=0", (k,)):
                held.setdefault(rid, []).append(k)
        cols = ("id", "endpoint", "file_id", "batch_id", "status", "run", "n", "est_cost", "key_env")
        rows = [dict(zip(cols, r)) for rid in sorted(held) for r in con.execute(
            f"SELECT {', '.join(cols)} FROM batches WHERE id=?", (rid,))]
        rows = [r for r in rows if accept is None or accept(r)]
        return rows, {k for r in rows for k in held[r["id"]]}

    def batch_keys(self, rid: int) -> list[str]:
        """The request keys a job was recorded with: the only ids its results may be filed under."""
        return [k for (k,) in self.db.execute("SELECT key FROM batch_items WHERE batch=?", (rid,))]

    def batch_collect(self, rid: int, run: str, puts: dict, status: str, counts: dict) -> None:
        """Cache a finished job's results and mark it collected, in one transaction."""
        con = self.db
        with con:
            con.execute("BEGIN")
            con.executemany("INSERT OR REPLACE INTO responses(key, body) VALUES (?, ?)",
                            [(k, json.dumps(v)) for k, v in puts.items()])
            con.execute("UPDATE batches SET collected=1, collected_run=?, status=?, ok=?, failed=?, prompt_tokens=?,"
                        " completion_tokens=?, cost=?, anomalies=? WHERE id=?",
                        (run, status, counts["ok"], counts["failed"], counts["prompt_tokens"],
                         counts["completion_tokens"], counts["cost"],
                         json.dumps(counts["anomalies"]) if counts.get("anomalies") else None, rid))

    def run_batches(self, run: str):
        return self.db.execute("SELECT COUNT(*), COALESCE(SUM(ok), 0), COALESCE(SUM(failed), 0), "
                               "COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), "
                               "COALESCE(SUM(cost), 0) FROM batches WHERE collected_run=?", (run,)).fetchone()

    def run_batch_anomalies(self, run: str) -> dict:
        """Unknown, duplicate and missing ids and malformed lines in the output of this run's jobs."""
        out: dict = {}
        for (odd,) in self.db.execute("SELECT anomalies FROM batches WHERE collected_run=? AND anomalies IS NOT NULL",
                                      (run,)):
            for k, v in json.loads(odd).items():
                out[k] = out.get(k, 0) + v
        return out

    # The engine awaits these; a remote cache (the Ray engine's cache actor) implements them over RPC.
    async def aget(self, k: str) -> dict | None:
        return self.get(k)

    async def aput(self, k: str, body: dict) -> None:
        await self._group(self.put, k, body)

    async def alog_chunk(self, run: str, chunk: str, rec: dict) -> None:
        await self._group(self.log_chunk, run, chunk, rec)

    def _group(self, write, *args) -> asyncio.Future:
        """Queue a write for this loop turn's transaction; the future resolves once it is committed."""
        self.db  # the thread-local state exists
        local = self._local
        if getattr(local, "fut", None) is None:
            loop = asyncio.get_running_loop()
            local.fut, local.buf = loop.create_future(), []
            loop.call_soon(self._commit, local)
        local.buf.append((write, args))
        return local.fut

    def _commit(self, local) -> None:
        fut, buf = local.fut, local.buf
        local.fut, local.buf = None, []
        con = local.con
        try:
            con.execute("BEGIN")
            for write, args in buf:
                write(*args)
            con.execute("COMMIT")
        except BaseException as e:  # noqa: BLE001 - handed to every waiter
            if con.in_transaction:
                con.execute("ROLLBACK")
            fut.set_exception(e)
        else:
            fut.set_result(None)

    async def arun_cost(self, run: str) -> float:
        return self.run_cost(run)

    def run_failures(self, run: str) -> dict[str, str]:
        """Row id -> reason, for the rows of a run that ended `failed` (the preference step drops their pairs
        with that reason: `truncated` when every reply was cut off at max_tokens)."""
        return dict(self.db.execute("SELECT chunk, reason FROM chunks WHERE run=? AND outcome='failed'",
                                    (run,)).fetchall())

    def run_rows(self, run: str):
        return self.db.execute(
            "SELECT outcome, reason, requests, cache_hits, retries, prompt_tokens, completion_tokens, cost, dropped,"
            " throttled, waits FROM chunks WHERE run=?", (run,)).fetchall()
