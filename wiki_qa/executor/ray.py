"""The Ray executor (`engine: ray`, extra `[ray]`): the same two phases as executor/local.py on a Ray cluster.

- `stages`: one Ray Data CPU task per shard (`source.shards(parallel=CPUs)`); each runs the unchanged
  `wiki_qa.pipeline.stages.stage_rows` and returns Arrow rows plus its StageStats. Materialized once, then
  cut into splits in the canonical order (wiki_qa.executor.split_indices), so the rows equal the local
  engine's.
- `generate`: the chunk rows of all splits as one Ray Dataset, mapped by async actor UDFs that each hold a
  `wiki_qa.llm.engine.Engine` (same prompts, parsing, retries, endpoint routing). Every cache read/write and
  chunk log goes to one cache actor pinned to the driver's node, which owns the usual sqlite file: a Ray
  run resumes a local one and vice versa, and remote nodes never need that file. Materialized once, so no
  request is sent twice; rows come back in the input order.

`ray_address`: None starts a local Ray (`num_cpus` = num_proc or all cores); "auto" or "ray://head:10001"
joins an existing cluster, whose workers must have wiki_qa installed and see the input paths (or URLs).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time

import datasets
import pyarrow as pa

from wiki_qa.builders import make_source
from wiki_qa.executor import split_indices
from wiki_qa.pipeline.stages import StageStats, stage_rows
from wiki_qa.pipeline.stages import features as stage_features
from wiki_qa.rows import SPLITS

log = logging.getLogger("wiki_qa")


def init(cfg=None, num_cpus: int | None = None):
    """ray.init once per process, quietly; a no-op when Ray is already up (a test fixture, a notebook)."""
    import ray

    if ray.is_initialized():
        return ray
    addr = getattr(cfg, "ray_address", None)
    kw = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
    if addr:
        ray.init(address=addr, **kw)
    else:
        ray.init(num_cpus=num_cpus or os.cpu_count(), **kw)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    return ray


def _cpus(ray) -> int:
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


# -- stages ---------------------------------------------------------------------------------------------
def _stage_fn(batch: pa.Table, cfg, schema: pa.Schema):
    """One shard's task: stage_rows as Arrow batches, then one row holding its StageStats."""
    names = [f.name for f in schema]
    for t in batch.to_pylist():
        stats, rows = StageStats(), []
        for row in stage_rows(cfg, t["shard"], stats):
            rows.append({**{c: row.get(c) for c in names if not c.startswith("_")}, "_stats": None})
            if len(rows) == 1000:
                yield pa.Table.from_pylist(rows, schema=schema)
                rows = []
        rec = {"shard": t["shard"], **stats.to_json()}
        rows.append({c: None for c in names} | {"_stats": json.dumps(rec)})
        yield pa.Table.from_pylist(rows, schema=schema)


def stages(cfg, *, num_proc=None, cache_dir=None, refresh=False):
    """Source -> clean -> chunk -> split on Ray, one task per shard. (No stage cache of its own: every call
    re-reads the input.)"""
    ray = init(cfg, num_proc)
    source = make_source(cfg.source)
    shards = source.shards(parallel=num_proc or _cpus(ray))
    feats = stage_features(source.kind)
    schema = pa.schema(list(feats.arrow_schema) + [pa.field("_stats", pa.string())])
    ds = ray.data.from_items([{"shard": s} for s in shards], override_num_blocks=len(shards)).map_batches(
        _stage_fn, batch_size=1, batch_format="pyarrow", zero_copy_batch=True,
        fn_kwargs={"cfg": cfg, "schema": schema})
    try:
        mat = ds.materialize()  # once
        table = _concat(ray.get(mat.to_arrow_refs()), schema)
    except Exception as e:  # a UserError inside a task (bad namespace, stub dump) stays one line
        _raise_user_error(e)
        raise
    is_stats = table.column("_stats").is_valid()
    stage_stats = [json.loads(x) for x in table.filter(is_stats).column("_stats").to_pylist()]
    rows = table.filter(pa.compute.invert(is_stats)).drop_columns(["_stats"])
    where = split_indices(rows)
    row_feats = datasets.Features({k: v for k, v in feats.items() if k != "split"})
    out = {s: _dataset(rows.take(pa.array(where[s], pa.int64())), row_feats, s) for s in SPLITS}
    return datasets.DatasetDict(out), stage_stats


def _concat(tables, schema) -> pa.Table:
    tables = [t for t in tables if t.num_rows]
    return pa.concat_tables([t.select(schema.names).cast(schema) for t in tables]) if tables \
        else schema.empty_table()


def _dataset(table: pa.Table, feats: datasets.Features, split: str) -> datasets.Dataset:
    table = table.select(list(feats)).cast(feats.arrow_schema)
    return datasets.Dataset(datasets.table.InMemoryTable(table), info=datasets.DatasetInfo(features=feats),
                            split=datasets.Split(split))


def _raise_user_error(e: BaseException):
    from wiki_qa.errors import UserError

    seen = set()
    stack = [e]
    while stack:
        x = stack.pop()
        if x is None or id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, UserError):
            raise UserError(str(x)) from None
        stack += [x.__cause__, x.__context__, getattr(x, "cause", None)]
    msg = str(e)
    if "UserError: " in msg:  # a remote traceback keeps only the text
        raise UserError(msg.rsplit("UserError: ", 1)[1].strip().splitlines()[0]) from None


