"""build_report.json helpers: the config echo, with every secret masked (wiki_qa.publish.secrets)."""
from __future__ import annotations

import yaml

from wiki_qa.publish.secrets import mask_secrets


def config_echo(cfg) -> dict:
    """The resolved config as JSON; ${…}-interpolated values and credential-named keys are masked."""
    return mask_secrets(cfg.model_dump(mode="json"), cfg.__dict__.get("_raw"))


def config_yaml(cfg) -> str:
    return yaml.safe_dump(config_echo(cfg), sort_keys=False, allow_unicode=True)
