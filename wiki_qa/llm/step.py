"""The LLM map step over a datasets.Dataset (one batched async Dataset.map), and the --dry-run estimate.

`open_engine` is what every executor shares: endpoints resolved (the bundled server started for
`provider: local`), preflighted, and an Engine for one run. `map_rows` is the map itself.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
import uuid

import datasets

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
    """An Engine for one run over live, preflighted endpoints; the local server (if any) stops on exit."""
    with contextlib.ExitStack() as stack:
        if llm.provider == "local":
            from wiki_qa.llm import local_server
            eps = [E.Endpoint(stack.enter_context(local_server.serve(model=llm.model)), None, llm.concurrency,
                            llm.rate_limit)]
        else:
            eps = E.resolve(llm)
        E.preflight_all(llm, eps)
        engine = Engine(llm, task, endpoints=eps, run=uuid.uuid4().hex, refresh=refresh, num_proc=num_proc)
        engine.cache.db  # create the file (WAL, tables) here, before worker processes race for it
        yield engine


async def _map_fn(batch: dict, engine: Engine, keep: list[str], columns: list[str]) -> dict:
    # batch_size=1: each chunk is its own coroutine, so datasets runs up to 1000 of them at once and
    # the engine's AIMD gate (not the batch shape) decides how many requests are in flight.
    out = {c: [] for c in columns}
    for i in range(len(batch["id"])):
        row = {k: v[i] for k, v in batch.items()}
        examples, _ = await engine.run_row(row)
        for ex in engine.task.output_rows(row, examples, keep):
            for c, v in ex.items():
                out[c].append(v)
    return out


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
        kwargs = dict(batched=True, batch_size=1, fn_kwargs={"engine": engine, "keep": keep, "columns": list(feats)},
                      remove_columns=dataset.column_names, features=feats,
                      num_proc=num_proc, load_from_cache_file=False,  # our sqlite cache decides reuse
                      new_fingerprint=datasets.fingerprint.Hasher.hash(
                          [dataset._fingerprint, task.cfg.model_dump(mode="json"), llm.model_dump(mode="json"),
                           engine.run]),
                      desc=f"LLM {task.name} ({llm.model})")
        t0 = time.monotonic()

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
    return map_rows(dataset, t, cfg, num_proc=num_proc, refresh=refresh, stats=stats)


def estimate(rows, llm=None, task=None) -> dict:
    """--dry-run: requests, prompt tokens (tiktoken cl100k_base, offline), estimated completion tokens and
    cost, without contacting any server. Retries and re-asks are not included (a lower bound)."""
    t, cfg = resolve(task, llm)
    n_req = p_tok = c_tok = items = 0
    for row in rows:
        n_req += 1
        schema = t.schema(row) if cfg.response_format == "json_schema" else None
        p_tok += tokens.count_messages(t.prompt(row)) + (tokens.count_tokens(str(schema)) if schema else 0)
        k, per = t.estimate(row)
        items += k
        c_tok += min(cfg.max_tokens, 10 + k * per)
    price = prices.price_for(cfg)
    return {"model": cfg.model, "task": t.name, "requests": n_req, "prompt_tokens": p_tok,
            "completion_tokens_est": c_tok, "items_est": items, "priced": price is not None,
            "cost_usd_est": round(prices.cost(price, p_tok, c_tok), 6), "max_cost_usd": cfg.max_cost_usd}
