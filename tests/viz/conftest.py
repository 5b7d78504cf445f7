"""A demo build shared by the viz tests (one build per session: it takes about a second)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory):
    import wiki_qa

    out = tmp_path_factory.mktemp("viz") / "demo"
    wiki_qa.build("demo-text", output=str(out))
    return out
