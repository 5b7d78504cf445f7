"""build_report.json helpers: the config echo with every secret masked."""
from __future__ import annotations

import re

import yaml

# Key names that hold credentials: hf_token, api_key, secret_access_key... but not max_tokens.
_SECRET_KEY = re.compile(r"(^|_)(token|secret|password|passwd|api_?key|access_key(_id)?|secret_access_key|"
                         r"credentials?|auth)$", re.I)
MASK = "***"


def _mask(obj, secrets: set[str]):
    if isinstance(obj, dict):
        return {k: (MASK if _SECRET_KEY.search(str(k)) and v not in (None, "") else _mask(v, secrets))
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [_mask(v, secrets) for v in obj]
    if isinstance(obj, str):
        for s in secrets:
            if s and len(s) >= 4 and s in obj:
                obj = obj.replace(s, MASK)
    return obj


def config_echo(cfg) -> dict:
    """The resolved config as JSON, with ${…}-interpolated values and secret-named keys masked."""
    return _mask(cfg.model_dump(mode="json"), cfg.__dict__.get("_secrets", set()))


def config_yaml(cfg) -> str:
    return yaml.safe_dump(config_echo(cfg), sort_keys=False, allow_unicode=True)
