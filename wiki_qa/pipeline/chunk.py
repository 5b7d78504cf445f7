"""Documents -> chunks that fit a token (or character) budget, each starting with the page title.

Breaks at paragraphs first, then sentences, then hard splits, so a chunk is as close to a self-contained
passage as the budget allows. Token counts are exact under the configured encoding (wiki_qa.tokens).

Each piece of text is counted once. The size of a joined chunk (title, pieces and the blank lines between
them) is then computed from its pieces' counts rather than counted again (`_joined_size`): the
pre-tokenizer of the OpenAI encodings never joins text across a newline followed by a non-space
character, so a chunk's count is the sum of its parts' counts with "\\n\\n" appended, and appending "\\n\\n"
to a piece changes only its trailing run of punctuation (which the pre-tokenizer lets swallow newlines).
tests/pipeline/test_chunk_budget.py checks every chunk of every real dump against tiktoken itself.
"""
from __future__ import annotations

import itertools
import re
from typing import Iterator, Literal

from pydantic import model_validator

from wiki_qa.configbase import StrictModel
from wiki_qa.rows import chunk_row, meta_json

_SENTENCE_END = re.compile(r"(?<=[.!?…。！？।؟።])\s+")
_PARAGRAPH = re.compile(r"\n\s*\n")
_WORD = re.compile(r"\w+", re.U)
SEP = "\n\n"
# Unicode White_Space: the pre-tokenizer's \s (Python's isspace() also takes \x1c-\x1f).
_WHITE_SPACE = frozenset("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                         "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


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
        self.by_tokens = cfg.by == "tokens"
        self.budget = cfg.max_tokens if self.by_tokens else cfg.max_chars
        self._count = None
        self._sep_size: int | None = None
        # count(tail + "\n\n") - count(tail) by trailing punctuation run: a dump has few distinct ones
        # (".", ").", ".\"", ...), and asking the tokenizer twice for each paragraph cost a third of the time
        self._tail_sizes: dict[str, int] = {}

    @property
    def count(self):
        """The size function: exact tokens of the encoding (loaded on first use), or characters."""
        if self._count is None:
            if self.by_tokens:
                from wiki_qa.tokens import counter

                self._count = counter(self.cfg.encoding)
            else:
                self._count = len
        return self._count

    @property
    def sep_size(self) -> int:
        if self._sep_size is None:
            self._sep_size = self.count(SEP)
        return self._sep_size

    def size(self, text: str) -> int:
        return self.count(text)

    def _hard(self, text: str, budget: int) -> list[str]:
        if self.by_tokens:  # rare (a sentence over the budget): cut on tiktoken's own token offsets
            from wiki_qa.tokens import get_encoding

            enc = get_encoding(self.cfg.encoding)
            ids = enc.encode_ordinary(text)
            return [enc.decode(ids[i:i + budget]).strip() for i in range(0, len(ids), budget)]
        return [text[i:i + budget].strip() for i in range(0, len(text), budget)]

    def _pieces(self, text: str, budget: int) -> Iterator[str]:
        """Paragraphs no larger than `budget`: split too-large ones at sentences, then hard."""
        for piece, _ in self._sized_pieces(text, budget):
            yield piece

    def _sized_pieces(self, text: str, budget: int) -> Iterator[tuple[str, int]]:
        count = self.count
        for para in _PARAGRAPH.split(text):
            para = para.strip()
            if not para:
                continue
            n = count(para)
            if n <= budget:
                yield para, n
                continue
            for sent in _SENTENCE_END.split(para):
                n = count(sent)
                if n <= budget:
                    yield sent, n
                else:
                    for hard in self._hard(sent, budget):
                        yield hard, count(hard)

    def split(self, title: str, text: str) -> list[str]:
        return [chunk for chunk, _ in self.sized_split(title, text)]

    def sized_split(self, title: str, text: str) -> list[tuple[str, int]]:
        """The chunks of one document, each with its exact size (tokens or characters)."""
        head = f"{title}{SEP}" if title else ""
        head_size = self.count(head)
        budget = self.budget - head_size - 2
        if budget < 8:
            budget = max(8, self.budget // 2)
        chunks, cur, cur_size = [], [], 0
        sep = self.sep_size
        for piece, n in self._sized_pieces(text, budget):
            if cur and cur_size + sep + n > budget:
                # A section heading belongs with the text after it, not at the end of a chunk.
                carry = [cur.pop()] if len(cur) > 1 and _looks_like_heading(cur[-1][0]) else []
                chunks.append(cur)
                cur = carry
                cur_size = sum(m for _, m in cur) + sep * len(cur)
            # Paragraphs inside a chunk keep their blank-line separation; sentences of one paragraph
            # that was split are re-joined with blank lines too (a small, harmless change of layout).
            cur.append((piece, n))
            cur_size += n + (sep if len(cur) > 1 else 0)
        if cur:
            chunks.append(cur)
        out = []
        for parts in chunks:
            body = SEP.join(p for p, _ in parts)
            size = self._joined_size(head, head_size, parts)
            # Token counts of joined text can exceed the sum of parts by a merge or two; re-check.
            while size > self.budget and len(body) > 1:
                body = body[: int(len(body) * 0.95)]
                size = self.count(head + body)
            out.append((head + body, size))
        return out

    def _joined_size(self, head: str, head_size: int, parts: list[tuple[str, int]]) -> int:
        """The size of head + "\\n\\n".join(parts), from the parts' sizes (see the module's docstring)."""
        if not self.by_tokens:
            return len(head) + sum(len(p) for p, _ in parts) + len(SEP) * (len(parts) - 1)
        if any(not p or p[0] in _WHITE_SPACE or p[-1] in _WHITE_SPACE for p, _ in parts):
            return self.count(head + SEP.join(p for p, _ in parts))  # a hard split left an empty piece
        size = head_size + sum(n for _, n in parts)
        for p, n in parts[:-1]:
            size += self._separator_size(p)
        return size

    def _separator_size(self, piece: str) -> int:
        """count(piece + "\\n\\n") - count(piece), for a piece with no white space at either end."""
        # str.isalnum() is exactly "Unicode category L* or N*" (\p{L}, \p{N}): checked over every code point
        if piece[-1].isalnum():  # the blank line is a token of its own
            return self.sep_size
        # The trailing run of punctuation (with one space before it) is one pre-token, which takes the
        # newlines in; what comes before it is pre-tokenized alike in both strings.
        i = len(piece) - 1
        while i > 0 and piece[i - 1] not in _WHITE_SPACE and not piece[i - 1].isalnum():
            i -= 1
        if i > 0 and piece[i - 1] == " ":
            i -= 1
        tail = piece[i:]
        n = self._tail_sizes.get(tail)
        if n is None:
            n = self.count(tail + SEP) - self.count(tail)
            if len(tail) <= 16 and len(self._tail_sizes) < 4096:
                self._tail_sizes[tail] = n
        return n


def _looks_like_heading(piece: str) -> bool:
    return "\n" not in piece and len(piece) < 80 and not piece.rstrip().endswith((".", "!", "?", ":", "。"))


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def has_words(text: str, n: int) -> bool:
    """word_count(text) >= n, reading only as far as the n-th word."""
    return n <= 0 or next(itertools.islice(_WORD.finditer(text), n - 1, None), None) is not None


def chunk_rows(doc: dict, text: str, chunker: Chunker, stats: dict, sizes: list | None = None) -> Iterator[dict]:
    """Rows for one cleaned document. Fragments under min_words (title excluded) are counted and dropped.
    `sizes`, when given, gets each kept chunk's size (the report's token lengths: nothing is counted twice)."""
    title = doc.get("title") or ""
    meta = meta_json(doc.get("meta"))
    k = 0
    for chunk, size in chunker.sized_split(title, text):
        body = chunk[len(title) + 2:] if title and chunk.startswith(title + "\n\n") else chunk
        if not has_words(body, chunker.cfg.min_words):
            stats["short_chunks"] = stats.get("short_chunks", 0) + 1
            continue
        if sizes is not None:
            sizes.append(size)
        yield chunk_row(doc, k, chunk, meta)
        k += 1
