"""The Ray executor (`engine: ray`, extra `[ray]`): the same two phases as executor/local.py on a Ray cluster.

- `stages`: one Ray task per shard (`source.shards(parallel=4 x CPUs)`, spread over the nodes). Each runs
  the unchanged `wiki_qa.pipeline.stages.stage_rows` and writes its rows straight to a staging folder
  (executor/staging.py: one Arrow file per split; `ray_staging`, default under the datasets cache; a folder
  every node shares, or s3://...). The driver gathers only the tasks' records (file names, row counts,
  StageStats) and opens each split as the memory-mapped concatenation of the files in shard order: the
  rows equal the local engine's (input order) and the driver's memory does not grow with the input.
  A shard whose record exists from an earlier run of the same build (same stage key) is not read again,
  so a build that died after hours resumes where it stopped.
- `generate`: the chunk rows cut into parts (consecutive rows of one split, a few per actor), mapped by async
  actors that each hold a `wiki_qa.llm.engine.Engine` (same prompts, parsing, retries, endpoint routing) and
  write each part's example rows to one file in the staging folder; the driver sends each part in pieces
  small enough to travel inside the call, a few ahead per actor, gathers only records, then opens the
  splits memory-mapped in part order. Every cache read/write and chunk log goes to one cache actor pinned
  to the driver's node, which owns the usual sqlite file: a Ray run resumes a local one and vice versa, and
  remote nodes never need that file. Each piece is sent once, so no request is sent twice; rows come out
  in the input order.

`ray_address`: None starts a local Ray (`num_cpus` = num_proc or all cores); "auto" or "ray://head:10001"
joins an existing cluster, whose workers must have wiki_qa installed and see the input paths (or URLs).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import shutil
import tempfile
import time
import uuid

import datasets
import pyarrow as pa

from wiki_qa import fingerprint, progress
from wiki_qa.builders import make_source
from wiki_qa.executor import staging
from wiki_qa.pipeline.stages import StageStats, stage_rows
from wiki_qa.pipeline.stages import features as stage_features
from wiki_qa.rows import SPLITS

log = logging.getLogger("wiki_qa")
SHARDS_PER_CPU = 4  # smaller shards than workers: the slowest one ends sooner, and a resumed run loses less
# The staging roots of this process's last Ray stages(): the LLM step writes beside them (the orchestrator
# gives an executor's generate() no config).
_ROOTS: dict = {}


def init(cfg=None, num_cpus: int | None = None):
    """ray.init once per process, quietly; a no-op when Ray is already up (a test fixture, a notebook).

    Workers get an empty `working_dir`: without one, Ray puts the driver's current directory first on every
    worker's sys.path, and from a source checkout the workers would import its incomplete `wiki_qa/`
    (builders/ is mapped in only at install time) instead of the installed package the driver runs."""
    import ray

    if ray.is_initialized():
        return ray
    addr = getattr(cfg, "ray_address", None)
    empty = tempfile.mkdtemp(prefix="wiki_qa-ray-workdir-")
    kw = dict(include_dashboard=False, log_to_driver=False, configure_logging=False,
              runtime_env={"working_dir": empty})
    try:
        if addr:
            ray.init(address=addr, **kw)
        else:
            _local_auth()
            ray.init(num_cpus=num_cpus or os.cpu_count(), **kw)
    finally:
        shutil.rmtree(empty, ignore_errors=True)  # uploaded by ray.init; nodes fetch it from the cluster
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    return ray


def _local_auth() -> None:
    """A Ray that wiki_qa starts for itself keeps Ray's default for new local clusters, token
    authentication (the cluster is closed to other users of the network), with a token made for this
    process: RAY_AUTH_TOKEN in its environment, inherited by the Ray processes it starts, so nothing is
    written to ~/.ray/auth_token. RAY_AUTH_MODE, RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH set by the user win
    (see docs/ray.md); Ray's notice about the default is not printed, docs/ray.md says it instead."""
    if not any(os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")):
        os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)


def _cpus(ray) -> int:
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


# -- stages ---------------------------------------------------------------------------------------------
def _stage_shard(cfg, shard: str, unit: str, folder: staging.Folder, board, cwd: str) -> dict:
    """One shard's task, on any node: its rows to the staging folder, its record back to the driver."""
    import ray

    if os.path.isdir(cwd):  # relative input paths mean what they mean on the driver (same machine)
        os.chdir(cwd)
    stats = StageStats()
    writer = staging.SplitWriter(folder, unit, stage_features(make_source(cfg.source).kind))
    try:
        with progress.shard_meter(board, shard, lambda: stats.source.pages_seen):
            for row in stage_rows(cfg, shard, stats):
                writer.write(row)
    except BaseException:
        writer.abort()
        raise
    record = {"unit": unit, "shard": shard, **writer.close(), "stats": {"shard": shard, **stats.to_json()},
              "node": ray.get_runtime_context().get_node_id()}
    staging.write_record(folder, unit, record)
    return record


