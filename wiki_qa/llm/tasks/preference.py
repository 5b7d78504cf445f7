"""The preference step's LLM tasks: a deliberately worse reply (`contrastive`), a reply to the prompt
(`answer`: the weaker model's, and sample_and_judge's samples), and a judge that scores several replies shown
in a shuffled order (`rank`: sample_and_judge's ranking, and the optional check that chosen beats rejected).

They are not `generate:` tasks (not registered): the preference step (orchestrator/preference.py) builds them.
Input rows: `id`, `title`, `lang`, `text` (the prompt), plus `chosen` (the reply's length cap; shown to the model
by contrastive only) or `candidates` (rank).
Each input row gives exactly one output row, failed or not: `id` and `_reply` (None when no usable reply came
back; the engine's run log says why), or `_scores`/`_shown` for the judge; other columns pass through (the
executor's split marker).

Position bias: a judge shown replies in a fixed order prefers some positions. `rank` shows them in an order
drawn from (seed, row id), asks for one score per label, and maps the scores back to the candidates
(`unshuffle`); `_shown[i]` is the candidate shown at position i, kept so anyone can check the mapping.
"""
from __future__ import annotations

import random
import string

import datasets
from pydantic import Field

from wiki_qa.configbase import StrictModel
from wiki_qa.llm import parsing as P
from wiki_qa.llm.tasks.base import Task, fill
from wiki_qa.llm.tasks.judge import _int as as_int

# The "worse" instructions by name; any other text is used as it is.
# (A rewrite of the good answer, not a fresh one: the seed's way, and the one even a 135M model can follow.)
WORSE = {
    "vaguer": "vaguer: general and hedging, without the specific names and numbers",
    "wrong": "wrong: change a name, a number or a fact so that it is false",
    "padded": "padded: the same content wrapped in filler, repetition and flowery words (purple prose)",
    "off_topic": "off topic: about something related that does not answer the request",
}
REPLY = "_reply"
SCORES, SHOWN = "_scores", "_shown"
REQUEST_COLUMNS = ("id", "title", "lang", "text", "chosen", "candidates")
MAX_SCORE = 10
# A reply may be at most this many times the chosen side's characters (plus a little): a grammar-constrained
# server (llama.cpp) then closes the string instead of running to max_tokens. A reply that reached the cap was
# cut off all the same (with finish_reason `stop`): `_capped` says so, and the step drops it as truncated.
REPLY_CHARS = 3
CAPPED = "_capped"


class ReplyTaskConfig(StrictModel):
    """What every preference task understands (the fields base.Task's helpers read)."""
    language: str | None = None       # default: the row's `lang`
    prompt_file: str | None = None    # override the task's prompt template (wiki_qa/llm/prompts/)
    system_prompt: str | None = None


class ContrastiveConfig(ReplyTaskConfig):
    """`preference.contrastive`: the same model asked for a worse reply, up to `attempts` times."""
    worse: str = "vaguer"              # vaguer | wrong | padded | off_topic, or an instruction of your own
    attempts: int = Field(3, ge=1, le=10)
    # Each attempt draws one temperature in this range (the seed's 0.7-1.0) and uses the next seed.
    temperature: tuple[float, float] = (0.7, 1.0)

    def worse_instruction(self) -> str:
        return WORSE.get(self.worse, self.worse)


class AnswerConfig(ReplyTaskConfig):
    """The replies of a model to the prompt itself (no reference answer shown)."""


class RankConfig(ReplyTaskConfig):
    seed: int = 0                      # the shown order is drawn from (seed, row id)


