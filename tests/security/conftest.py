"""The security regression tests reuse the publishing fixtures: moto S3 and the test Hub on 127.0.0.1."""
from tests.publish.conftest import build_dir, hub, moto_endpoint, s3_env  # noqa: F401 (pytest fixtures)
