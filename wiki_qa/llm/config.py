"""The two YAML sections of the LLM step.

- `llm:` (LLMConfig): the engine and its transport, shared by every task: provider, model, endpoints,
  concurrency, limits, retries, sampling, cache, batch mode and cost.
- `generate:` (TaskConfig): `task:` and that task's own fields, validated by the task's Config.

Old configs kept engine keys under `generate:`; `migrate_legacy` moves them into `llm:` with a warning.
"""
from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, SerializeAsAny, ValidationError, field_validator, model_validator

from wiki_qa.configbase import StrictModel
from wiki_qa.errors import UserError
from wiki_qa.llm.tasks import TASKS, Task, TaskConfig

log = logging.getLogger("wiki_qa")


class Price(StrictModel):
    input_per_1m: float
    output_per_1m: float


class Limits(StrictModel):
    """Per-minute limits of a provider tier (see wiki_qa/llm/limits.py). None = not limited (unless the
    server's x-ratelimit-* headers say otherwise)."""
    rpm: float | None = Field(None, gt=0)         # requests per minute
    tpm: float | None = Field(None, gt=0)         # tokens per minute, input + output
    input_tpm: float | None = Field(None, gt=0)   # input tokens per minute
    output_tpm: float | None = Field(None, gt=0)  # output tokens per minute

    def limits(self) -> dict:
        return {k: getattr(self, k) for k in Limits.model_fields if getattr(self, k)}


class EndpointConfig(Limits):
    """One OpenAI-compatible server in `llm.endpoints`. Requests go to the least busy live endpoint."""
    base_url: str
    concurrency: int | None = Field(None, ge=1)   # default: llm.concurrency
    rate_limit: float | None = Field(None, gt=0)  # requests per second, evenly spaced; None = no limit
    api_key_env: str | None = None                # default: llm.api_key_env


class BatchConfig(StrictModel):
    """`llm.batch`: send the requests through the provider's Batch API (/v1/files + /v1/batches) at its
    batch price; `batch: true` takes these defaults."""
    completion_window: str = "24h"
    poll_s: float = Field(30.0, gt=0)        # first wait between status checks; grows 1.5x up to poll_max_s
    poll_max_s: float = Field(300.0, gt=0)
    max_requests: int = Field(50_000, ge=1)  # per input file (OpenAI's limit)
    max_bytes: int = Field(190_000_000, ge=1_000)  # per input file (OpenAI allows 200 MB)
    # Items that fail validation are asked again: in a follow-up batch (half price, another wait) or online.
    reask: Literal["batch", "online"] = "batch"
    price_factor: float = Field(0.5, gt=0)   # batch price / online price
    # Input and output files are deleted from the provider once a job is collected (they are a second copy
    # of the text, kept there indefinitely, and count against its storage quota); true keeps them.
    keep_files: bool = False

    @classmethod
    def coerce(cls, v):
        return cls() if v is True else None if v is False else v


class LLMConfig(Limits):
    # "openai": any OpenAI-compatible endpoint (base_url / OPENAI_BASE_URL).
    # "local": start the bundled llama.cpp + Gemma 3 270M server for the duration of the step.
    provider: Literal["openai", "local"] = "openai"
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    # Name of the env var holding the key: the key itself never enters the config (or the report).
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = Field(32, ge=1)
    rate_limit: float | None = Field(None, gt=0)  # requests per second to base_url, evenly spaced
    # rpm / tpm / input_tpm / output_tpm (from Limits): token buckets for base_url (endpoints: their own)
    # Several servers instead of base_url: each request goes to the least busy live one; an endpoint that
    # fails `endpoint_failures` times in a row leaves the rotation for `endpoint_cooldown_s` (doubling,
    # up to 10x, while it keeps failing), then gets one probe request.
    endpoints: list[EndpointConfig] | None = Field(None, min_length=1)
    endpoint_failures: int = Field(3, ge=1)
    endpoint_cooldown_s: float = Field(5.0, gt=0)
    ray_actors: int | None = Field(None, ge=1)  # engine: ray: LLM actors (default: one per 2 cluster CPUs)
    max_retries: int = Field(5, ge=0)
    timeout_s: float = 120.0
    max_response_bytes: int = Field(10 * 2 ** 20, ge=4096)  # a longer reply is cut off and retried, never cached
    temperature: float = 0.2
    max_tokens: int = 1024
    seed: int | None = 0
    response_format: Literal["json_schema", "json_object", "text"] = "json_schema"
    batch: BatchConfig | None = None  # true: the Batch API instead of online requests (see BatchConfig)
    # Cache / cost.
    cache: str | None = None          # sqlite path; default $WIKI_QA_CACHE/llm.sqlite (~/.cache/wiki_qa)
    # Replies are cached per server: provider and base URL(s), without credentials. Servers given the same
    # namespace share their replies (replicas of one model behind other URLs, or a server that moved).
    cache_namespace: str | None = None
    max_cost_usd: float | None = None
    prices: dict[str, Price] = Field(default_factory=dict)  # overrides the built-in table, per model
    prices_file: str | None = None    # YAML {model: {input_per_1m, output_per_1m}}

    @field_validator("batch", mode="before")
    @classmethod
    def _batch_shorthand(cls, v):
        return BatchConfig.coerce(v)

    @model_validator(mode="after")
    def _batch_needs_a_batch_api(self):
        if self.batch is not None and self.provider == "local":
            raise ValueError("batch: the bundled local server has no Batch API; use provider: openai")
        return self

    def cache_path(self) -> str:
        from wiki_qa.paths import cache_dir

        return self.cache or cache_dir("llm.sqlite")


