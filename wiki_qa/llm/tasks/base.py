"""The Task contract and the pieces several tasks share.

A task is a small class with its own pydantic `Config` (the fields of the YAML `generate:` section
besides `task:`). It turns one input row into a chat request and the reply back into examples:

    @register
    class QA(Task):
        name = "qa"
        class Config(TaskConfig): task: Literal["qa"] = "qa"; n: int | None = None
        def prompt(self, row) -> list[dict]: ...          # the chat messages
        def schema(self, row) -> dict | None: ...         # JSON schema of the reply (None: free text)
        def parse(self, row, response) -> (examples, dropped_reasons)
        def estimate(self, row) -> (items, completion tokens per item)   # for --dry-run

`parse` raises parsing.ParseError when nothing usable came back (the engine re-asks with that message);
otherwise it returns the good examples and one reason per dropped item. Tasks never see HTTP, retries,
caching or cost: the engine (wiki_qa.llm.engine) does that for every task alike.
"""
from __future__ import annotations

import functools
import json
import math
import os
from importlib import resources
from typing import Any, ClassVar

import datasets
from pydantic import Field

from wiki_qa.configbase import StrictModel
from wiki_qa.llm import parsing as P

LANGUAGES = {"en": "English", "simple": "simple English", "yo": "Yoruba", "ha": "Hausa", "ig": "Igbo",
             "pcm": "Nigerian Pidgin", "sw": "Swahili", "fr": "French", "de": "German", "es": "Spanish",
             "pt": "Portuguese", "ar": "Arabic", "am": "Amharic", "zu": "Zulu", "xh": "Xhosa"}

TASKS: dict[str, type[Task]] = {}


def register(cls: type[Task]) -> type[Task]:
    """Class decorator: makes the task available as `generate.task: <cls.name>`."""
    TASKS[cls.name] = cls
    return cls


class ValidateConfig(StrictModel):
    """Per-item checks. Bad items are dropped with a reason; the chunk keeps its good items."""
    min_chars: int = 2
    max_question_chars: int = 500
    max_answer_chars: int = 2000
    # Share of the answer's word tokens that must appear in the chunk (0 disables the check).
    grounding_threshold: float = 0.5
    # qa/mcq/qa_multihop: ask for a quote from the passage and align it to the chunk (evidence span in
    # meta). An item whose quote cannot be aligned is dropped as `ungrounded` (unless not required).
    evidence: bool = True
    require_evidence: bool = True
    evidence_min_ratio: float = Field(0.8, gt=0, le=1)  # fuzzy alignment: difflib ratio over the words
    # qa/mcq/qa_multihop: answer each question again from the passage (tasks/roundtrip.py) and keep the item
    # only when that answer agrees with its own (normalized token F1 >= roundtrip_min_f1). roundtrip_llm:
    # overrides of the `llm:` section for the answering model (keys as in llm:), like judge.llm.
    roundtrip: bool = False
    roundtrip_min_f1: float = Field(0.5, gt=0, le=1)
    roundtrip_choices: bool = False   # answer by choosing one of the passage's candidate spans (answers.py)
    roundtrip_llm: dict[str, Any] = Field(default_factory=dict)
    # paraphrase: word-count ratio bounds (paraphrase/original), and phrases chatty models wrap output in.
    min_word_ratio: float = 0.8
    max_word_ratio: float = 2.0
    banned_phrases: list[str] = Field(
        default_factory=lambda: ["###", "Paraphrased Text", "Alternate Refinement", "[Note:"])


class TaskConfig(StrictModel):
    """Fields every task understands; each task's Config adds its own and fixes `task`."""
    task: str
    language: str | None = None       # default: the row's `lang`
    include_context: bool = False     # put the chunk into the example prompt (reading comprehension)
    completion_leading_space: bool = False  # completion = " " + answer (plain completion trainers)
    system_prompt: str | None = None  # extra system message for the generating model
    prompt_file: str | None = None    # override the task's prompt template (see wiki_qa/llm/prompts/)
    instruction: str | None = None    # extra instruction appended to the prompt
    instructions: dict[str, str] = Field(default_factory=dict)  # per meta.subject/topic/domain or source
    validate_: ValidateConfig = Field(default_factory=ValidateConfig, alias="validate")

    model_config = {**StrictModel.model_config, "populate_by_name": True}


