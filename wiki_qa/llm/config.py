"""`generate:` section of a build config. (Owned by the llm room; extend freely.)"""
from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import Field

from wiki_qa.configbase import StrictModel


class ValidateConfig(StrictModel):
    """Per-item checks. Bad items are dropped with a reason; the chunk keeps its good items."""
    min_chars: int = 2
    max_question_chars: int = 500
    max_answer_chars: int = 2000
    # Share of the answer's word tokens that must appear in the chunk (0 disables the check).
    grounding_threshold: float = 0.5
    # paraphrase: word-count ratio bounds (paraphrase/original) and banned phrases (LM Studio seed).
    min_word_ratio: float = 0.8
    max_word_ratio: float = 2.0
    banned_phrases: list[str] = Field(
        default_factory=lambda: ["###", "Paraphrased Text", "Alternate Refinement", "[Note:"])


class Price(StrictModel):
    input_per_1m: float
    output_per_1m: float


class EndpointConfig(StrictModel):
    """One OpenAI-compatible server in `generate.endpoints`. Requests go to the least busy live endpoint."""
    base_url: str
    concurrency: int | None = Field(None, ge=1)   # default: generate.concurrency
    rate_limit: float | None = Field(None, gt=0)  # requests per second; None = no limit
    api_key_env: str | None = None                # default: generate.api_key_env


class GenerateConfig(StrictModel):
    task: Literal["qa", "mcq", "paraphrase", "custom"] = "qa"
    # "openai": any OpenAI-compatible endpoint (base_url / OPENAI_BASE_URL).
    # "local": start the bundled llama.cpp + Gemma 3 270M server for the duration of the step.
    provider: Literal["openai", "local"] = "openai"
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    # Name of the env var holding the key: the key itself never enters the config (or the report).
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = Field(32, ge=1)
    rate_limit: float | None = Field(None, gt=0)  # requests per second to base_url; None = no limit
    # Several servers instead of base_url: each request goes to the least busy live one; an endpoint that
    # fails `endpoint_failures` times in a row leaves the rotation for `endpoint_cooldown_s` (doubling,
    # up to 10x, while it keeps failing), then gets one probe request.
    endpoints: list[EndpointConfig] | None = Field(None, min_length=1)
    endpoint_failures: int = Field(3, ge=1)
    endpoint_cooldown_s: float = Field(5.0, gt=0)
    ray_actors: int | None = Field(None, ge=1)  # engine: ray: LLM actors (default: one per 2 cluster CPUs)
    max_retries: int = Field(5, ge=0)
    timeout_s: float = 120.0
    temperature: float = 0.2
    max_tokens: int = 1024
    seed: int | None = 0
    response_format: Literal["json_schema", "json_object", "text"] = "json_schema"

    # Task knobs.
    n: int | None = None              # qa: default min(10, ceil(chars/500)); mcq: default 3
    language: str | None = None       # default: the row's `lang`
    include_context: bool = False     # put the chunk into the example prompt (reading comprehension)
    completion_leading_space: bool = False  # completion = " " + answer (plain completion trainers)
    system_prompt: str | None = None  # extra system message for the generating model
    prompt_file: str | None = None    # override the task's prompt template (see wiki_qa/llm/prompts/)
    instruction: str | None = None    # extra instruction appended to the prompt
    instructions: dict[str, str] = Field(default_factory=dict)  # per meta.subject/topic/domain or source
    mcq_answer: Literal["letter", "text"] = "letter"
    paraphrase_direction: Literal["synthetic_to_original", "original_to_synthetic"] = "synthetic_to_original"
    # custom task: template with {title} {text} {language} {n}; schema of ONE item (object);
    # the model is asked for {"items": [...]}.
    prompt_template: str | None = None
    json_schema: dict[str, Any] | None = None
    prompt_field: str = "question"
    completion_field: str = "answer"
    validate_: ValidateConfig = Field(default_factory=ValidateConfig, alias="validate")

    # Cache / cost.
    cache: str | None = None          # sqlite path; default $WIKI_QA_CACHE/llm.sqlite (~/.cache/wiki_qa)
    max_cost_usd: float | None = None
    prices: dict[str, Price] = Field(default_factory=dict)  # overrides the built-in table, per model
    prices_file: str | None = None    # YAML {model: {input_per_1m, output_per_1m}}

    model_config = {**StrictModel.model_config, "populate_by_name": True}

    def cache_path(self) -> str:
        from wiki_qa.paths import cache_dir

        return self.cache or cache_dir("llm.sqlite")
