"""Text normalization shared by dedup and decontamination, and how a row's text is read from any format.

Normalization is language-neutral on purpose: NFKC + casefold + punctuation/whitespace folding. Diacritics are
kept, because in Yoruba, Igbo or Vietnamese tone marks tell different words apart.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

import regex

_SPACE = re.compile(r"\s+")


# Unicode punctuation (P*) and symbols (S*) become spaces. `regex` (already required by tiktoken) knows the
# Unicode categories; the stdlib `re` does not.
_PUNCT = regex.compile(r"[\p{P}\p{S}]+")


def normalize(text: str) -> str:
    """Canonical form for comparing texts: 'Hello,  World!' and 'hello world' are equal."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


def words(text: str) -> list[str]:
    return normalize(text).split()


def digest(text: str) -> bytes:
    """16-byte hash: a million rows cost 16 MB of keys instead of the texts themselves."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def iter_strings(value: Any) -> Iterator[str]:
    """Every string inside a value: a str, a list of messages ({role, content}), nested lists/dicts.

    Message roles are skipped: 'user'/'assistant' are not content.
    """
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            if k != "role":
                yield from iter_strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from iter_strings(v)


def row_text(value: Any) -> str:
    """One text for a cell of any format (a message list becomes its contents joined by newlines)."""
    return "\n".join(s for s in iter_strings(value) if s)


def batched_column(ds, column: str, batch_size: int = 1000) -> Iterable[list[Any]]:
    """A column in batches, so a big split is never materialized as one Python list."""
    sub = ds.select_columns([column])
    for batch in sub.iter(batch_size=batch_size):
        yield batch[column]