class ReplyTask(Task):
    """One request per row, one output row per input row."""
    VERSION = 1

    def __init__(self, cfg: ReplyTaskConfig | None = None):
        self.cfg = cfg if cfg is not None else self.Config()

    def cap(self, row) -> int | None:
        return REPLY_CHARS * len(row["chosen"]) + 20 if row.get("chosen") else None

    def schema(self, row) -> dict:
        reply = {"type": "string", "minLength": 1}
        if self.cap(row):
            reply["maxLength"] = self.cap(row)
        return {"type": "object", "properties": {"reply": reply}, "required": ["reply"],
                "additionalProperties": False}

    def parse(self, row, response):
        data = P.parse_json(response)
        reply = P.as_str(data.get("reply")) if isinstance(data, dict) else ""
        if not reply:
            raise P.ParseError('the JSON has no "reply" text')
        cap = self.cap(row)
        return [{"reply": reply, "capped": cap is not None and len(reply) >= cap}], []

    def estimate(self, row) -> tuple[int, int]:
        return 1, max(16, len(row.get("chosen") or row["text"]) // 3)

    # -- output: one row per input row ------------------------------------------------------------------
    def outputs(self) -> dict:
        return {REPLY: datasets.Value("string"), CAPPED: datasets.Value("bool")}

    def output_columns(self, column_names: list[str]) -> list[str]:
        return ["id", *(c for c in column_names if c not in REQUEST_COLUMNS)]

    def output_features(self, features: datasets.Features, keep: list[str]) -> datasets.Features:
        return datasets.Features({"id": features["id"], **self.outputs(), **{c: features[c] for c in keep[1:]}})

    def output_rows(self, row: dict, examples: list[dict], keep: list[str]):
        yield {"id": row["id"], **self.values(examples[0] if examples else None), **{c: row[c] for c in keep[1:]}}

    def values(self, example: dict | None) -> dict:
        return {REPLY: example["reply"] if example else None, CAPPED: bool(example and example["capped"])}


class Contrastive(ReplyTask):
    name = "contrastive"
    Config = ContrastiveConfig

    def prompt(self, row) -> list[dict]:
        return self.messages(fill(self.template("contrastive"), prompt=row["text"], chosen=row["chosen"],
                                  worse=self.cfg.worse_instruction(), words=len(row["chosen"].split()),
                                  language=self.language(row)))


class Answer(ReplyTask):
    """The prompt goes to the model as the user's message, as a trained model would see it; the system
    message asks for the language and the JSON shape."""
    name = "answer"
    Config = AnswerConfig

    def prompt(self, row) -> list[dict]:
        system = self.cfg.system_prompt or fill(self.template("answer"), language=self.language(row))
        return [{"role": "system", "content": system}, {"role": "user", "content": row["text"]}]


def labels(n: int) -> list[str]:
    return list(string.ascii_uppercase[:n])


def shown_order(seed: int, row_id: str, n: int) -> list[int]:
    """The candidate shown at each position: a permutation drawn from (seed, row id), the same in every
    process (a str seed is hashed with sha512, not Python's salted hash)."""
    order = list(range(n))
    random.Random(f"{seed}|rank|{row_id}").shuffle(order)
    return order


def unshuffle(by_position: list[int], shown: list[int]) -> list[int]:
    """Scores per shown position -> scores per candidate: position i showed candidate shown[i]."""
    out = [0] * len(shown)
    for pos, cand in enumerate(shown):
        out[cand] = by_position[pos]
    return out


class Rank(ReplyTask):
    """Scores 1-10 for each of a row's `candidates`, shown under labels A, B, ... in a shuffled order."""
    name = "rank"
    Config = RankConfig

    def prompt(self, row) -> list[dict]:
        cands = row["candidates"]
        order = shown_order(self.cfg.seed, row["id"], len(cands))
        shown = "\n\n".join(f"<reply {lab}>\n{cands[c]}\n</reply {lab}>" for lab, c in zip(labels(len(cands)), order))
        return self.messages(fill(self.template("rank"), prompt=row["text"], replies=shown, n=len(cands),
                                  labels=", ".join(labels(len(cands))), max=MAX_SCORE))

    def schema(self, row) -> dict:
        score = {"type": "integer", "enum": list(range(1, MAX_SCORE + 1))}
        labs = labels(len(row["candidates"]))
        return {"type": "object", "properties": {lab: score for lab in labs}, "required": labs,
                "additionalProperties": False}

    def parse(self, row, response):
        data = P.parse_json(response)
        labs = labels(len(row["candidates"]))
        got = [_score(data.get(lab)) if isinstance(data, dict) else None for lab in labs]
        missing = [lab for lab, s in zip(labs, got) if s is None]
        if missing:
            raise P.ParseError(f"give every reply an integer score from 1 to {MAX_SCORE} (missing: "
                               + ", ".join(missing) + ")")
        shown = shown_order(self.cfg.seed, row["id"], len(labs))
        return [{"scores": unshuffle(got, shown), "shown": shown}], []

    def estimate(self, row) -> tuple[int, int]:
        return 1, 6 * len(row["candidates"])

    def outputs(self) -> dict:
        return {SCORES: datasets.List(datasets.Value("int32")), SHOWN: datasets.List(datasets.Value("int32"))}

    def values(self, example: dict | None) -> dict:
        return {SCORES: example["scores"] if example else None, SHOWN: example["shown"] if example else None}


def _score(v) -> int | None:
    v = as_int(v)
    return v if v is not None and 1 <= v <= MAX_SCORE else None
