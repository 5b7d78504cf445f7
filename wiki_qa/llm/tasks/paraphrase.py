"""paraphrase: one paraphrase per paragraph. Trains synthetic -> original by default."""
from __future__ import annotations

from typing import Literal

from wiki_qa.llm import parsing as P
from wiki_qa.llm.tasks.base import Task, TaskConfig, fill, register
from wiki_qa.tokens import count_tokens


def paragraphs(row) -> list[str]:
    text = row["text"]
    # The chunk starts with the title; it is not a paragraph to paraphrase.
    if row.get("title") and text.startswith(row["title"]):
        text = text[len(row["title"]):]
    return [p.strip() for p in text.split("\n\n") if len(P.words(p)) >= 3]


@register
class Paraphrase(Task):
    name = "paraphrase"

    class Config(TaskConfig):
        task: Literal["paraphrase"] = "paraphrase"
        paraphrase_direction: Literal["synthetic_to_original", "original_to_synthetic"] = "synthetic_to_original"

    def prompt(self, row) -> list[dict]:
        paras = paragraphs(row)
        numbered = "\n\n".join(f"{i + 1}. {p}" for i, p in enumerate(paras))
        return self.messages(fill(self.template("paraphrase"), title=row["title"], paragraphs=numbered,
                                  n=len(paras), language=self.language(row), instruction=self.instruction(row),
                                  text=row["text"]))

    def schema(self, row) -> dict:
        n = max(1, len(paragraphs(row)))
        return {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "string"},
                "minItems": n, "maxItems": n}}, "required": ["items"], "additionalProperties": False}

    def parse(self, row, response):
        v = self.cfg.validate_
        paras = paragraphs(row)
        items = P.items_of(P.parse_json(response))
        good, dropped = [], []
        for i, orig in enumerate(paras):
            if i >= len(items):
                dropped.append("missing_paraphrase")
                continue
            it = items[i]
            s = P.as_str(it.get("paraphrase") or it.get("text") if isinstance(it, dict) else it)
            ratio = len(P.words(s)) / max(1, len(P.words(orig)))
            reason = P.check_text(s, "paraphrase", v.min_chars, 100_000)
            if not reason and any(b.lower() in s.lower() for b in v.banned_phrases):
                reason = "banned_phrase"
            if not reason and "\n\n" in s.strip():
                reason = "not_single_paragraph"
            if not reason and not (v.min_word_ratio <= ratio <= v.max_word_ratio):
                reason = "word_ratio"
            if reason:
                dropped.append(reason)
                continue
            src, dst = (s, orig) if self.cfg.paraphrase_direction == "synthetic_to_original" else (orig, s)
            good.append({"prompt": self.with_context(row, src), "completion": self.completion(dst)})
        return good, dropped

    def estimate(self, row) -> tuple[int, int]:
        paras = paragraphs(row)
        return len(paras), (max((count_tokens(p) for p in paras), default=0) * 11) // 10
