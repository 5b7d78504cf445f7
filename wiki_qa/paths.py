"""Where wiki_qa keeps its own caches (LLM responses, downloaded tarballs): $WIKI_QA_CACHE or ~/.cache/wiki_qa."""
from __future__ import annotations

import os


def cache_dir(*parts: str) -> str:
    base = os.environ.get("WIKI_QA_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "wiki_qa")
    return os.path.join(base, *parts)