class _Board:
    """The progress board of a Ray build: shard tasks post, the driver reads (progress.py)."""

    def __init__(self):
        self.states = {}

    def post(self, key, state):
        self.states[key] = state

    def snapshot(self):
        return self.states


class RayBoard:
    def __init__(self, actor):
        self.actor = actor

    def post(self, key, state):
        ref = self.actor.post.remote(key, state)  # fire and forget: progress never slows a shard down,
        if state["done"]:  # but a shard's last state is in before its task returns
            import ray

            ray.get(ref)

    def snapshot(self):
        import ray

        return ray.get(self.actor.snapshot.remote())


def staging_folder(cfg, cache_dir: str | None = None) -> tuple[staging.Folder, str]:
    """The build's staging folder (`ray_staging` or the datasets cache) and a local mirror for a remote one.
    Named by the stage key, so only a build with the same stage config, inputs and code reuses it."""
    from wiki_qa.executor.local import stage_key

    local_root = os.path.join(cache_dir or str(datasets.config.HF_DATASETS_CACHE), "wiki_qa_ray")
    name = f"{cfg.name}-{stage_key(cfg)}"
    root = getattr(cfg, "ray_staging", None) or local_root
    _ROOTS.update(staging=root, local=local_root)
    return staging.Folder(f"{root.rstrip('/')}/{name}"), os.path.join(local_root, "mirror", name)


def stages(cfg, *, num_proc=None, cache_dir=None, refresh=False):
    """Source -> clean -> chunk -> split on Ray, one task per shard, rows written by the workers."""
    ray = init(cfg, num_proc)
    source = make_source(cfg.source)
    feats = stage_features(source.kind)
    folder, mirror = staging_folder(cfg, cache_dir)
    if refresh:
        folder.remove()
        shutil.rmtree(mirror, ignore_errors=True)
    _check_shared(ray, folder)
    shards = source.shards(parallel=(num_proc or _cpus(ray)) * SHARDS_PER_CPU)
    units = [f"{i:05d}-{fingerprint.of(s)}" for i, s in enumerate(shards)]
    records = staging.finished(folder, units)
    todo = [(u, s) for u, s in zip(units, shards) if u not in records]
    if records:
        log.info("stages: %d of %d shards reused from %s", len(records), len(shards), folder.url)
    records.update(_run_shards(ray, cfg, todo, folder, len(shards), len(records), source))
    ordered = [records[u] for u in units]
    lost = staging.missing_files(folder, ordered)
    if lost:
        from wiki_qa.errors import UserError

        raise UserError(f"ray_staging {folder.url}: files written by the workers are not visible here "
                        f"({lost[0]}, ...): give a folder every node shares, or an s3:// URL")
    staging.remove_unlisted(folder, ordered, units)
    dsd = staging.assemble(folder, ordered, feats, mirror)
    return dsd, [rec["stats"] for rec in ordered]


def _run_shards(ray, cfg, todo, folder, n_shards: int, n_reused: int, source) -> dict:
    if not todo:
        return {}
    board = line = None
    if progress.enabled():
        board = RayBoard(ray.remote(num_cpus=0)(_Board).remote())
        total = None if n_reused else sum(x.get("size") or 0 for x in source.identity()) or None
        line = progress.Line("stages", board, n_shards, total, done_before=n_reused)
    task = ray.remote(num_cpus=1)(_stage_shard).options(scheduling_strategy="SPREAD")
    cfg_ref = ray.put(cfg)
    pending = {task.remote(cfg_ref, shard, unit, folder, board, os.getcwd()): unit for unit, shard in todo}
    out = {}
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=1.0, fetch_local=True)
            for ref in ready:
                unit = pending.pop(ref)
                try:
                    out[unit] = ray.get(ref)
                except Exception as e:  # a UserError inside a task (bad namespace, stub dump) stays one line
                    for other in pending:
                        ray.cancel(other)
                    _raise_user_error(e)
                    raise
            if line is not None:
                line.refresh()
    finally:
        if line is not None:
            line.close()
            ray.kill(board.actor)
    return out


