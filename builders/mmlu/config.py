"""YAML `source:` section for MMLU."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from wiki_qa.configbase import StrictModel

OUTPUT_SPLITS = ("train", "val", "test")
DEFAULT_SPLITS = {"auxiliary_train": "train", "val": "val", "test": "test"}


class MMLUConfig(StrictModel):
    type: Literal["mmlu"] = "mmlu"
    # A folder holding {dev,val,test,auxiliary_train}/ (or data/ with them), the released data.tar,
    # or a folder of parquet files in the cais/mmlu layout (<subject>/<split>-*.parquet).
    path: str
    subjects: list[str] | None = None  # e.g. [abstract_algebra, anatomy]; None = all found
    # Input split -> output split, merged over the default {auxiliary_train: train, val: val, test: test}:
    # `dev: train` adds dev as data (`--set source.splits.dev=train`), `test: null` drops test.
    splits: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_SPLITS))
    # plain: "{question}\nA. ..\nD. ..\n"; standard: the MMLU eval header + k_shot dev examples + "Answer:".
    template: Literal["plain", "standard"] = "plain"
    k_shot: int = Field(0, ge=0, le=5)
    completion: Literal["text", "letter"] = "text"
    lang: str | None = "en"

    @field_validator("splits", mode="before")
    @classmethod
    def _merge_defaults(cls, v):
        # Merged, so that one `--set source.splits.dev=train` does not silently drop val/test.
        if not isinstance(v, dict):
            return v
        merged = {**DEFAULT_SPLITS, **v}
        return {k: d for k, d in merged.items() if d not in (None, "null", "none", "")}

    @field_validator("splits")
    @classmethod
    def _known_splits(cls, v: dict[str, str]) -> dict[str, str]:
        for src, dst in v.items():
            if src not in ("auxiliary_train", "dev", "val", "test"):
                raise ValueError(f"unknown MMLU split {src!r} (auxiliary_train, dev, val, test)")
            if dst not in OUTPUT_SPLITS:
                raise ValueError(f"split {src!r} maps to {dst!r}; expected one of {', '.join(OUTPUT_SPLITS)}")
        return v

    @model_validator(mode="after")
    def _k_shot_needs_template(self) -> "MMLUConfig":
        if self.k_shot and self.template != "standard":
            raise ValueError("k_shot needs template: standard (the plain prompt has no room for examples)")
        return self
