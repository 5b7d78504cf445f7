"""Hugging Face Hub: token lookup, fail-fast checks, push with retries, and the merged dataset card.

huggingface_hub reads HF_ENDPOINT when it is first imported, so it is imported inside the functions:
importing wiki_qa must not freeze the endpoint (tests point it at a local server).
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Any, Callable

import yaml

from wiki_qa.errors import UserError
from wiki_qa.secrets import redact

log = logging.getLogger(__name__)

RETRY_STATUS = (408, 429, 500, 502, 503, 504)
CARD_BEGIN = "<!-- wiki_qa:begin {} -->"
CARD_END = "<!-- wiki_qa:end {} -->"
_SIZE_ORDER = ["n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B"]


def resolve_token(token: str | None = None) -> tuple[str | None, str]:
    """(token, where it came from): argument, HF_TOKEN, ./.env, or the `hf auth login` file."""
    if token:
        return token, "the token argument"
    if os.environ.get("HF_TOKEN"):
        return os.environ["HF_TOKEN"], "HF_TOKEN"
    try:
        from dotenv import dotenv_values

        if tok := dotenv_values(".env").get("HF_TOKEN"):
            return tok, ".env HF_TOKEN"
    except Exception:
        pass
    from huggingface_hub import get_token

    return get_token(), "the huggingface_hub login"


def _status(exc: BaseException) -> int | None:
    resp = getattr(exc, "response", None)
    return getattr(resp, "status_code", None)


def _retryable(exc: BaseException) -> bool:
    # Errors may be wrapped (datasets re-raises inside its own retry loop): look down the chain.
    seen = 0
    while exc is not None and seen < 5:
        status = _status(exc)
        if status in RETRY_STATUS:
            return True
        if type(exc).__name__ in ("ConnectError", "ReadTimeout", "WriteTimeout", "RemoteProtocolError",
                                  "ReadError", "ConnectTimeout"):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def with_retries(fn: Callable[[], Any], what: str, *, retries: int = 4, backoff_s: float = 2.0) -> Any:
    """Run `fn`, retrying 429/5xx/transport errors with exponential backoff (the whole step is idempotent).

    huggingface_hub already retries single LFS/commit requests; this outer loop covers the calls it does
    not (repo_info, tree listings inside datasets) by redoing the step.
    """
    for attempt in range(retries + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt >= retries or not _retryable(exc):
                raise
            wait = min(60.0, backoff_s * 2 ** attempt)
            log.warning("%s failed (%s); retry %d/%d in %.1fs", what, redact(f"{type(exc).__name__}: "
                        f"{_status(exc) or exc}"), attempt + 1, retries, wait)
            time.sleep(wait)


def validate_hub(repo_id: str, *, private: bool = False, token: str | None = None) -> None:
    """Before a build: token present and valid, repo exists (created if missing) and is writable."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    tok, origin = resolve_token(token)
    where = "output.push_to_hub"
    if not tok:
        raise UserError("no Hub token: set HF_TOKEN (environment or .env) or run `hf auth login`", path=where)
    api = HfApi(token=tok)
    try:
        with_retries(lambda: api.whoami(cache=False), "Hub whoami", retries=2, backoff_s=1.0)
    except HfHubHTTPError as exc:
        if _status(exc) == 401:
            raise UserError(f"the Hub token from {origin} is invalid", path=where) from None
        raise UserError(f"Hub token check failed (HTTP {_status(exc)})", path=where) from None
    except Exception as exc:
        raise UserError(f"cannot reach the Hub ({type(exc).__name__})", path=where) from None
    try:
        try:
            api.repo_info(repo_id, repo_type="dataset")
        except RepositoryNotFoundError:
            api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        api.auth_check(repo_id, repo_type="dataset", write=True)
    except HfHubHTTPError as exc:
        status = _status(exc)
        if status in (401, 403, 404):
            raise UserError(f"the Hub token from {origin} cannot write to dataset repo {repo_id} "
                            f"(HTTP {status})", path=where) from None
        raise UserError(f"Hub check of {repo_id} failed (HTTP {status})", path=where) from None


