"""The `preference:` YAML section: how the rejected side is made, how pairs are checked, the optional judge."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from wiki_qa.configbase import StrictModel
from wiki_qa.llm.tasks.judge import LLM_DEFAULTS
from wiki_qa.llm.tasks.preference import AnswerConfig, ContrastiveConfig, RankConfig

STRATEGIES = ("contrastive", "weaker_model", "corrupt", "sample_and_judge")
CORRUPT_MODES = ("swap", "vague", "truncate")


class ChecksConfig(StrictModel):
    """`preference.checks`: every pair passes these or is dropped with the first failing check's name."""
    # rejected words / chosen words must lie in this band (the seed's 0.85-2.5x): neither length is a shortcut
    min_word_ratio: float = Field(0.85, gt=0)
    max_word_ratio: float = Field(2.5, gt=0)
    # Prompt furniture a model leaves in its reply; neither side may contain one (case-insensitive).
    furniture: list[str] = Field(default_factory=lambda: ["###", "Paraphrased Text", "Note:"])
    # The rejected side may not run to more paragraphs than the chosen one.
    one_paragraph: bool = True
    # Both sides in the row's language (wiki_qa.langid); texts under lang_min_words words are too short to tell.
    language: bool = True
    min_lang_score: float = Field(0.5, ge=0, le=1)
    lang_min_words: int = Field(4, ge=1)

    @model_validator(mode="after")
    def _band(self):
        if self.min_word_ratio > self.max_word_ratio:
            raise ValueError("min_word_ratio is above max_word_ratio")
        return self


class CorruptConfig(StrictModel):
    """`preference.corrupt`: deterministic rejected sides, no LLM. Each row starts at a mode drawn from
    (seed, id) and falls back to the next mode when one does not apply or fails a check."""
    modes: list[Literal["swap", "vague", "truncate"]] = Field(default_factory=lambda: list(CORRUPT_MODES),
                                                               min_length=1)


class WeakerModelConfig(AnswerConfig):
    """`preference.weaker_model`: a second model answers the prompt; `llm:` names it (keys as in llm:)."""
    llm: dict[str, Any] = Field(default_factory=dict)
    attempts: int = Field(1, ge=1, le=10)   # more attempts use the next seeds


class SampleAndJudgeConfig(AnswerConfig):
    """`preference.sample_and_judge`: n replies, ranked by the judge; best chosen, worst rejected."""
    n: int = Field(3, ge=2, le=8)
    temperature: float = Field(1.0, ge=0)
    include_original: bool = True         # the row's own completion is a candidate too
    min_margin: int = Field(1, ge=1)      # best score - worst score below this is a tie (dropped)


class PairJudgeConfig(RankConfig):
    """`preference.judge`: scores chosen and rejected (shown in a shuffled order). Its `llm` also serves
    sample_and_judge's ranking. `judge: true` turns the confirmation on with these defaults."""
    enabled: bool = True
    llm: dict[str, Any] = Field(default_factory=dict)
    # The judge preferred the rejected side: swap the sides (status swapped), drop the pair, or keep it as made.
    on_swapped: Literal["swap", "drop", "keep"] = "swap"
    keep_unjudged: bool = False           # pairs the judge gave no usable scores: dropped (judge_failed) or kept

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v):
        return {"enabled": v} if isinstance(v, bool) else v

    def engine_settings(self, llm: dict) -> dict:
        return {**llm, **LLM_DEFAULTS, **self.llm}


class PreferenceConfig(StrictModel):
    """`preference:`: a rejected side for every prompt/completion row, by a declared strategy."""
    # One strategy, or strategy -> weight: each row gets one, drawn from (seed, id).
    strategy: str | dict[str, float] = "contrastive"
    contrastive: ContrastiveConfig = Field(default_factory=ContrastiveConfig)
    weaker_model: WeakerModelConfig = Field(default_factory=WeakerModelConfig)
    corrupt: CorruptConfig = Field(default_factory=CorruptConfig)
    sample_and_judge: SampleAndJudgeConfig = Field(default_factory=SampleAndJudgeConfig)
    judge: PairJudgeConfig = Field(default_factory=lambda: PairJudgeConfig(enabled=False))
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    llm: dict[str, Any] = Field(default_factory=dict)   # overrides of llm: for contrastive replies and samples
    seed: int = 0

    @field_validator("strategy")
    @classmethod
    def _strategies(cls, v):
        names = [v] if isinstance(v, str) else list(v)
        unknown = [n for n in names if n not in STRATEGIES]
        if unknown:
            raise ValueError(f"unknown strategy {unknown[0]!r}; strategies: {', '.join(STRATEGIES)}")
        if isinstance(v, dict) and (any(w < 0 for w in v.values()) or sum(v.values()) <= 0):
            raise ValueError("strategy weights must be positive")
        return v

    @model_validator(mode="after")
    def _weaker_model_named(self):
        if "weaker_model" in self.strategies() and not self.weaker_model.llm:
            raise ValueError("strategy weaker_model needs weaker_model.llm (the second model: model, base_url, ...)")
        return self

    def strategies(self) -> list[str]:
        if isinstance(self.strategy, str):
            return [self.strategy]
        return [k for k, w in self.strategy.items() if w > 0]

    def uses_llm(self) -> bool:
        return self.judge.enabled or any(s != "corrupt" for s in self.strategies())
