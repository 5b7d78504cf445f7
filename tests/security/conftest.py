"""The security regression tests reuse the publishing fixtures: moto S3 and the test Hub on 127.0.0.1."""
from tests.publish.conftest import build_dir, hub, moto_endpoint, s3_env  # noqa: F401 (pytest fixtures)

import pytest  # noqa: E402


@pytest.fixture(scope="module")
def fake_llm():
    """The project's fault-injecting fake OpenAI server (tests/servers/fake_openai.py), fault-free."""
    from tests.llm.conftest import DEFAULTS, FakeServer

    server = FakeServer()
    server.reset(**DEFAULTS)
    yield server
    server.stop()
