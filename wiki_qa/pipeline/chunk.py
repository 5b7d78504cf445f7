"""Documents -> chunks that fit a token (or character) budget, each starting with the page title.

Breaks at paragraphs first, then sentences, then hard splits, so a chunk is as close to a self-contained
passage as the budget allows. Token counts come from tiktoken, loaded offline (wiki_qa.tokens).
"""
from __future__ import annotations

import re
from typing import Iterator, Literal

from pydantic import model_validator

from wiki_qa.configbase import StrictModel
from wiki_qa.rows import chunk_row, meta_json
from wiki_qa.tokens import get_encoding

_SENTENCE_END = re.compile(r"(?<=[.!?…。！？।؟።])\s+")
_WORD = re.compile(r"\w+", re.U)


class ChunkConfig(StrictModel):
    by: Literal["tokens", "chars"] = "tokens"
    max_tokens: int = 1024
    max_chars: int = 10_000
    encoding: str = "cl100k_base"
    min_words: int = 10

    @model_validator(mode="after")
    def _by_what_was_set(self):
        # `max_chars: 5000` alone means "chunk by characters".
        if "max_chars" in self.model_fields_set and "max_tokens" not in self.model_fields_set \
                and "by" not in self.model_fields_set:
            object.__setattr__(self, "by", "chars")
        if self.max_tokens < 16 or self.max_chars < 64:
            raise ValueError("chunk budget too small (max_tokens >= 16, max_chars >= 64)")
        return self


class Chunker:
    def __init__(self, cfg: ChunkConfig):
        self.cfg = cfg
        if cfg.by == "tokens":
            self.enc = get_encoding(cfg.encoding)
            self.budget = cfg.max_tokens
        else:
            self.enc = None
            self.budget = cfg.max_chars

    def size(self, text: str) -> int:
        return len(self.enc.encode_ordinary(text)) if self.enc else len(text)

    def _hard(self, text: str, budget: int) -> list[str]:
        if self.enc:
            ids = self.enc.encode_ordinary(text)
            return [self.enc.decode(ids[i:i + budget]).strip() for i in range(0, len(ids), budget)]
        return [text[i:i + budget].strip() for i in range(0, len(text), budget)]

    def _pieces(self, text: str, budget: int) -> Iterator[str]:
        """Paragraphs no larger than `budget`: split too-large ones at sentences, then hard."""
        for para in re.split(r"\n\s*\n", text):
            para = para.strip()
            if not para:
                continue
            if self.size(para) <= budget:
                yield para
                continue
            for sent in _SENTENCE_END.split(para):
                if self.size(sent) <= budget:
                    yield sent
                else:
                    yield from self._hard(sent, budget)

    def split(self, title: str, text: str) -> list[str]:
        head = f"{title}\n\n" if title else ""
        budget = self.budget - self.size(head) - 2
        if budget < 8:
            budget = max(8, self.budget // 2)
        chunks, cur, cur_size = [], [], 0
        sep = self.size("\n\n") if self.enc else 2
        for piece in self._pieces(text, budget):
            n = self.size(piece)
            if cur and cur_size + sep + n > budget:
                # A section heading belongs with the text after it, not at the end of a chunk.
                carry = [cur.pop()] if len(cur) > 1 and _looks_like_heading(cur[-1]) else []
                chunks.append(cur)
                cur = carry
                cur_size = sum(self.size(p) for p in cur) + sep * len(cur)
            # Paragraphs inside a chunk keep their blank-line separation; sentences of one paragraph
            # that was split are re-joined with blank lines too (a small, harmless change of layout).
            cur.append(piece)
            cur_size += n + (sep if len(cur) > 1 else 0)
        if cur:
            chunks.append(cur)
        out = []
        for parts in chunks:
            body = "\n\n".join(parts)
            # Token counts of joined text can exceed the sum of parts by a merge or two; re-check.
            while self.size(head + body) > self.budget and len(body) > 1:
                body = body[: int(len(body) * 0.95)]
            out.append(head + body)
        return out


def _looks_like_heading(piece: str) -> bool:
    return "\n" not in piece and len(piece) < 80 and not piece.rstrip().endswith((".", "!", "?", ":", "。"))


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def chunk_rows(doc: dict, text: str, chunker: Chunker, stats: dict) -> Iterator[dict]:
    """Rows for one cleaned document. Fragments under min_words (title excluded) are counted and dropped."""
    title = doc.get("title") or ""
    meta = meta_json(doc.get("meta"))
    k = 0
    for chunk in chunker.split(title, text):
        body = chunk[len(title) + 2:] if title and chunk.startswith(title + "\n\n") else chunk
        if word_count(body) < chunker.cfg.min_words:
            stats["short_chunks"] = stats.get("short_chunks", 0) + 1
            continue
        yield chunk_row(doc, k, chunk, meta)
        k += 1
