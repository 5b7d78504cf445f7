"""Keep secrets out of error messages, warnings, logs, build_report.json, the dataset card and the echoed YAML.

One function scrubs free text: `redact(text)`. Every error path (the CLI's one-line errors, UserError,
PublishError), every log record (`install_log_redaction`, which the CLI calls; warnings are routed into
logging) and every published echo (`mask_secrets`) goes through it. It removes:

- userinfo from any URL, with or without a password (`http://user:pass@h`, `http://sk-...@h`);
- the values of query keys that look like credentials (`api_key`, `key`, `token`, `sig`, `X-Amz-*`, ...),
  so presigned URLs lose their signature;
- `Bearer`/`Basic` authorization values;
- every secret value known to this process: environment variables whose names look secret (`*_TOKEN`,
  `*_KEY`, `*_SECRET`, `*_PASSWORD`, ...), values read from a `.env` file under such names (also those that
  never reach the environment, e.g. a Hub token read from `.env`), and values given to `register_secret`
  (the LLM key named by `api_key_env`, whatever that variable is called).

`mask_secrets(obj, raw=...)` walks a config echo: values whose key looks secret, or whose raw YAML value
came from `${ENV}` interpolation (the usual way to pass a key), become MASK; other strings are redacted.
"""
from __future__ import annotations

import functools
import logging
import os
import re
from pathlib import Path
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

# userinfo: everything between "scheme://" and the last "@" before the path (a token alone, user:pass,
# even a backslash trick like `127.0.0.1:80\@host`).
_USERINFO_RE = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<creds>[^\s/?#]+)@", re.I)
_QUERY_SECRET_RE = re.compile(
    r"(?P<key>[?&;](?:x-amz-[\w-]+|[\w.-]*(?:key|token|sig|secret|passw|pwd|auth|credential|session)[\w.-]*)=)"
    r"(?P<val>[^&#\s\"'<>]+)", re.I)
_AUTH_HEADER_RE = re.compile(r"\b(?P<kind>Bearer|Basic)\s+(?P<val>[A-Za-z0-9._~+/=-]{6,})", re.I)

# Environment variables whose values are secrets wherever they show up (besides secret-looking names).
SECRET_ENV_VARS = (
    "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "OPENAI_API_KEY",
)
_MIN_SECRET_LEN = 6  # shorter values ("1", "true", "en") would mask ordinary words
_registered: set[str] = set()


@functools.lru_cache(maxsize=4096)  # redact() asks it about every environment variable, on every string
def is_secret_key(key: str) -> bool:
    norm = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(key)).lower().replace("-", "_")
    return bool(_SECRET_KEY_RE.search(norm)) or norm.endswith(
        ("_token", "_key", "_secret", "_password", "_passwd", "_pass", "_pwd", "_credentials"))


def register_secret(value: str | None) -> None:
    """From now on, `value` is masked in every message, log line and echo of this process."""
    if value and len(value) >= _MIN_SECRET_LEN:
        _registered.add(value)


def _known_values(extra) -> list[str]:
    values = set(_registered) | {v for v in extra if v and len(v) >= _MIN_SECRET_LEN}
    for name, value in os.environ.items():
        if value and len(value) >= _MIN_SECRET_LEN and (name in SECRET_ENV_VARS or is_secret_key(name)):
            values.add(value)
    return sorted(values, key=len, reverse=True)  # longest first: a secret containing another


def redact(text: str, extra: tuple[str, ...] | list[str] = ()) -> str:
    """`text` without credentials: known secret values, URL userinfo, credential query values, auth headers."""
    text = str(text)
    for value in _known_values(extra):
        text = text.replace(value, MASK)
    text = _USERINFO_RE.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    text = _QUERY_SECRET_RE.sub(lambda m: f"{m['key']}{MASK}", text)
    return _AUTH_HEADER_RE.sub(lambda m: f"{m['kind']} {MASK}", text)


def mask_secrets(obj: Any, raw: Any = None) -> Any:
    """Return a copy of `obj` (dicts/lists/scalars) with secrets replaced by MASK.

    `raw` is the same structure *before* `${ENV}` interpolation (the parsed YAML); wherever its value
    contains `${...}`, the interpolated value is masked, whatever the key is called. Without `raw`,
    key names are still masked and every string is redacted.
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
        return redact(obj)
    return obj


# ---- .env files --------------------------------------------------------------------------------------
def read_dotenv(path: str | os.PathLike) -> dict[str, str]:
    """The variables of one `.env` file (no search in parent folders), registering secret-looking values."""
    path = Path(path)
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    for name, value in values.items():
        if name in SECRET_ENV_VARS or is_secret_key(name):
            register_secret(value)
    return values


def env_or_dotenv(name: str) -> str | None:
    """`name` from the environment, else from `./.env` (the working folder's, never a parent's)."""
    if os.environ.get(name):
        return os.environ[name]
    return read_dotenv(".env").get(name) or None


# ---- logging -----------------------------------------------------------------------------------------
class RedactingFilter(logging.Filter):
    """Attached to handlers: every record any library logs (httpx, botocore, wiki_qa) is redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record to logging's own error path
            return True
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Put a RedactingFilter on every handler of `logger` (default: the root logger) and send warnings
    through logging, so that nothing reaches stderr unredacted."""
    logger = logger or logging.getLogger()
    logging.captureWarnings(True)
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
