"""A work counter for the readers of hostile input (the cleaner's prepass, the multistream index, the bz2
stream scan, the page reader). Tests count the units of work a reader does (bytes read, decompressed or
scanned) rather than time it, so a quadratic path shows up as counts that grow 16x for 4x the input, also on
a loaded 2-core machine."""
from __future__ import annotations


class Counter:
    """Units of work done so far (what a unit is, each reader says where it adds to `steps`)."""

    def __init__(self):
        self.steps = 0

    def add(self, n: int) -> None:
        self.steps += n
