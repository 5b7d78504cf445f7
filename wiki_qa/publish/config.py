"""`output:` section of a build config.

Credentials are deliberately NOT config keys: they come from the environment (HF_TOKEN / hf login / .env;
S3_* or the AWS chain), so a YAML file can be shared without leaking them.
"""
from __future__ import annotations

import re

from pydantic import field_validator

from wiki_qa.configbase import StrictModel

_REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_CONFIG_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class OutputConfig(StrictModel):
    dir: str | None = None  # default: out/<name>
    # Hub: `ORG/NAME`. The build becomes config `hub_config_name` (default "default"), so several
    # builds (formats, languages) live side by side in one repo.
    push_to_hub: str | None = None
    hub_config_name: str | None = None
    hub_private: bool = False
    hub_make_private: bool = False  # hub_private on an existing public repo: make it private (else refused)
    hub_overwrite: bool = False     # replace a config that holds another build (other name or format)
    # S3: `s3://BUCKET/NAME.tar.gz` -> tarball with folder NAME/ inside (seed layout, for load_from_disk);
    #     `s3://BUCKET/PREFIX/`     -> one set of parquet files per split (for load_dataset("parquet")).
    s3: str | None = None
    s3_endpoint_url: str | None = None  # MinIO & co; else $S3_ENDPOINT, else the AWS default
    s3_region: str | None = None  # else $S3_REGION / AWS chain

    @field_validator("push_to_hub")
    @classmethod
    def _check_repo(cls, v: str | None) -> str | None:
        if v is not None and not _REPO_RE.match(v):
            raise ValueError(f"push_to_hub must look like ORG/NAME, got {v!r}")
        return v

    @field_validator("hub_config_name")
    @classmethod
    def _check_config_name(cls, v: str | None) -> str | None:
        if v is not None and not _CONFIG_NAME_RE.match(v):
            raise ValueError(f"hub_config_name may hold letters, digits, '_', '-', '.', got {v!r}")
        return v

    @field_validator("s3")
    @classmethod
    def _check_s3(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from wiki_qa.publish.s3 import parse_s3_url  # late: keeps config import light

        parse_s3_url(v)  # raises ValueError with a one-line reason
        return v
