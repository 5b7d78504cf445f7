"""generate(): the LLM map step as one batched async Dataset.map; estimate(): the --dry-run numbers."""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import time
import uuid

import datasets
import openai

from wiki_qa.errors import BuildAborted, UserError
from wiki_qa import tokens
from wiki_qa.llm import endpoints as E
from wiki_qa.llm import prices, tasks
from wiki_qa.llm.config import GenerateConfig
from wiki_qa.llm.engine import Engine
from wiki_qa.llm.stats import LLMStats


def config(task, llm) -> GenerateConfig:
    if llm is None:
        cfg = GenerateConfig()
    elif isinstance(llm, GenerateConfig):
        cfg = llm.model_copy()
    else:
        cfg = GenerateConfig.model_validate(llm)
    if task:
        cfg.task = task
    if cfg.task == "custom" and not cfg.prompt_template and not cfg.prompt_file:
        raise UserError("generate.task: custom needs generate.prompt_template (and usually generate.json_schema)")
    return cfg


_config = config  # old name


def preflight(cfg, base_url, api_key, timeout_s: float = 10.0) -> None:
    """Fail in seconds, with one line, on a bad key / base_url / model, before any chunk is sent."""
    where = base_url or "api.openai.com"
    if not api_key and not base_url:
        raise UserError(f"no API key: set ${cfg.api_key_env} (or generate.base_url for a local server)")
    client = openai.OpenAI(base_url=base_url, api_key=api_key or "none", max_retries=1, timeout=timeout_s)
    try:
        try:
            ids = {m.id for m in client.models.list()}
        except openai.NotFoundError:
            ids = set()  # some servers have no /models; the 1-token call below decides
        if cfg.model not in ids:
            client.chat.completions.create(model=cfg.model, max_tokens=1,
                                           messages=[{"role": "user", "content": "ping"}])
    except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
        raise UserError(f"LLM server {where} refused the credentials ({e.status_code}); check ${cfg.api_key_env}") from None
    except openai.NotFoundError:
        raise UserError(f"LLM server {where} has no model {cfg.model!r}") from None
    except openai.APIConnectionError:
        raise E.Unreachable(f"cannot reach LLM server at {where}: check generate.base_url") from None
    except openai.APIStatusError as e:
        if e.status_code >= 500 or e.status_code == 429:
            return  # a busy/flaky server is the engine's job, not a config error
        raise UserError(f"LLM server {where} rejected a test request ({e.status_code})") from None
    finally:
        client.close()


def example_rows(row: dict, examples: list[dict], task: str, keep: list[str]):
    """The output rows of one chunk (both engines): prompt, completion, then the kept chunk columns."""
    for k, ex in enumerate(examples):
        yield k, {"prompt": ex["prompt"], "completion": ex["completion"],
                  **{c: f"{row['id']}/{task}/{k}" if c == "id" else row[c] for c in keep}}


def output_columns(column_names: list[str]) -> list[str]:
    keep = [c for c in column_names if c != "text"]
    if "id" not in keep:
        keep.insert(0, "id")
    return keep


def output_features(features: datasets.Features, keep: list[str]) -> datasets.Features:
    feats = {"prompt": datasets.Value("string"), "completion": datasets.Value("string")}
    feats.update({c: features[c] for c in keep})
    return datasets.Features(feats)


def check_columns(column_names) -> None:
    missing = {"id", "title", "text"} - set(column_names)
    if missing:
        raise UserError(f"generate: input rows lack columns {sorted(missing)} (expects chunk rows)")


@contextlib.contextmanager
def endpoints_for(cfg):
    """Resolved, preflighted endpoints for the step (the bundled local server for provider: local)."""
    with contextlib.ExitStack() as stack:
        if cfg.provider == "local":
            from wiki_qa.llm import local_server
            eps = [E.Endpoint(stack.enter_context(local_server.serve()), None, cfg.concurrency, cfg.rate_limit)]
        else:
            eps = E.resolve(cfg)
        yield E.preflight_all(cfg, eps, preflight)


async def _map_fn(batch: dict, engine: Engine, keep: list[str]) -> dict:
    # batch_size=1: each chunk is its own coroutine, so datasets runs up to 1000 of them at once and
    # the engine's AIMD gate (not the batch shape) decides how many requests are in flight.
    out = {c: [] for c in ["prompt", "completion", *keep]}
    for i in range(len(batch["id"])):
        row = {k: v[i] for k, v in batch.items()}
        examples, _ = await engine.run_chunk(row)
        for _, ex in example_rows(row, examples, engine.cfg.task, keep):
            for c, v in ex.items():
                out[c].append(v)
    return out


def _in_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


def generate(dataset: datasets.Dataset, task: str | None = None, llm=None, *, num_proc: int | None = None,
             refresh: bool = False, stats: LLMStats | None = None) -> datasets.Dataset:
    """Chunk rows -> example rows (`prompt`, `completion`, metadata; `text` dropped; id `{chunk id}/{task}/{k}`).

    Outcomes and counters go to `stats` (an LLMStats), not to columns.
    """
    cfg = config(task, llm)
    stats = stats if stats is not None else LLMStats()
    check_columns(dataset.column_names)
    if dataset.num_rows == 0:  # datasets' map of 0 rows drops the features; no server needed either
        keep = output_columns(dataset.column_names)
        feats = output_features(dataset.features, keep)
        return datasets.Dataset.from_dict({c: [] for c in feats}, features=feats, split=dataset.split)
    with endpoints_for(cfg) as eps:
        run = uuid.uuid4().hex
        engine = Engine(cfg, endpoints=eps, cache_path=cfg.cache_path(), run=run, refresh=refresh,
                        num_proc=num_proc or 1)
        engine.cache.db  # create the file (WAL, tables) here, before worker processes race for it
        keep = output_columns(dataset.column_names)
        kwargs = dict(batched=True, batch_size=1, fn_kwargs={"engine": engine, "keep": keep},
                      remove_columns=dataset.column_names, features=output_features(dataset.features, keep),
                      num_proc=num_proc, load_from_cache_file=False,  # our sqlite cache decides reuse
                      new_fingerprint=datasets.fingerprint.Hasher.hash(
                          [dataset._fingerprint, cfg.model_dump(mode="json"), run]),
                      desc=f"LLM {cfg.task} ({cfg.model})")
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
            stats.add_run(engine.cache, run, time.monotonic() - t0)
            if engine.min_seen < engine.per_loop_concurrency:
                stats.min_concurrency = engine.min_seen
    stats.examples += len(out)
    return out


def estimate(rows, llm, task: str | None = None) -> dict:
    """--dry-run: requests, prompt tokens (tiktoken cl100k_base, offline), estimated completion tokens and
    cost, without contacting any server. Retries and re-asks are not included (a lower bound)."""
    cfg = config(task, llm)
    t = tasks.get(cfg.task)
    n_req = p_tok = c_tok = items = 0
    for row in rows:
        n_req += 1
        p_tok += tokens.count_messages(t.prompt(row, cfg)) + (tokens.count_tokens(str(t.schema(row, cfg)))
                                                              if cfg.response_format == "json_schema" else 0)
        k, per = t.estimate_items(row, cfg)
        items += k
        c_tok += min(cfg.max_tokens, 10 + k * per)
    price = prices.price_for(cfg)
    return {"model": cfg.model, "task": cfg.task, "requests": n_req, "prompt_tokens": p_tok,
            "completion_tokens_est": c_tok, "items_est": items, "priced": price is not None,
            "cost_usd_est": round(prices.cost(price, p_tok, c_tok), 6), "max_cost_usd": cfg.max_cost_usd}
