"""What the question-writing tasks (qa, mcq, qa_multihop) share: N items per chunk, the planned question
mix in the prompt, evidence spans aligned to the chunk, and completions that cite their evidence."""
from __future__ import annotations

import functools
import re
from typing import ClassVar

from pydantic import Field, model_validator

from wiki_qa.llm import parsing as P
from wiki_qa.llm.tasks import answers, evidence, mix
from wiki_qa.llm.tasks.base import Task, TaskConfig, default_n, fill

# A quote copied from the passage; the pattern rules out "...", "[quote]" and "<quote>" placeholders at
# the grammar level on servers that constrain decoding.
QUOTE = {"type": "string", "minLength": 8, "maxLength": 400, "pattern": "^[^.\\[<\\s][^\\n]*$"}


# A question that leans on the passage instead of naming its subject: "What does the passage say?", or a
# short one ending in a pronoun ("Which country is it?"). English words: elsewhere it never matches.
_VAGUE = re.compile(r"\b(the|this) (passage|sentence|text|article|paragraph)\b|"
                    r"^\W*\w+(\W+\w+){0,4}\W+(it|this|that|they|these|those)\W*\?$", re.I)
_EXAMPLE_Q = re.compile(r'"question":\s*"([^"]+)"')


class QuestionConfig(TaskConfig, mix.MixConfig):
    n: int | None = Field(None, ge=1)
    # With include_context: the completion also quotes its evidence, for citation training.
    cite_evidence: bool = False
    cite_template: str = '{answer}\n\nEvidence: "{quote}"'

    @model_validator(mode="after")
    def _cite_needs_context(self):
        if self.cite_evidence and not self.include_context:
            raise ValueError("cite_evidence needs include_context: true (the quoted passage must be in the prompt)")
        if self.cite_evidence and not self.validate_.evidence:
            raise ValueError("cite_evidence needs validate.evidence: true")
        return self


class QuestionTask(Task):
    TEMPLATE: ClassVar[str]   # the prompt file in prompts/
    QUOTES: ClassVar[tuple[str, ...]] = ("quote",)
    # The template's {fields}: how the reply's quote is asked for (empty when evidence is off).
    FIELDS: ClassVar[str] = ', a "quote" (words copied exactly from the passage that support the answer)'

    def n_items(self, row) -> int:
        return self.cfg.n or default_n(row)

    def item_plan(self, row) -> list[dict]:
        return mix.item_plan(self.cfg, self.n_items(row), row["id"])

    def prompt(self, row) -> list[dict]:
        plan = mix.describe(self.item_plan(row))
        extra = {"instruction": "\n".join(x for x in (self.instruction(row), plan) if x),
                 "fields": self.FIELDS if self.cfg.validate_.evidence else ""}
        return self.messages(fill(self.template(self.TEMPLATE), **self.passages(row), n=self.n_items(row),
                                  language=self.language(row), **extra))

    def question_problem(self, question: str, template: str) -> str | None:
        """Drop reason for a question no validator of length catches: vague, or the prompt's worked
        example copied back (small models do both)."""
        if _VAGUE.search(question):
            return "vague_question"
        if P.norm_question(question) in _examples(self.template(template)):
            return "copied_example"
        return None

    def passages(self, row) -> dict:
        return {"title": row["title"], "text": row["text"]}

    def with_quote(self, item: dict) -> dict:
        """A JSON schema item with the quote field(s) after the question (evidence before the answer)."""
        if not self.cfg.validate_.evidence:
            return item
        props = dict(item["properties"])
        q = props.pop("question")
        props = {"question": q, **{k: QUOTE for k in self.QUOTES}, **props}
        req = ["question", *self.QUOTES, *[r for r in item["required"] if r != "question"]]
        return {**item, "properties": props, "required": req}

    # -- evidence -----------------------------------------------------------------------------------
    def texts(self, row) -> list[tuple[str, str]]:
        """(chunk id, chunk text) for each quote field, in QUOTES order."""
        return [(row["id"], row["text"])]

    def spans(self, row, it: dict) -> tuple[str | None, list[dict]]:
        """(drop reason, evidence spans) for one item's quote(s)."""
        v = self.cfg.validate_
        if not v.evidence:
            return None, []
        out = []
        for key, (cid, text) in zip(self.QUOTES, self.texts(row)):
            hit = evidence.align(P.as_str(it.get(key)), text, v.evidence_min_ratio)
            if hit is None:
                return ("ungrounded" if v.require_evidence else None), []
            out.append(evidence.span(text, *hit, chunk=cid))
        return None, out

    def evidence_problem(self, answer: str, spans: list[dict]) -> str | None:
        """An answer must be supported by its own evidence, not merely by words somewhere in the chunk: the
        share of its words found in its quotes must reach grounding_threshold."""
        v = self.cfg.validate_
        if not spans or not v.grounding_threshold:
            return None
        quotes = " ".join(s["quote"] for s in spans)
        return "answer_not_in_evidence" if P.grounding(answer, quotes) < v.grounding_threshold else None

    def answer_example(self, row, k: int, prompt: str, question: str, completion: str, span: dict, source: str,
                       plan: list[dict]) -> dict:
        """An answer-focus example: the answer is the planned span, its evidence the span's sentence."""
        text = row["text"]
        ex = self.example(row, k, prompt, question, completion,
                          [evidence.span(text, *span["sentence"], chunk=row["id"])], plan)
        ex["answer"] = text[slice(*span["answer"])]
        ex["meta"].update({"answer_span": evidence.span(text, *span["answer"]), "answer_kind": span["kind"],
                           "question_from": source})
        return ex

    def example(self, row, k: int, prompt: str, question: str, answer: str, spans: list[dict],
                plan: list[dict]) -> dict:
        meta = dict(plan[k]) if k < len(plan) else {}
        if spans:
            meta["evidence"] = spans
        bare = answer
        if self.cfg.cite_evidence and spans:
            answer = fill(self.cfg.cite_template, answer=answer, quote=" … ".join(s["quote"] for s in spans))
        return {"prompt": self.with_context(row, prompt), "completion": self.completion(answer),
                "question": question, "answer": bare, "meta": meta}

    def estimate(self, row) -> tuple[int, int]:
        per = 60 + (30 * len(self.QUOTES) if self.cfg.validate_.evidence else 0)
        return self.n_items(row), per


