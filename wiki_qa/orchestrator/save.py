"""Writing a build folder so that a dead build never leaves output that looks complete.

The DatasetDict and its extras (report, card) are written into a hidden temporary folder beside the
destination, which is renamed into place only when everything is there.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

import datasets


def save_atomically(dsd: datasets.DatasetDict, out: Path, finish: Callable[[Path], None]) -> None:
    """save_to_disk into `.NAME.tmp-PID`, `finish(tmp)` adds the extras, then the folder replaces `out`."""
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        save_dataset_dict(dsd, str(tmp))
        finish(tmp)
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def save_dataset_dict(dsd: datasets.DatasetDict, path: str) -> None:
    """save_to_disk that survives empty splits: datasets 5.2 writes no arrow file for a 0-row split unless
    asked for one shard, and load_from_disk then fails (IndexError in concat_tables)."""
    empty = {s: 1 for s in dsd if dsd[s].num_rows == 0}
    dsd.save_to_disk(path, num_shards=empty or None)
