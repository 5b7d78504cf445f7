"""Progress bars for long reads: MB/s of input and items/s. On only when the CLI asks (and stderr is a TTY)."""
from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm

_ENABLED = {"on": False}


def enable(on: bool = True) -> None:
    _ENABLED["on"] = on


def input_bar(label: str, total: int | None):
    show = _ENABLED["on"] and sys.stderr.isatty() and not os.environ.get("CI")
    return tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1 << 20,
                disable=not show, leave=False, dynamic_ncols=True)
