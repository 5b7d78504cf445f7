"""Shared fixtures for source builder tests: the real data under ../shared/data (never copied into the repo)."""
from __future__ import annotations

import os
import pathlib

import pytest

DATA = pathlib.Path(os.environ.get("WIKI_QA_SHARED_DATA", pathlib.Path(__file__).resolve().parents[3] / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> pathlib.Path:
    if not DATA.is_dir():
        pytest.fail(f"real test data not found at {DATA} (set WIKI_QA_SHARED_DATA)")
    return DATA


def _read_all(source, limit=None):
    from wiki_qa.builders.base import SourceStats

    stats = SourceStats()
    rows = [row for shard in source.shards() for row in source.read(shard, stats, limit)]
    return rows, stats


@pytest.fixture
def read_all():
    """Run a source over all its shards the way the pipeline does; returns (rows, stats)."""
    return _read_all
