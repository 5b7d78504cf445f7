"""Looking at a build: `wiki-qa report DIR` -> DIR/report/index.html with SVG plots (viz/svg.py).

`write_page(out_dir)` is the one entry point (the CLI and the build call it). The main plot,
`report/lengths.svg` (token lengths per split and field), is what the dataset card embeds.

May import the leaf modules and publish.card (the card links the main plot); it reads build folders only.
"""
from __future__ import annotations

from wiki_qa.publish.card import MAIN_PLOT  # "report/lengths.svg": the card links it when present

REPORT_DIR = "report"


def write_page(out_dir, *, sample: int = 5, max_rows: int = 5_000, update_card: bool = True):
    """Write `out_dir/report/index.html` (+ SVG plots) for a build folder; returns the path of index.html."""
    from wiki_qa.viz.page import write_page as _write

    return _write(out_dir, sample=sample, max_rows=max_rows, update_card=update_card)


__all__ = ["MAIN_PLOT", "REPORT_DIR", "write_page"]