@functools.lru_cache(maxsize=16)
def _examples(template: str) -> frozenset[str]:
    return frozenset(P.norm_question(q) for q in _EXAMPLE_Q.findall(template))


# -- answer focus (answers.py): the planner picks the answer span, the model phrases the question ----------
_TURN = re.compile(r"^<<(user|assistant)>>\n", re.M)
ENGLISH = ("en", "simple")


def turns(template: str) -> list[dict]:
    """A prompt file written as chat turns ("<<user>>" / "<<assistant>>" lines): worked examples as turns
    of their own, which a very small model follows where an inline example gets copied."""
    parts = _TURN.split(template)
    return [{"role": role, "content": text.strip()} for role, text in zip(parts[1::2], parts[2::2])]


class AnswerFocus:
    """What qa and mcq share under `focus: answer`; mixed into QuestionTask subclasses."""

    def answer_plan(self, row) -> list[dict]:
        n = self.cfg.n or default_n(row)
        return answers.plan(row["text"], row["title"], n, row["id"], self.cfg.seed)

    def answer_prompt(self, row, template: str) -> list[dict]:
        text, english = row["text"], self.is_english(row)
        lines = []
        for k, it in enumerate(self.answer_plan(row), 1):
            lines.append(f'{k}. Sentence: "{text[slice(*it["sentence"])]}"\n   Answer: "{text[slice(*it["answer"])]}"')
            if english and answers.reads_english(text[slice(*it["sentence"])]):
                lines.append(f'   Draft: "{answers.draft(text, it, row["title"])}"')
        instruction = self.instruction(row)
        msgs = turns(fill(self.template(template), title=row["title"], items="\n".join(lines),
                          instruction=f"{instruction}\n" if instruction else ""))
        return ([{"role": "system", "content": self.cfg.system_prompt}] if self.cfg.system_prompt else []) + msgs

    def is_english(self, row) -> bool:
        return (self.cfg.language or row.get("lang") or "en").split("-")[0] in ENGLISH

    def answer_question(self, row, it: dict, plan_item: dict, template: str) -> tuple[str | None, str, str]:
        """(drop reason, question, where it came from). The model's question is kept when it reads as a
        question about the planned sentence and does not give the answer away; otherwise the draft (the
        sentence asked back about its answer) stands in, where there is one (English)."""
        text = row["text"]
        v = self.cfg.validate_
        answer = text[slice(*plan_item["answer"])]
        q = P.as_str(it.get("question"))
        problem = P.check_text(q, "question", v.min_chars, v.max_question_chars) or \
            (None if q.endswith("?") else "not_a_question") or self.question_problem(q, template) or \
            (None if not answers.gives_away(q, answer) else "answer_in_question")
        sentence = text[slice(*plan_item["sentence"])]
        draft = answers.draft(text, plan_item, row["title"]) \
            if self.is_english(row) and answers.reads_english(sentence) else None
        # The question must still ask what the draft asks; with no draft (not English), it must at least keep
        # the sentence's names and numbers and half its words: a question about something else is dropped.
        if not problem and not answers.faithful(q, draft or sentence, answer):
            problem = "off_sentence_question"
        if not problem:
            return None, q, "model"
        if draft and not answers.gives_away(draft, answer):
            return None, draft, "draft"
        return problem, q, "model"
