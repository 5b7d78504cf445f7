"""Shared test setup: the real data in ../shared/data (one place finds it), and a private datasets cache per session.

Tests that need the real files take the `shared_data` fixture (or one built on it: data_dir, mediawiki_dir,
mmlu_dir, real_chunks). Without the folder (a clone with nothing beside it) they skip, all with the same reason,
and the run ends with a count of them. WIKI_QA_REQUIRE_SHARED_DATA=1 (.ci/run sets it) turns that skip into a
failure, so CI never passes by skipping. WIKI_QA_SHARED_DATA points elsewhere than ../shared/data.
"""
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
SHARED_DATA = Path(os.environ.get("WIKI_QA_SHARED_DATA") or REPO.parent / "shared" / "data").resolve()
NO_SHARED_DATA = f"needs the real test data in ../shared/data (not found: {SHARED_DATA})"
REQUIRE_SHARED_DATA = os.environ.get("WIKI_QA_REQUIRE_SHARED_DATA", "").lower() in ("1", "true", "yes")


RAY_FIXTURES = {"ray_local", "cluster"}  # fixtures that start a Ray runtime


def pytest_collection_modifyitems(items):
    # `-m "not shared_data"` selects what runs anywhere; the marker follows the fixture, never a list to keep up.
    # The same for Ray: a test that starts Ray (by fixture, or says so in its name) is `ray`, so that
    # `make test-fast` leaves it out.
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if "shared_data" in names:
            item.add_marker(pytest.mark.shared_data)
        if names & RAY_FIXTURES or "ray" in item.originalname.split("_"):
            item.add_marker(pytest.mark.ray)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        if REQUIRE_SHARED_DATA:
            pytest.fail(f"{NO_SHARED_DATA}, and WIKI_QA_REQUIRE_SHARED_DATA is set", pytrace=False)
        pytest.skip(NO_SHARED_DATA)
    return SHARED_DATA


_SKIP_LINE = next(n for n, line in enumerate(Path(__file__).read_text().splitlines(), 1)
                  if line.strip() == "pytest.skip(NO_SHARED_DATA)")


@pytest.fixture(scope="session")
def data_dir(shared_data) -> Path:
    return shared_data


@pytest.fixture(scope="session")
def mediawiki_dir(shared_data) -> Path:
    return shared_data / "mediawiki"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # one place for all these skips, so `-ra` folds them into a single "SKIPPED [N]" line
    rep = (yield).get_result()
    if rep.skipped and isinstance(rep.longrepr, tuple) and rep.longrepr[2].endswith(NO_SHARED_DATA):
        rep.longrepr = (__file__, _SKIP_LINE, rep.longrepr[2])


def pytest_terminal_summary(terminalreporter):
    skipped = terminalreporter.stats.get("skipped", [])
    n = sum(1 for rep in skipped if isinstance(rep.longrepr, tuple) and rep.longrepr[2].endswith(NO_SHARED_DATA))
    if SHARED_DATA.is_dir():
        terminalreporter.write_line(f"real test data: {SHARED_DATA} ({n} tests skipped for want of it)")
    else:
        terminalreporter.write_line(f"{n} tests skipped: {NO_SHARED_DATA}", yellow=True, bold=True)