def _check_shared(ray, folder: staging.Folder) -> None:
    """On a cluster of several nodes, every node must see the staging folder: checked before any work."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    nodes = [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU")]
    if len(nodes) < 2:
        return
    probe = f"probe-{uuid.uuid4().hex}.json"
    folder.write_json(probe, {"from": "driver"})
    try:
        see = ray.remote(num_cpus=0)(lambda f, rel: f.exists(rel))
        refs = {see.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False))
                .remote(folder, probe): n for n in nodes}
        blind = [n["NodeManagerAddress"] for ref, n in refs.items() if not ray.get(ref)]
    finally:
        folder.fs.rm(folder.path(probe))
    if blind:
        from wiki_qa.errors import UserError

        raise UserError(f"ray_staging {folder.url}: not visible from node {blind[0]}; give a folder every "
                        "node shares (NFS) or an s3:// URL")


def _raise_user_error(e: BaseException):
    from wiki_qa.errors import UserError

    seen = set()
    stack = [e]
    while stack:
        x = stack.pop()
        if x is None or id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, UserError) and not hasattr(x, "cause"):  # RayTaskError(UserError): text + traceback
            raise UserError(str(x)) from None
        stack += [x.__cause__, x.__context__, getattr(x, "cause", None)]
    msg = str(e)
    if "UserError: " in msg:  # a remote traceback keeps only the text
        raise UserError(msg.rsplit("UserError: ", 1)[1].strip().splitlines()[0]) from None


# -- the format step ------------------------------------------------------------------------------------
FORMAT_PARTS_PER_CPU = 2


def _format_part(part: datasets.Dataset, fmt) -> str:
    """One part's format map, in a worker: datasets writes it to a cache file beside the part's own files;
    only that file's name travels back."""
    from wiki_qa.pipeline import formats

    datasets.disable_progress_bars()
    return formats.apply(part, fmt).cache_files[0]["filename"]


