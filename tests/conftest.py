"""Shared test setup: real data from ../shared/data, and a private datasets cache per test session."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Before anything imports datasets: never touch the user's cache, never reach the Hub by accident.
_CACHE = tempfile.mkdtemp(prefix="wiki_qa-test-cache-")
os.environ.setdefault("HF_DATASETS_CACHE", os.path.join(_CACHE, "datasets"))
os.environ.setdefault("HF_HOME", os.path.join(_CACHE, "hf"))
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("WIKI_QA_CACHE", os.path.join(_CACHE, "wiki_qa"))

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.exists():
        pytest.fail(f"real test data not found at {SHARED} (CI puts ../shared beside the repo)")
    return SHARED


@pytest.fixture(scope="session")
def mediawiki_dir(shared_data) -> Path:
    return shared_data / "mediawiki"
