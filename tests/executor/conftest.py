"""One local Ray (2 CPUs) per test module, and the fake OpenAI server(s) of tests/llm."""
from __future__ import annotations

import pytest

pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_local():
    import ray

    from wiki_qa.executor.ray import init

    if ray.is_initialized():
        ray.shutdown()
    init(None, 2)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def fake_servers():
    """Two fake servers: `good` (fault-free) and `bad` (every chat request fails with a 500)."""
    from tests.llm.conftest import DEFAULTS, FakeServer

    good, bad = FakeServer(), FakeServer()
    good.reset()
    bad.reset(faults={"500": 1.0}, fault_attempts=10 ** 6)
    yield {"good": good, "bad": bad, "defaults": DEFAULTS}
    good.stop()
    bad.stop()
