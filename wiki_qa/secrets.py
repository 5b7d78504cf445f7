"""Keep secrets out of logs, build_report.json, the dataset card and the echoed YAML.

Two tools, because secrets leak in two ways:
- `mask_secrets(obj, raw=...)` walks a config echo: values whose key looks secret, or whose raw YAML value
  came from `${ENV}` interpolation (the usual way to pass a key), become MASK.
- `redact(text)` scrubs known secret *values* (from the environment) out of free text such as error messages
  coming back from boto3/httpx, which may echo a URL or header.
"""
from __future__ import annotations

import os
import re
from typing import Any

MASK = "***"

# Key names that hold credentials. Matched on the lower-cased key with `_`/`-` removed, so `api_key`,
# `apiKey`, `S3_SECRET_ACCESS_KEY`, `hf-token` all match. `max_tokens` / `encoding` must NOT match, hence
# whole-word-ish patterns instead of a bare "token" substring.
_SECRET_KEY_RE = re.compile(
    r"(^|_)(token|hftoken|apikey|api_key|key|secret|secretkey|secretaccesskey|accesskeyid|password|passwd|"
    r"credentials?|authorization|auth|bearer|sessiontoken)$"
)
_INTERP_RE = re.compile(r"\$\{[^}]+\}")
_URL_CREDS_RE = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<creds>[^/@\s:]+:[^/@\s]+)@", re.I)

# Environment variables whose values are secrets wherever they show up.
SECRET_ENV_VARS = (
    "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "OPENAI_API_KEY",
)


def is_secret_key(key: str) -> bool:
    norm = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(key)).lower().replace("-", "_")
    return bool(_SECRET_KEY_RE.search(norm)) or norm.endswith(("_token", "_key", "_secret", "_password"))


def mask_secrets(obj: Any, raw: Any = None) -> Any:
    """Return a copy of `obj` (dicts/lists/scalars) with secrets replaced by MASK.

    `raw` is the same structure *before* `${ENV}` interpolation (the parsed YAML); wherever its value
    contains `${...}`, the interpolated value is masked, whatever the key is called. Without `raw`,
    key names and credentials embedded in URLs are still masked.
    """
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            r = raw.get(k) if isinstance(raw, dict) else None
            if v is not None and (is_secret_key(k) or (isinstance(r, str) and _INTERP_RE.search(r))):
                out[k] = MASK
            else:
                out[k] = mask_secrets(v, r)
        return out
    if isinstance(obj, (list, tuple)):
        raws = list(raw) if isinstance(raw, (list, tuple)) and len(raw) == len(obj) else [None] * len(obj)
        return [mask_secrets(v, r) for v, r in zip(obj, raws)]
    if isinstance(obj, str):
        if isinstance(raw, str) and _INTERP_RE.search(raw):
            return MASK
        return _URL_CREDS_RE.sub(lambda m: f"{m['scheme']}{MASK}@", obj)
    return obj


def redact(text: str, extra: tuple[str, ...] | list[str] = ()) -> str:
    """Remove secret values (from SECRET_ENV_VARS and `extra`) and URL credentials from free text."""
    values = [os.environ.get(name) for name in SECRET_ENV_VARS] + list(extra)
    for value in sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return _URL_CREDS_RE.sub(lambda m: f"{m['scheme']}{MASK}@", text)
