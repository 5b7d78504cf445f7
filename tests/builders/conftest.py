"""Shared fixtures for source builder tests. The real data under ../shared/data (never copied into the repo)
comes from tests/conftest.py's `data_dir`, which skips, with the suite's one reason, where it is absent."""
from __future__ import annotations

import pytest


def _read_all(source, limit=None):
    from wiki_qa.builders.base import SourceStats

    stats = SourceStats()
    rows = [row for shard in source.shards() for row in source.read(shard, stats, limit)]
    return rows, stats


@pytest.fixture
def read_all():
    """Run a source over all its shards the way the pipeline does; returns (rows, stats)."""
    return _read_all
