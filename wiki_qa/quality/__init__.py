"""Quality gates: dedup, decontamination against eval sets, pre-training checks, human review.

May import only the leaf modules (errors, configbase, rows, tokens).

Public API (imported lazily, so `wiki-qa --help` does not pay for datasets/datasketch):
    dedup(dsd, cfg, *, column="text") -> (DatasetDict, stats)
    decontaminate(dsd, cfg, *, columns=None, index=None) -> (DatasetDict, stats)
    build_index(cfg) -> EvalIndex                  # reuse one eval index across several decontaminate calls
    check_dir(path, cfg=None) -> report dict
    export_review(path, to, *, split="train") -> dict
    import_review(file, path, *, dry_run=False) -> dict
"""
from __future__ import annotations

from wiki_qa.quality.config import CheckConfig, DecontaminateConfig, DedupConfig, EvalSet

_LAZY = {
    "dedup": "wiki_qa.quality.duplicates",
    "decontaminate": "wiki_qa.quality.contamination",
    "build_index": "wiki_qa.quality.contamination",
    "check_dir": "wiki_qa.quality.check",
    "export_review": "wiki_qa.quality.review",
    "import_review": "wiki_qa.quality.review",
}

__all__ = ["CheckConfig", "DecontaminateConfig", "DedupConfig", "EvalSet", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'wiki_qa.quality' has no attribute {name!r}")
