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
from wiki_qa.llm import prices, tasks
from wiki_qa.llm.config import GenerateConfig
from wiki_qa.llm.engine import Engine
from wiki_qa.llm.stats import LLMStats


def _config(task, llm) -> GenerateConfig:
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


def _endpoint(cfg) -> tuple[str | None, str | None]:
    return cfg.base_url or os.environ.get("OPENAI_BASE_URL"), os.environ.get(cfg.api_key_env)


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
        raise UserError(f"cannot reach LLM server at {where}: check generate.base_url") from None
    except openai.APIStatusError as e:
        if e.status_code >= 500 or e.status_code == 429:
            return  # a busy/flaky server is the engine's job, not a config error
        raise UserError(f"LLM server {where} rejected a test request ({e.status_code})") from None
    finally:
        client.close()


async def _map_fn(batch: dict, engine: Engine, keep: list[str]) -> dict:
    # batch_size=1: each chunk is its own coroutine, so datasets runs up to 1000 of them at once and
    # the engine's AIMD gate (not the batch shape) decides how many requests are in flight.
    out = {c: [] for c in ["prompt", "completion", *keep]}
    for i in range(len(batch["id"])):
        row = {k: v[i] for k, v in batch.items()}
        examples, _ = await engine.run_chunk(row)
        for k, ex in enumerate(examples):
            out["prompt"].append(ex["prompt"])
            out["completion"].append(ex["completion"])
            for c in keep:
                out[c].append(f"{row['id']}/{engine.cfg.task}/{k}" if c == "id" else row[c])
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
    cfg = _config(task, llm)
    stats = stats if stats is not None else LLMStats()
    missing = {"id", "title", "text"} - set(dataset.column_names)
    if missing:
        raise UserError(f"generate: input rows lack columns {sorted(missing)} (expects chunk rows)")
    with contextlib.ExitStack() as stack:
        if cfg.provider == "local":
            from wiki_qa.llm import local_server
            base_url, api_key = stack.enter_context(local_server.serve()), None
        else:
            base_url, api_key = _endpoint(cfg)
        preflight(cfg, base_url, api_key)
        run = uuid.uuid4().hex
        engine = Engine(cfg, base_url=base_url, api_key=api_key, cache_path=cfg.cache_path(), run=run,
                        refresh=refresh, num_proc=num_proc or 1)
        engine.cache.db  # create the file (WAL, tables) here, before worker processes race for it
        keep = [c for c in dataset.column_names if c != "text"]
        if "id" not in keep:
            keep.insert(0, "id")
        feats = {"prompt": datasets.Value("string"), "completion": datasets.Value("string")}
        feats.update({c: dataset.features[c] for c in keep})
        kwargs = dict(batched=True, batch_size=1, fn_kwargs={"engine": engine, "keep": keep},
                      remove_columns=dataset.column_names, features=datasets.Features(feats),
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
    cfg = _config(task, llm)
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