ENGINE_KEYS = frozenset(LLMConfig.model_fields)


def _task_config(value: Any) -> TaskConfig:
    """`generate:` -> the Config of the task it names (default qa). Errors keep their keys' paths."""
    if isinstance(value, TaskConfig):
        return value
    if not isinstance(value, dict):
        raise ValueError("expected a mapping with a task: key")
    name = value.get("task", "qa")
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; tasks: {', '.join(TASKS)}")
    return TASKS[name].Config.model_validate(value)


# The `generate:` section: one of the registered tasks' Configs, chosen by `task` (default qa).
GenerateConfig = Annotated[SerializeAsAny[TaskConfig], PlainValidator(_task_config)]


def split_flat(flat: dict) -> tuple[dict, dict]:
    """A flat dict of old `generate:` keys -> (task fields, engine fields)."""
    task = {k: v for k, v in flat.items() if k not in ENGINE_KEYS}
    engine = {k: v for k, v in flat.items() if k in ENGINE_KEYS}
    return task, engine


def migrate_legacy(tree: dict) -> list[str]:
    """Move engine keys found under `generate:` into `llm:` (in place) and warn once. A `generate:` without
    `llm:` gets an empty `llm:` (all defaults). Returns the moved keys.

    A key set in both places takes the `generate:` value: that is where `--set generate.model=...` and
    load_dataset(..., generate_model=...) from older scripts put it."""
    gen = tree.get("generate")
    if not isinstance(gen, dict):
        return []
    _, engine = split_flat(gen)
    if tree.get("llm") is None:
        tree["llm"] = {}
    llm = tree["llm"]
    if not engine or not isinstance(llm, dict):
        return []
    for k in engine:
        llm[k] = gen.pop(k)
    moved = sorted(engine)
    log.warning("generate: %s belong(s) under llm: now (moved there for this run; please update the YAML)",
                ", ".join(moved))
    return moved


def resolve(task=None, llm=None) -> tuple[Task, LLMConfig]:
    """The task and engine settings for `wiki_qa.generate` / `estimate`, from any of:
    task: None | name | dict | TaskConfig | Task; llm: None | LLMConfig | dict of engine keys (a legacy flat
    dict mixing task and engine keys works too: its task keys go to the task)."""
    if isinstance(llm, LLMConfig):
        extra, llm_cfg = {}, llm
    else:
        extra, engine = split_flat(dict(llm or {}))
        llm_cfg = _validated(LLMConfig, engine, "llm")
    if isinstance(task, Task):
        return task, llm_cfg
    if isinstance(task, TaskConfig):
        cfg = _validated(_task_config, {**task.model_dump(by_alias=True), **extra}, "generate") if extra else task
    else:
        fields = {**extra, **(task if isinstance(task, dict) else {"task": task} if task else {})}
        cfg = _validated(_task_config, fields, "generate")
    return TASKS[cfg.task](cfg), llm_cfg


def _validated(model, data: dict, where: str):
    try:
        return model.model_validate(data) if isinstance(model, type) else model(data)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join([where, *(str(x) for x in err["loc"])])
        raise UserError(f"{key}: {err['msg'].removeprefix('Value error, ')}") from None
    except ValueError as e:
        raise UserError(f"{where}: {e}") from None
