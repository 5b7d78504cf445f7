"""The LLM map step over a datasets.Dataset (one batched async Dataset.map), and the --dry-run estimate.

`open_engine` is what every executor shares: endpoints resolved (the bundled server started for
`provider: local`) and an Engine for one run, which checks them before its first request that must be
sent (a rebuild served from the cache needs no server). `map_rows` is the map itself.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
import uuid

import datasets
import pyarrow as pa

from wiki_qa import tokens
from wiki_qa.errors import UserError
from wiki_qa.llm import endpoints as E
from wiki_qa.llm import prices
from wiki_qa.llm.config import LLMConfig, resolve
from wiki_qa.llm.engine import Engine
from wiki_qa.llm.stats import LLMStats
from wiki_qa.llm.tasks import Task


def check_columns(column_names) -> None:
    missing = {"id", "title", "text"} - set(column_names)
    if missing:
        raise UserError(f"generate: input rows lack columns {sorted(missing)} (expects chunk rows)")


@contextlib.contextmanager
def open_engine(task: Task, llm: LLMConfig, *, refresh: bool = False, num_proc: int = 1):
    """An Engine for one run; the local server (if any) stops on exit. The bundled server is sent (and its
    replies are cached under) the alias of the model it serves, with the random key it was started with."""
    with contextlib.ExitStack() as stack:
        if llm.provider == "local":
            from wiki_qa.llm import local_server
            served = local_server.running(llm.model) or stack.enter_context(local_server.serve(model=llm.model))
            llm = llm.model_copy(update={"model": local_server.local_model(llm.model).alias})
            eps = [E.Endpoint(served.base_url, served.api_key, llm.concurrency, llm.rate_limit,
                              limits=llm.limits())]
        else:
            eps = E.resolve(llm)
        engine = Engine(llm, task, endpoints=eps, run=uuid.uuid4().hex, refresh=refresh, num_proc=num_proc)
        engine.cache.db  # create the file (WAL, tables) here, before worker processes race for it
        yield engine


async def _map_fn(batch: dict, engine: Engine, keep: list[str], schema: pa.Schema) -> pa.Table:
    # All rows of the batch run at once, and datasets runs many batches at once: the engine's gates (not
    # the batch shape) decide how many requests are in flight. Batches of many rows, returned as an Arrow
    # table, keep datasets' per-call work (formatting, type inference, casts) off the per-request budget.
    rows = [dict(zip(batch, vals)) for vals in zip(*batch.values())]
    results = await asyncio.gather(*(engine.run_row(row) for row in rows))
    out = {c: [] for c in schema.names}
    for row, (examples, _) in zip(rows, results):
        for ex in engine.task.output_rows(row, examples, keep):
            for c, v in ex.items():
                out[c].append(v)
    return pa.Table.from_pydict(out, schema=schema)


def iter_rows(dataset: datasets.Dataset, size: int = 1000):
    """The rows of a Dataset as dicts, read in Arrow batches."""
    for batch in dataset.iter(batch_size=size):
        yield from (dict(zip(batch, vals)) for vals in zip(*batch.values()))


def map_batch_size(concurrency: int) -> int:
    """Rows per map call: one per concurrency slot (at most 256). datasets' cost per call (formatting the
    batch, an Arrow write per column) then stays well under the engine's per-request cost, and its up to
    1000 concurrent calls still hold far more rows than there are slots."""
    return max(8, min(256, concurrency))


def _in_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


def map_rows(dataset: datasets.Dataset, task: Task, llm: LLMConfig, *, num_proc: int | None = None,
             refresh: bool = False, stats: LLMStats | None = None) -> datasets.Dataset:
    """Chunk rows -> example rows, as one map over the whole dataset (the executors' building block)."""
    stats = stats if stats is not None else LLMStats()
    check_columns(dataset.column_names)
    keep = task.output_columns(dataset.column_names)
    feats = task.output_features(dataset.features, keep)
    if dataset.num_rows == 0:  # datasets' map of 0 rows drops the features; no server needed either
        return datasets.Dataset.from_dict({c: [] for c in feats}, features=feats, split=dataset.split)
    with open_engine(task, llm, refresh=refresh, num_proc=num_proc or 1) as engine:
        t0 = time.monotonic()
        if llm.batch:
            from wiki_qa.llm import batch

            batch.run(engine, lambda: iter_rows(dataset))
        kwargs = dict(batched=True, batch_size=map_batch_size(engine.per_loop_concurrency),
                      fn_kwargs={"engine": engine, "keep": keep, "schema": feats.arrow_schema},
                      remove_columns=dataset.column_names, features=feats,
                      num_proc=num_proc, load_from_cache_file=False,  # our sqlite cache decides reuse
                      new_fingerprint=datasets.fingerprint.Hasher.hash(
                          [dataset._fingerprint, task.cfg.model_dump(mode="json"), llm.model_dump(mode="json"),
                           engine.run]),
                      desc=f"LLM {task.name} ({engine.cfg.model})")

        def run_map():
            try:
                return dataset.map(_map_fn, **kwargs)
            finally:
                engine.close()  # in the thread that ran the map's loop

        try:
            if _in_running_loop():  # Jupyter: datasets cannot run its own loop inside a running one
                with concurrent.futures.ThreadPoolExecutor(1) as ex:
                    out = ex.submit(run_map).result()
            else:
                out = run_map()
        finally:
            stats.add_run(engine.cache, engine.run, time.monotonic() - t0)
            if engine.min_seen < engine.per_loop_concurrency:
                stats.min_concurrency = engine.min_seen
    stats.examples += len(out)
    return out


def generate(dataset: datasets.Dataset, task=None, llm=None, *, num_proc: int | None = None,
             refresh: bool = False, stats: LLMStats | None = None) -> datasets.Dataset:
    """Chunk rows -> example rows (`prompt`, `completion`, metadata; `text` dropped; id `{chunk id}/{task}/{k}`).

    `task`: a task name, a dict of `generate:` fields, a task Config or a Task; `llm`: the `llm:` section
    as a dict or LLMConfig (a flat dict of old `generate:` keys works too). Outcomes and counters go to
    `stats` (an LLMStats), not to columns.
    """
    t, cfg = resolve(task, llm)
    res = t.map_splits(datasets.DatasetDict({"train": dataset}), lambda d: datasets.DatasetDict(
        {s: map_rows(d[s], t, cfg, num_proc=num_proc, refresh=refresh, stats=stats) for s in d}), cfg.model)
    if res is not None:  # translate: rows -> units -> engine -> rows
        return res[0]["train"]
    return map_rows(dataset, t, cfg, num_proc=num_proc, refresh=refresh, stats=stats)


def estimate(rows, llm=None, task=None) -> dict:
    """--dry-run: requests, prompt tokens (tiktoken cl100k_base, offline), estimated completion tokens and
    cost, without contacting any server. Retries and re-asks are not included (a lower bound)."""
    t, cfg = resolve(task, llm)
    n_req = p_tok = c_tok = items = 0
    for row in t.request_rows(rows):
        if not t.asks(row):
            continue
        n_req += 1
        schema = t.schema(row) if cfg.response_format == "json_schema" else None
        p_tok += tokens.count_messages(t.prompt(row)) + (tokens.count_tokens(str(schema)) if schema else 0)
        k, per = t.estimate(row)
        items += k
        c_tok += min(cfg.max_tokens, 10 + k * per)
    price = prices.price_for(cfg)
    factor = cfg.batch.price_factor if cfg.batch else 1.0  # the Batch API's price
    return {"model": cfg.model, "task": t.name, "requests": n_req, "prompt_tokens": p_tok,
            "completion_tokens_est": c_tok, "items_est": items, "priced": price is not None,
            "batch": cfg.batch is not None, "cost_usd_est": round(prices.cost(price, p_tok, c_tok) * factor, 6),
            "max_cost_usd": cfg.max_cost_usd}