# -- the LLM step ---------------------------------------------------------------------------------------
class _CacheActor:
    """The sqlite response cache + chunk log, served from the driver's node (one writer, WAL)."""

    def __init__(self, path: str):
        from wiki_qa.llm.cache import Cache

        self.c = Cache(path)
        self.c.db

    def get(self, k):
        return self.c.get(k)

    def put(self, k, body):
        self.c.put(k, body)

    def log_chunk(self, run, chunk, rec):
        self.c.log_chunk(run, chunk, rec)

    def run_cost(self, run):
        return self.c.run_cost(run)


class RemoteCache:
    """The engine's cache interface (async methods) over the cache actor."""

    def __init__(self, actor, path: str):
        self.actor, self.path = actor, path

    async def aget(self, k):
        return await self.actor.get.remote(k)

    async def aput(self, k, body):
        await self.actor.put.remote(k, body)

    async def alog_chunk(self, run, chunk, rec):
        await self.actor.log_chunk.remote(run, chunk, rec)

    async def arun_cost(self, run):
        return await self.actor.run_cost.remote(run)


class _LLMWorker:
    """Async actor UDF: each batch's chunks run concurrently on the actor's event loop; the engine's
    router (per-endpoint AIMD gates, rate limits, breaker) decides how many requests are in flight."""

    def __init__(self, engine, keep: list[str]):
        self.engine, self.keep = engine, keep

    async def __call__(self, batch: pa.Table) -> pa.Table:
        rows = batch.to_pylist()
        helpers = [{k: r.pop(k) for k in ("_split", "_row")} for r in rows]
        results = await asyncio.gather(*(self.engine.run_row(r) for r in rows))
        out = []
        for row, h, (examples, _) in zip(rows, helpers, results):
            for k, ex in enumerate(self.engine.task.output_rows(row, examples, self.keep)):
                out.append({**ex, "_split": h["_split"], "_row": h["_row"], "_k": k})
        cols = ["prompt", "completion", *self.keep, "_split", "_row", "_k"]
        return pa.Table.from_pylist(out) if out else pa.table({c: pa.array([], pa.null()) for c in cols})


def generate(dsd, task_cfg, llm_cfg, *, num_proc=None, refresh=False, stats=None):
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from wiki_qa.llm.cache import Cache
    from wiki_qa.llm.config import resolve
    from wiki_qa.llm.stats import LLMStats
    from wiki_qa.llm.step import check_columns, iter_rows, open_engine

    task, llm = resolve(task_cfg, llm_cfg)
    stats = stats if stats is not None else LLMStats()
    first = dsd[SPLITS[0]]
    check_columns(first.column_names)
    keep = task.output_columns(first.column_names)
    feats = task.output_features(first.features, keep)
    ray = init(None, num_proc)  # a no-op in a build: the stages phase started (or joined) Ray already
    tables = []
    for s in SPLITS:
        t = dsd[s].with_format("arrow")[:] if dsd[s].num_rows else None
        if t is not None:
            tables.append(t.append_column("_split", pa.array([s] * t.num_rows))
                           .append_column("_row", pa.array(range(t.num_rows), pa.int64())))
    actors = llm.ray_actors or max(1, min(8, _cpus(ray) // 2))
    with open_engine(task, llm, refresh=refresh, num_proc=actors) as engine:
        t0 = time.monotonic()
        if llm.batch:  # one submitter, here on the driver; the actors then read every reply from the cache
            from wiki_qa.llm import batch

            batch.run(engine, lambda: (row for s in SPLITS for row in iter_rows(dsd[s])))
        cache_actor = ray.remote(num_cpus=0)(_CacheActor).options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        ).remote(engine.cache.path)
        engine.cache = RemoteCache(cache_actor, engine.cache.path)
        try:
            if tables:
                src = pa.concat_tables(tables)
                n_rows = src.num_rows
                ds = ray.data.from_arrow(src).repartition(max(1, min(n_rows, actors * 4)))
                ds = ds.map_batches(_LLMWorker, fn_constructor_kwargs={"engine": engine, "keep": keep},
                                    batch_size=max(1, min(64, -(-n_rows // (actors * 4)))),
                                    batch_format="pyarrow", compute=ray.data.ActorPoolStrategy(size=actors),
                                    num_cpus=0.25)
                try:
                    res = _concat_any(ray.get(ds.materialize().to_arrow_refs()))  # once
                except Exception as e:
                    _raise_user_error(e)
                    raise
            else:
                res = None
        finally:
            stats.add_run(Cache(engine.cache.path), engine.run, time.monotonic() - t0)
            ray.kill(cache_actor)
    out_tables = {}
    for s in SPLITS:
        if res is None or res.num_rows == 0:
            out_tables[s] = feats.arrow_schema.empty_table()
            continue
        t = res.filter(pa.compute.equal(res.column("_split"), s))
        t = t.take(pa.compute.sort_indices(t, sort_keys=[("_row", "ascending"), ("_k", "ascending")]))
        out_tables[s] = t.drop_columns(["_split", "_row", "_k"])
    out = datasets.DatasetDict({s: _dataset(out_tables[s], feats, s) for s in SPLITS})
    stats.examples += sum(out[s].num_rows for s in SPLITS)
    return out


def _concat_any(tables) -> pa.Table | None:
    tables = [t for t in tables if t.num_rows]
    return pa.concat_tables(tables, promote_options="permissive") if tables else None
