"""paraphrase: one paraphrase per paragraph. The seed trains synthetic -> original (the default)."""
from __future__ import annotations

from wiki_qa.llm import parsing as P
from wiki_qa.llm import tasks as T

VERSION = 1


def paragraphs(row) -> list[str]:
    text = row["text"]
    # The chunk starts with the title; it is not a paragraph to paraphrase.
    if row.get("title") and text.startswith(row["title"]):
        text = text[len(row["title"]):]
    return [p.strip() for p in text.split("\n\n") if len(P.words(p)) >= 3]


def prompt(row, cfg) -> list[dict]:
    paras = paragraphs(row)
    numbered = "\n\n".join(f"{i + 1}. {p}" for i, p in enumerate(paras))
    user = T.fill(T.template("paraphrase", cfg), title=row["title"], paragraphs=numbered, n=len(paras),
                  language=T.language(row, cfg), instruction=T.instruction(row, cfg), text=row["text"])
    return T.messages(row, cfg, user)


def schema(row, cfg) -> dict:
    n = max(1, len(paragraphs(row)))
    return {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "string"},
            "minItems": n, "maxItems": n}}, "required": ["items"], "additionalProperties": False}


def parse(row, text, cfg):
    v = cfg.validate_
    paras = paragraphs(row)
    items = P.items_of(P.parse_json(text))
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
        src, dst = (s, orig) if cfg.paraphrase_direction == "synthetic_to_original" else (orig, s)
        good.append({"prompt": T.with_context(row, cfg, src), "completion": T.completion(dst, cfg)})
    return good, dropped


def estimate_items(row, cfg) -> tuple[int, int]:
    paras = paragraphs(row)
    from wiki_qa.tokens import count_tokens as count
    return len(paras), (max((count(p) for p in paras), default=0) * 11) // 10
