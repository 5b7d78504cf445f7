"""The code fingerprint in every cache key: a hash of wiki_qa's code, its source builders and its configs.

A changed cleaning rule or prompt must never reuse rows cached by the old code. In an editable install the
builders/ and configs/ folders live outside wiki_qa/, so each package is hashed from its own import path.
"""
from __future__ import annotations

import functools
import hashlib
import importlib
from pathlib import Path

PACKAGES = ("wiki_qa", "wiki_qa.builders", "wiki_qa.configs")
SUFFIXES = (".py", ".txt", ".j2", ".json", ".yaml", ".yml", ".tsv", ".csv")


@functools.lru_cache(maxsize=1)
def code() -> str:
    h = hashlib.sha256()
    for package in PACKAGES:
        for root in map(Path, importlib.import_module(package).__path__):
            for path in sorted(root.rglob("*")):
                if path.suffix in SUFFIXES and "__pycache__" not in path.parts and path.is_file():
                    h.update(f"{package}/{path.relative_to(root).as_posix()}\0".encode())
                    h.update(path.read_bytes())
    return h.hexdigest()[:16]


def of(*parts) -> str:
    """A short stable hash of JSON-able parts (configs, input identities, the code fingerprint)."""
    import json

    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]