class Task:
    """One generation task. Instances are cheap and picklable (they travel to worker processes)."""
    name: ClassVar[str]
    VERSION: ClassVar[int] = 1       # part of the cache key: bump when prompt or parsing changes meaning
    # Re-asks after an unusable reply (None: llm.max_retries). translate asks again once, then drops the row.
    max_reasks: ClassVar[int | None] = None
    Config: ClassVar[type[TaskConfig]]

    def __init__(self, cfg: TaskConfig | None = None):
        self.cfg = cfg if cfg is not None else self.Config()

    def prompt(self, row: dict) -> list[dict]:
        raise NotImplementedError

    def asks(self, row: dict) -> bool:
        """False for a row the task has nothing to ask about: no request is sent, no example comes back."""
        return True

    def schema(self, row: dict) -> dict | None:
        return None

    def parse(self, row: dict, response: str) -> tuple[list[dict], list[str]]:
        raise NotImplementedError

    def estimate(self, row: dict) -> tuple[int, int]:
        """(items, completion tokens per item) for --dry-run."""
        raise NotImplementedError

    # -- tasks whose requests are not one per input row (translate cuts a row into units) ---------------
    def map_splits(self, dsd, generate, model: str):
        """None: the engine maps the input rows one request each (every task but translate). Otherwise the
        task maps the DatasetDict itself, calling `generate(DatasetDict) -> DatasetDict` for each engine
        map, and returns (DatasetDict, its report section)."""
        return None

    def request_rows(self, rows):
        """The rows the engine sends, for --dry-run (what map_splits hands to `generate`)."""
        return rows

    # -- output rows (a later step such as a judge may shape them differently) ------------------------
    # A build sets `hidden`: example rows then also carry `_question` (the bare question, for the dedup of
    # questions and the judge) and `_answer` (the bare answer, for the round trip); the format step drops
    # every `_` column.
    hidden: bool = False
    HIDDEN = {"_question": datasets.Value("string"), "_answer": datasets.Value("string")}

    def output_rows(self, row: dict, examples: list[dict], keep: list[str]):
        """The output rows of one input row: prompt, completion, then the kept input columns. An example's
        own `meta` (evidence, planned question type) is merged into the row's meta JSON."""
        for k, ex in enumerate(examples):
            out = {"prompt": ex["prompt"], "completion": ex["completion"],
                   **{c: f"{row['id']}/{self.name}/{k}" if c == "id" else row[c] for c in keep}}
            if "meta" in keep:
                out["meta"] = item_meta(row["meta"], ex.get("meta") or {})
            if self.hidden:
                out["_question"] = ex.get("question") or ex["prompt"]
                out["_answer"] = ex.get("answer") or ex["completion"]
            yield out

    def output_columns(self, column_names: list[str]) -> list[str]:
        keep = [c for c in column_names if c != "text"]
        if "id" not in keep:
            keep.insert(0, "id")
        return keep

    def output_features(self, features: datasets.Features, keep: list[str]) -> datasets.Features:
        feats = {"prompt": datasets.Value("string"), "completion": datasets.Value("string")}
        feats.update({c: features[c] for c in keep})
        if self.hidden:
            feats.update(self.HIDDEN)
        return datasets.Features(feats)

    # -- helpers for passage-based tasks ------------------------------------------------------------
    def language(self, row) -> str:
        code = self.cfg.language or row.get("lang") or "en"
        return LANGUAGES.get(code, code)

    def template(self, name: str) -> str:
        return _read_template(self.cfg.prompt_file or name)

    def instruction(self, row) -> str:
        """Per subject/domain instruction: meta.subject/topic/domain, then source, then `instruction`."""
        meta = row.get("meta") or {}
        if isinstance(meta, str):
            try:
                meta = json.loads(meta)
            except ValueError:
                meta = {}
        keys = [meta.get(k) for k in ("subject", "topic", "domain") if isinstance(meta, dict)] + [row.get("source")]
        parts = [self.cfg.instructions[k] for k in keys if k and k in self.cfg.instructions]
        if self.cfg.instruction:
            parts.append(self.cfg.instruction)
        return "\n".join(parts)

    def messages(self, user: str) -> list[dict]:
        msgs = [{"role": "system", "content": self.cfg.system_prompt}] if self.cfg.system_prompt else []
        return msgs + [{"role": "user", "content": user}]

    def passage_prompt(self, tmpl: str, row, n: int, **extra: str) -> list[dict]:
        """The chat request for a template asking for `n` items about one passage (`extra`: more
        placeholders, such as a question plan)."""
        return self.messages(fill(tmpl, title=row["title"], text=row["text"], n=n, language=self.language(row),
                                  instruction=self.instruction(row), **extra))

    def completion(self, text: str) -> str:
        return (" " + text) if self.cfg.completion_leading_space else text

    def with_context(self, row, prompt: str) -> str:
        return f"{row['text']}\n\n{prompt}" if self.cfg.include_context else prompt

    def parse_items(self, response: str, check) -> tuple[list[dict], list[str]]:
        """The reply's items, each judged on its own by `check(item, position) -> (reason | None, question,
        example)`; a repeat of an earlier question is dropped too."""
        good, dropped, seen = [], [], set()
        for k, it in enumerate(P.items_of(P.parse_json(response))):
            if not isinstance(it, dict):
                dropped.append("not_an_object")
                continue
            reason, q, example = check(it, k)
            if not reason and P.norm_question(q) in seen:
                reason = "duplicate_question"
            if reason:
                dropped.append(reason)
                continue
            seen.add(P.norm_question(q))
            good.append(example)
        return good, dropped

    def parse_pairs(self, row, response, prompt_key: str, completion_key: str, *, grounded: bool,
                    labels: tuple[str, str] = ("question", "answer")):
        """Items with a prompt-like and a completion-like field: length bounds, grounding in the chunk
        (when asked), no repeated prompt."""
        v = self.cfg.validate_
        chunk_words = []  # the chunk's word set, built once for all items

        def check(it, k):
            q, a = P.as_str(it.get(prompt_key)), P.as_str(it.get(completion_key))
            reason = P.check_text(q, labels[0], v.min_chars, v.max_question_chars) or \
                P.check_text(a, labels[1], 1, v.max_answer_chars)
            if not reason and grounded and v.grounding_threshold:
                if not chunk_words:
                    chunk_words.append(set(P.words(row["text"])))
                if P.grounding(a, chunk_words[0]) < v.grounding_threshold:
                    reason = "ungrounded_answer"
            return reason, q, {"prompt": self.with_context(row, q), "completion": self.completion(a)}

        return self.parse_items(response, check)


