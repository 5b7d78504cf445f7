"""`dedup:`, `decontaminate:` and `check:` sections of a build config.

Every threshold the quality gates use lives here, so a YAML file (not code) decides how strict a build is.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from wiki_qa.configbase import StrictModel

SPLIT_ORDER = ["train", "val", "test"]


class DedupConfig(StrictModel):
    """Exact + MinHash-LSH near-duplicate removal, across splits."""

    enabled: bool = False
    exact: bool = True                     # drop rows whose normalized text is identical
    near: bool = True                      # drop rows whose estimated Jaccard similarity >= threshold
    threshold: float = Field(0.8, gt=0.0, le=1.0)
    num_perm: int = Field(128, ge=16, le=1024)
    # Shingles: word n-grams suit chunks; short generated questions may want chars (shingle: chars, size 5).
    shingle: Literal["words", "chars"] = "words"
    shingle_size: int = Field(3, ge=1, le=20)
    seed: int = 1                          # MinHash permutation seed: same seed, same result
    # Which copy survives a duplicate pair: the one in the earliest split of this list (train first).
    keep_order: list[str] = Field(default_factory=lambda: list(SPLIT_ORDER))
    max_examples: int = Field(20, ge=0)    # (removed id, kept id) pairs shown in the report


EvalType = Literal["mmlu", "file", "hub"]


class EvalSet(StrictModel):
    """One eval set to decontaminate against. A plain string in YAML is read as `path` with type guessed."""

    type: EvalType | None = None           # None: guessed from `path` (folder of *_test.csv -> mmlu, file, hub id)
    path: str
    name: str | None = None                # label in the report; default derived from path
    splits: list[str] | None = None        # mmlu: dev/val/test folders (default: every one present); hub: ["test"]
    subjects: list[str] | None = None      # mmlu only: restrict to these subjects
    config: str | None = None              # hub only: dataset config name
    fields: list[str] | None = None        # which fields hold eval text; default: every string field
    csv_header: bool = True                # file .csv: first line is a header

    @model_validator(mode="after")
    def _guess_type(self) -> "EvalSet":
        if self.type is None:
            p = Path(self.path).expanduser()
            if p.is_dir():
                self.type = "mmlu"
            elif p.is_file():
                self.type = "file"
            elif "/" in self.path and not self.path.startswith((".", "/", "~")):
                self.type = "hub"
            else:
                raise ValueError(f"eval set {self.path!r} is neither an existing file/folder nor a Hub id (org/name)")
        return self

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.type == "mmlu":
            return "mmlu"
        if self.type == "file":
            return Path(self.path).stem
        return self.path


class DecontaminateConfig(StrictModel):
    """Drop training rows that share a long word n-gram with any eval item."""

    enabled: bool = True                   # a listed eval set means "do it"; set false to keep the list but skip
    evals: list[EvalSet] = []
    ngram: int = Field(13, ge=3, le=100)   # 13 words, as in GPT-3 / the Llama papers
    # Eval fields shorter than `ngram` words but at least this long match as a whole phrase; shorter ones
    # (answer letters, "True", numbers) would flag innocent rows, so they are ignored.
    min_words: int = Field(8, ge=1)
    splits: list[str] = ["train"]          # only these splits are scrubbed; val/test stay comparable
    max_matches: int = Field(1000, ge=0)   # cap on (row id, eval id) pairs listed in the report

    @field_validator("evals", mode="before")
    @classmethod
    def _strings_are_paths(cls, v):
        if isinstance(v, (str, dict)):
            v = [v]
        return [{"path": x} if isinstance(x, str) else x for x in (v or [])]

    @model_validator(mode="after")
    def _min_le_ngram(self) -> "DecontaminateConfig":
        if self.min_words > self.ngram:
            raise ValueError(f"min_words ({self.min_words}) must be <= ngram ({self.ngram})")
        return self


# Fine-tuning training prices in USD per 1M training tokens (OpenAI price page, 2025). Prices change:
# override `check.prices` in YAML rather than editing this table.
DEFAULT_TRAINING_PRICES: dict[str, float] = {
    "gpt-4o-mini-2024-07-18": 3.00,
    "gpt-4o-2024-08-06": 25.00,
    "gpt-4.1-2025-04-14": 25.00,
    "gpt-4.1-mini-2025-04-14": 5.00,
    "gpt-4.1-nano-2025-04-14": 1.50,
    "gpt-3.5-turbo-0125": 8.00,
}


class CheckConfig(StrictModel):
    """`wiki-qa check`: OpenAI fine-tuning data checks and a training-cost estimate."""

    max_seq_tokens: int = Field(16385, ge=1)   # examples longer than this are truncated by the trainer
    # "auto" follows OpenAI's default: 3 epochs, raised/lowered so train rows * epochs lands in [100, 25000].
    epochs: int | Literal["auto"] = "auto"
    model: str = "gpt-4o-mini-2024-07-18"      # the model whose price is the headline cost
    prices: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_TRAINING_PRICES))
    encoding: str = "cl100k_base"              # only encodings shipped offline can load
    billed_splits: list[str] = ["train"]       # OpenAI bills the training file, not the validation file
    max_errors: int = Field(200, ge=0)         # per-example errors listed in the report (all are counted)

    @field_validator("epochs")
    @classmethod
    def _positive(cls, v):
        if isinstance(v, int) and v < 1:
            raise ValueError("epochs must be >= 1 or 'auto'")
        return v

    @model_validator(mode="after")
    def _model_has_price(self) -> "CheckConfig":
        if self.model not in self.prices:
            raise ValueError(f"model {self.model!r} has no entry in prices (known: {sorted(self.prices)})")
        return self