def format_rows(dsd, fmt, *, num_proc=None):
    """The format step on Ray. Rows already in the format (chunk rows as text, generated rows as
    completion) lose columns only; otherwise each split is cut into contiguous parts, mapped by Ray tasks
    on the driver's node (where the rows' files are: the staging folder or its local mirror), and opened
    memory-mapped in part order. The driver reads no row either way."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from wiki_qa.pipeline import formats

    def in_driver(ds) -> bool:  # nothing to read: a projection, an empty split, or rows held in memory
        return formats.is_projection(ds, fmt) or not ds.num_rows or not ds.cache_files

    if all(in_driver(dsd[s]) for s in SPLITS):
        return datasets.DatasetDict({s: formats.apply(dsd[s], fmt) for s in SPLITS})
    ray = init(None, num_proc)
    task = ray.remote(num_cpus=1)(_format_part).options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False))
    pieces = max(1, (num_proc or _cpus(ray)) * FORMAT_PARTS_PER_CPU)
    refs = {s: [task.remote(dsd[s].shard(n, i, contiguous=True), fmt) for i in range(n)]
            for s in SPLITS if not in_driver(dsd[s]) for n in [min(pieces, dsd[s].num_rows)]}
    out = {}
    for s in SPLITS:
        if s not in refs:
            out[s] = formats.apply(dsd[s], fmt)
            continue
        try:
            files = ray.get(refs[s])
        except Exception as e:  # the worker's ValueError (messages without prompt/completion), without its trace
            cause = getattr(e, "cause", None)
            if isinstance(cause, ValueError):
                raise ValueError(str(cause)) from None
            raise
        out[s] = staging.open_split(files, formats.features(fmt.type), s)
    return datasets.DatasetDict(out)


# -- the save -------------------------------------------------------------------------------------------
def _save_part(part: datasets.Dataset, folder: str) -> list[str]:
    """One part of a split saved by a worker (datasets' own save_to_disk); returns its data files in order."""
    datasets.disable_progress_bars()
    part.save_to_disk(folder)
    with open(os.path.join(folder, "state.json"), encoding="utf-8") as f:
        return [x["filename"] for x in json.load(f)["_data_files"]]


def save_rows(dsd, path: str, *, num_proc=None) -> None:
    """The rows as a save_to_disk folder, written by Ray tasks on the driver's node (the output folder is
    the driver's): each split cut into contiguous parts, each part saved by datasets in a worker, then
    its files moved into the split's folder in part order and listed in the split's state.json (the list
    load_from_disk reads). The driver reads no row: its memory does not grow with the output."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from wiki_qa.executor import local

    ray = init(None, num_proc)
    pieces = max(1, (num_proc or _cpus(ray)) * FORMAT_PARTS_PER_CPU)
    task = ray.remote(num_cpus=1)(_save_part).options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False))
    by_workers = [s for s in SPLITS if dsd[s].num_rows and dsd[s].cache_files]
    local.save_rows(datasets.DatasetDict({s: dsd[s] for s in SPLITS if s not in by_workers}), path)
    refs = {s: [task.remote(dsd[s].shard(n, i, contiguous=True), os.path.join(path, s, f".part-{i:05d}"))
                for i in range(n)] for s in by_workers for n in [min(pieces, dsd[s].num_rows)]}
    for s, parts in refs.items():
        folder = os.path.join(path, s)
        files = [(os.path.join(folder, f".part-{i:05d}"), name) for i, names in enumerate(ray.get(parts))
                 for name in names]
        names = [f"data-{k:05d}-of-{len(files):05d}.arrow" for k in range(len(files))]
        for (part, name), new in zip(files, names):
            os.replace(os.path.join(part, name), os.path.join(folder, new))
        first = os.path.join(folder, ".part-00000")
        with open(os.path.join(first, "state.json"), encoding="utf-8") as f:
            state = json.load(f)
        state["_data_files"] = [{"filename": n} for n in names]
        with open(os.path.join(folder, "state.json"), "w", encoding="utf-8") as f:
            json.dump(state, f, indent=2, sort_keys=True)
        os.replace(os.path.join(first, "dataset_info.json"), os.path.join(folder, "dataset_info.json"))
        for i in range(len(parts)):
            shutil.rmtree(os.path.join(folder, f".part-{i:05d}"))
    with open(os.path.join(path, "dataset_dict.json"), "w", encoding="utf-8") as f:
        json.dump({"splits": list(SPLITS)}, f)


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
    """An async actor that maps *parts* (consecutive chunk rows of one split) to example rows and writes each
    part's rows to one file in the staging folder (executor/staging.py). A part arrives as a run of small
    pieces, several in flight at once on the actor's event loop (the engine's router, with its per-endpoint
    AIMD gates, rate limits and breaker, decides how many requests run); each piece's rows are written in
    piece order. Only the call with a part's last piece returns something: the part's record."""

    def __init__(self, engine, keep: list[str], folder: staging.Folder, feats: datasets.Features):
        self.engine, self.keep, self.folder, self.feats = engine, keep, folder, feats
        self.parts: dict[str, dict] = {}

    async def run(self, part: str, split: str, seq: int, last: bool, ipc: bytes) -> dict | None:
        rows = pa.ipc.open_stream(ipc).read_all().to_pylist()
        results = await asyncio.gather(*(self.engine.run_row(r) for r in rows))
        st = self.parts.get(part)
        if st is None:  # no await since the lookup: one state per part
            st = self.parts[part] = {"next": 0, "turn": asyncio.Condition(),
                                     "writer": staging.SplitWriter(self.folder, part, self.feats, SPLIT_COL)}
        async with st["turn"]:
            await st["turn"].wait_for(lambda: st["next"] == seq)
            try:
                for row, (examples, _) in zip(rows, results):
                    for ex in self.engine.task.output_rows(row, examples, self.keep):
                        st["writer"].write({**ex, SPLIT_COL: split})
            except BaseException:
                st["writer"].abort()
                raise
            st["next"] += 1
            st["turn"].notify_all()
        if not last:
            return None
        import ray

        del self.parts[part]
        return {"unit": part, **st["writer"].close(), "node": ray.get_runtime_context().get_node_id()}


SPLIT_COL = "_wiki_qa_split"  # the writers' own key: the example rows may carry a `split` column of their own
PARTS_PER_ACTOR = 4  # parts (output files) per actor: a short tail, and few files whatever the input's size
IN_FLIGHT_PER_ACTOR = 4  # pieces sent ahead per actor at least: a slow request holds up one piece, not the actor
# A piece's rows go to its actor inside the call (Ray inlines arguments under 100 KB); a bigger one would be
# copied into the object store's shared memory by the driver, whose resident size then grows with the input.
PIECE_BYTES = 80_000


def generate_folder(dsd, task, llm, cache_dir: str | None = None) -> tuple[staging.Folder, str]:
    """Where the LLM step's workers write: beside the stage files (the last `stages()`' root, which is
    `ray_staging` when given, so every node sees it), named by the inputs and the task/model settings."""
    local_root = _ROOTS.get("local") or os.path.join(cache_dir or str(datasets.config.HF_DATASETS_CACHE),
                                                     "wiki_qa_ray")
    root = _ROOTS.get("staging") or local_root
    name = "generate-" + fingerprint.of([dsd[s]._fingerprint for s in SPLITS], task.name,
                                        task.cfg.model_dump(mode="json"), llm.model_dump(mode="json"))
    return staging.Folder(f"{root.rstrip('/')}/{name}"), os.path.join(local_root, "mirror", name)



def generate(dsd, task_cfg, llm_cfg, *, num_proc=None, refresh=False, stats=None):
    """Chunk rows -> example rows on Ray, written by the workers. The driver cuts each split into parts and
    feeds each part to an LLM actor in pieces (Arrow slices of its memory-mapped rows, under Ray's inline
    size); the actors write the example rows, one file per part, and return file names and row counts; the
    splits are then the memory-mapped concatenations of those files in part order (input order, as the
    local engine's). Neither the chunk rows nor the example rows pass through the driver's memory all at
    once. A rerun is resumed by the response cache (no request is sent twice), not by part records."""
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
    folder, mirror = generate_folder(dsd, task, llm)
    folder.remove()  # this build's earlier attempt: the response cache, not its files, carries a rerun
    shutil.rmtree(mirror, ignore_errors=True)
    _check_shared(ray, folder)
    total = sum(dsd[s].num_rows for s in SPLITS)
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
        pool = []
        try:
            per_part = max(1, -(-total // (actors * PARTS_PER_ACTOR)))
            units = [(f"{i:03d}-{s}-{a:010d}", s, a, min(a + per_part, dsd[s].num_rows))
                     for i, s in enumerate(SPLITS) for a in range(0, dsd[s].num_rows, per_part)]
            piece = max(1, min(256, PIECE_BYTES // _row_bytes(dsd)))
            ahead = max(IN_FLIGHT_PER_ACTOR, -(-2 * engine.per_loop_concurrency // piece))  # keep its slots busy
            pool = [ray.remote(num_cpus=0.25)(_LLMWorker).options(scheduling_strategy="SPREAD")
                    .remote(engine, keep, folder, feats)
                    for _ in range(min(actors, max(1, len(units))))]
            records = _run_parts(ray, pool, dsd, units, piece, ahead)
        finally:
            stats.add_run(Cache(engine.cache.path), engine.run, time.monotonic() - t0)
            for actor in pool:
                ray.kill(actor)
            ray.kill(cache_actor)
    records = [records[u[0]] for u in units]
    lost = staging.missing_files(folder, records)
    if lost:
        from wiki_qa.errors import UserError

        raise UserError(f"ray_staging {folder.url}: files written by the LLM workers are not visible here "
                        f"({lost[0]}, ...): give a folder every node shares, or an s3:// URL")
    out = staging.assemble(folder, records, feats, mirror, split_column=SPLIT_COL)
    stats.examples += sum(out[s].num_rows for s in SPLITS)
    return out


def _ipc(table: pa.Table) -> bytes:
    """A unit's rows as Arrow IPC bytes: only the slice's own values (a pickled slice of a memory-mapped
    table would carry the whole file's buffers)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue().to_pybytes()


def _row_bytes(dsd) -> int:
    """Arrow bytes of an average row (of the files under the splits, which an index mapping may select)."""
    n = sum(dsd[s].data.num_rows for s in SPLITS)
    return max(1, -(-sum(dsd[s].data.nbytes for s in SPLITS) // max(1, n)))


def _run_parts(ray, pool, dsd, parts, piece: int, ahead: int) -> dict:
    """Feeds each actor its parts piece by piece, `ahead` pieces in flight per actor; a free actor takes the
    next part in order. Returns {part: record}."""
    todo = list(reversed(parts))
    current: list = [None] * len(pool)  # per actor: [part, split, next row, end, next piece number]
    busy = [0] * len(pool)
    pending, out = {}, {}

    def feed(i: int) -> None:
        while busy[i] < ahead and (current[i] or todo):
            if current[i] is None:
                name, split, a, b = todo.pop()
                current[i] = [name, split, a, b, 0]
            name, split, a, b, seq = current[i]
            e = min(a + piece, b)
            ref = pool[i].run.remote(name, split, seq, e == b, _ipc(dsd[split].with_format("arrow")[a:e]))
            pending[ref] = (name, i)
            busy[i] += 1
            current[i] = None if e == b else [name, split, e, b, seq + 1]

    for i in range(len(pool)):
        feed(i)
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            name, i = pending.pop(ref)
            busy[i] -= 1
            try:
                rec = ray.get(ref)
            except Exception as e:  # a UserError inside an actor (a bad schema, a stopped server) stays one line
                for other in pending:
                    ray.cancel(other)
                _raise_user_error(e)
                raise
            if rec is not None:
                out[name] = rec
            feed(i)
    return out