@functools.lru_cache(maxsize=64)
def _read_template(name_or_path: str) -> str:
    """A prompt file's text, read once per process (a path, or the name of a bundled prompt)."""
    if name_or_path.endswith(".txt") or os.sep in name_or_path:
        with open(name_or_path, encoding="utf-8") as f:
            return f.read()
    return resources.files("wiki_qa.llm").joinpath(f"prompts/{name_or_path}.txt").read_text(encoding="utf-8")


# Document facts that describe the page, not one example drawn from it: left out of example rows.
PAGE_ONLY_META = ("links",)


def item_meta(row_meta, extra: dict) -> str:
    """The row's meta JSON (source extras) with one example's own facts added."""
    try:
        meta = json.loads(row_meta) if isinstance(row_meta, str) and row_meta else dict(row_meta or {})
    except ValueError:
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    for k in PAGE_ONLY_META:
        meta.pop(k, None)
    meta.update(extra)
    return json.dumps(meta, ensure_ascii=False, sort_keys=True, default=str)


def fill(tmpl: str, **values: Any) -> str:
    # Plain replacement, not str.format: templates contain JSON braces.
    for k, v in values.items():
        tmpl = tmpl.replace("{" + k + "}", str(v))
    return tmpl


def default_n(row) -> int:
    """Items per chunk when `n` is not set: one per ~500 characters, 1 to 10."""
    return min(10, max(1, math.ceil(len(row.get("text") or "") / 500)))


def items_schema(item: dict, n: int, exactly: bool = False) -> dict:
    """{"items": [item, ...]} with 1..n items (n when `exactly`: one per planned answer): the response shape
    every item-producing task asks for."""
    return {"type": "object", "properties": {"items": {"type": "array", "items": item, "minItems": n if exactly else 1,
            "maxItems": n}}, "required": ["items"], "additionalProperties": False}