def push_to_hub(out_dir: str | os.PathLike, repo_id: str, *, config_name: str | None = None,
                private: bool = False, token: str | None = None, retries: int = 4,
                backoff_s: float = 2.0) -> dict:
    """Push a build folder as config `config_name` (default "default") of dataset repo `repo_id`.

    Uses `DatasetDict.push_to_hub(config_name=...)`, so configs live side by side (data in `<config>/`,
    or `data/` for "default") and plain `datasets.load_dataset(repo_id, config_name)` loads it. Pushing
    the same build again yields the same files (re-push is idempotent). Then merges the build's card.
    """
    from datasets import load_from_disk
    from huggingface_hub import HfApi, constants

    out_dir = Path(out_dir)
    if not (out_dir / "dataset_dict.json").exists():
        raise UserError("not a build folder (no dataset_dict.json)", path=str(out_dir))
    config_name = config_name or "default"
    tok, _ = resolve_token(token)
    dd = load_from_disk(str(out_dir))
    info = with_retries(lambda: dd.push_to_hub(repo_id, config_name=config_name, private=private, token=tok,
                                               commit_message=f"wiki_qa: upload config {config_name}"),
                        f"push to {repo_id}", retries=retries, backoff_s=backoff_s)
    api = HfApi(token=tok)
    card_commit = with_retries(lambda: _update_hub_card(api, repo_id, out_dir, config_name),
                               f"card of {repo_id}", retries=retries, backoff_s=backoff_s)
    return {"repo": repo_id, "config": config_name, "url": f"{constants.ENDPOINT}/datasets/{repo_id}",
            "commit": getattr(card_commit, "oid", None) or getattr(info, "oid", None)}


# ---- card merge ---------------------------------------------------------------------------------
def _split_card(text: str) -> tuple[dict, str]:
    m = re.match(r"^---\n(.*?)\n---\n?(.*)$", text, re.S)
    if not m:
        return {}, text
    return yaml.safe_load(m.group(1)) or {}, m.group(2)


def merge_metadata(hub: dict, local: dict) -> dict:
    """Fold this build's card metadata into the Hub card's, leaving datasets' configs/dataset_info alone."""
    out = dict(hub)
    for key in ("language", "task_categories", "tags"):
        vals = list(hub.get(key) or []) + [v for v in (local.get(key) or []) if v not in (hub.get(key) or [])]
        if vals:
            out[key] = vals
    if local.get("license"):
        # one licence field per repo: different sources side by side => "other"; details are in the body
        out["license"] = local["license"] if hub.get("license") in (None, local["license"]) else "other"
    sizes = [s for s in (hub.get("size_categories") or []) + (local.get("size_categories") or [])
             if s in _SIZE_ORDER]
    if sizes:
        out["size_categories"] = [max(sizes, key=_SIZE_ORDER.index)]
    out.setdefault("pretty_name", local.get("pretty_name"))
    return out


def merge_body(body: str, repo_id: str, config_name: str, section: str) -> str:
    begin, end = CARD_BEGIN.format(config_name), CARD_END.format(config_name)
    block = f"{begin}\n{section.strip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(body):  # replace in place: a re-push must not reorder the card
        return pattern.sub(lambda _: block, body, count=1)
    if "<!-- wiki_qa:" not in body and not body.strip().startswith("#"):
        body = (f"# {repo_id}\n\nBuilt with wiki_qa. Each config below is one build; load one with "
                f'`load_dataset("{repo_id}", CONFIG)`.\n\n' + body.strip())
    return body.rstrip() + f"\n\n{block}\n"


def _local_yaml(readme: Path, report: dict) -> str:
    """The build YAML: from the local card's code block, else re-dumped from the (masked) report echo."""
    if readme.exists():
        m = re.search(r"### Build configuration.*?```yaml\n(.*?)\n```", readme.read_text(encoding="utf-8"), re.S)
        if m:
            return m.group(1)
    return yaml.safe_dump(report.get("config") or {}, sort_keys=False)


def _update_hub_card(api, repo_id: str, out_dir: Path, config_name: str):
    from huggingface_hub import hf_hub_download

    from wiki_qa.publish.card import card_metadata, render_body

    report_path = out_dir / "build_report.json"
    if not report_path.exists():
        return None  # not a wiki_qa build: datasets' own card is all we have
    report = json.loads(report_path.read_text(encoding="utf-8"))
    hub_meta, hub_body = {}, ""
    try:
        path = hf_hub_download(repo_id, "README.md", repo_type="dataset", token=api.token)
        hub_meta, hub_body = _split_card(Path(path).read_text(encoding="utf-8"))
    except Exception as exc:
        if _retryable(exc):
            raise
    meta = merge_metadata(hub_meta, card_metadata(report, out_dir))
    section = render_body(report, _local_yaml(out_dir / "README.md", report), config_name=config_name, hub=repo_id)
    text = "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n" + \
        merge_body(hub_body, repo_id, config_name, section).lstrip()
    if text == (("---\n" + yaml.safe_dump(hub_meta, sort_keys=False, allow_unicode=True) + "---\n\n" +
                 hub_body.lstrip()) if hub_meta else hub_body):
        return None  # unchanged: no empty commit on a re-push
    return api.upload_file(path_or_fileobj=text.encode("utf-8"), path_in_repo="README.md", repo_id=repo_id,
                           repo_type="dataset", commit_message=f"wiki_qa: dataset card for config {config_name}")
