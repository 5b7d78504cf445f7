"""Hugging Face Hub: token lookup, fail-fast checks, push with retries, and the merged dataset card.

A push never changes what the user did not ask to change: `private` on an existing public repo is refused
unless `make_private` (the repo is then made private before any data goes up), and a config that already
holds another build (its name or format, recorded in the card) is not replaced unless `overwrite`.
Splits without rows are left out of the pushed config (datasets cannot load an empty parquet split); the
card says so. The card, with the build's record, is committed before the data, so a push cut short never
publishes data without it and its retry is recognised as the same build.

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
from wiki_qa.secrets import read_dotenv, redact, register_secret

log = logging.getLogger(__name__)

RETRY_STATUS = (408, 429, 500, 502, 503, 504)
CARD_BEGIN = "<!-- wiki_qa:begin {} -->"
CARD_END = "<!-- wiki_qa:end {} -->"
CARD_BUILD = "<!-- wiki_qa:build {} -->"  # JSON {"name", "format"} of the build a config holds
_BUILD_RE = re.compile(r"<!-- wiki_qa:build (\{.*?\}) -->")
_SIZE_ORDER = ["n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B"]


def resolve_token(token: str | None = None) -> tuple[str | None, str]:
    """(token, where it came from): argument, HF_TOKEN, ./.env, or the `hf auth login` file. Wherever it
    came from, the token is registered for redaction (a token from .env is never in the environment)."""
    if token:
        found = token, "the token argument"
    elif os.environ.get("HF_TOKEN"):
        found = os.environ["HF_TOKEN"], "HF_TOKEN"
    elif tok := read_dotenv(".env").get("HF_TOKEN"):
        found = tok, ".env HF_TOKEN"
    else:
        from huggingface_hub import get_token

        found = get_token(), "the huggingface_hub login"
    register_secret(found[0])
    return found


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


def validate_hub(repo_id: str, *, private: bool = False, make_private: bool = False, token: str | None = None,
                 config_name: str | None = None, build: dict | None = None, overwrite: bool = False) -> None:
    """Before a build: token present and valid, repo exists (created if missing) and is writable, its
    visibility is what was asked for, and config `config_name` is free or holds this same `build`."""
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
        check_destination(api, repo_id, private=private, make_private=make_private, config_name=config_name,
                          build=build, overwrite=overwrite, apply=False, where=where)
    except HfHubHTTPError as exc:
        status = _status(exc)
        if status in (401, 403, 404):
            raise UserError(f"the Hub token from {origin} cannot write to dataset repo {repo_id} "
                            f"(HTTP {status})", path=where) from None
        raise UserError(f"Hub check of {repo_id} failed (HTTP {status})", path=where) from None


def build_identity(out_dir: Path) -> dict | None:
    """{"name", "format"} of a build folder, from its build_report.json (None: not a wiki_qa build)."""
    try:
        report = json.loads((Path(out_dir) / "build_report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    fmt = (report.get("config") or {}).get("format")
    return {"name": report.get("name"), "format": fmt.get("type") if isinstance(fmt, dict) else fmt}


def _hub_card(api, repo_id: str) -> tuple[dict, str]:
    """The Hub card's (metadata, body); ({}, "") if the repo has none yet."""
    from huggingface_hub import hf_hub_download

    try:
        path = hf_hub_download(repo_id, "README.md", repo_type="dataset", token=api.token)
    except Exception as exc:
        if _retryable(exc):
            raise
        return {}, ""
    return _split_card(Path(path).read_text(encoding="utf-8"))


def recorded_build(meta: dict, body: str, config_name: str) -> tuple[bool, dict | None]:
    """(does the repo have config `config_name`, the {"name", "format"} recorded for it or None)."""
    exists = any(isinstance(c, dict) and c.get("config_name") == config_name for c in meta.get("configs") or [])
    block = re.search(re.escape(CARD_BEGIN.format(config_name)) + r"(.*?)" + re.escape(CARD_END.format(config_name)),
                      body, re.S)
    m = _BUILD_RE.search(block.group(1)) if block else None
    try:
        return exists, json.loads(m.group(1)) if m else None
    except ValueError:
        return exists, None


def check_destination(api, repo_id: str, *, private: bool, make_private: bool, config_name: str | None,
                      build: dict | None, overwrite: bool, apply: bool, where: str) -> None:
    """Refuse (UserError) what the user did not ask for: a public repo behind `private`, another build
    behind `config_name`. With `apply`, a public repo is made private when `make_private` allows it."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        info = api.repo_info(repo_id, repo_type="dataset")
    except RepositoryNotFoundError:
        return  # a new repo: created with the visibility asked for
    if private and not info.private:
        if not make_private:
            raise UserError(f"dataset repo {repo_id} already exists and is public: this build would be published "
                            "publicly despite --private (pass --make-private, or output.hub_make_private: true, "
                            "to make the repo private first)", path=where)
        if apply:
            api.update_repo_settings(repo_id, repo_type="dataset", private=True)
            log.warning("dataset repo %s was public; made it private before pushing (--make-private)", repo_id)
    if overwrite:
        return
    config_name = config_name or "default"
    exists, recorded = recorded_build(*_hub_card(api, repo_id), config_name)
    if exists and (recorded is None or build is None or recorded != build):
        theirs = (f"build {recorded.get('name')!r}, format {recorded.get('format')!r}" if recorded
                  else "a build not recorded by wiki_qa")
        ours = f"build {build.get('name')!r}, format {build.get('format')!r}" if build else "this folder"
        raise UserError(f"config {config_name!r} of dataset repo {repo_id} already holds {theirs}, not {ours}: "
                        "pass --overwrite (or output.hub_overwrite: true) to replace it, or choose another "
                        "config name", path=where)


def push_to_hub(out_dir: str | os.PathLike, repo_id: str, *, config_name: str | None = None,
                private: bool = False, make_private: bool = False, overwrite: bool = False,
                token: str | None = None, retries: int = 4, backoff_s: float = 2.0) -> dict:
    """Push a build folder as config `config_name` (default "default") of dataset repo `repo_id`.

    Uses `DatasetDict.push_to_hub(config_name=...)`, so configs live side by side (data in `<config>/`,
    or `data/` for "default") and plain `datasets.load_dataset(repo_id, config_name)` loads it. Pushing
    the same build again yields the same files (re-push is idempotent). Then merges the build's card.
    Splits without rows are not pushed (the card says which). See check_destination for what is refused.
    """
    from datasets import DatasetDict, load_from_disk
    from huggingface_hub import HfApi, constants

    out_dir = Path(out_dir)
    if not (out_dir / "dataset_dict.json").exists():
        raise UserError("not a build folder (no dataset_dict.json)", path=str(out_dir))
    config_name = config_name or "default"
    tok, _ = resolve_token(token)
    api = HfApi(token=tok)
    dd = load_from_disk(str(out_dir))
    kept = DatasetDict({s: d for s, d in dd.items() if d.num_rows})
    if not kept:
        raise UserError("every split is empty: nothing to push", path=str(out_dir))
    with_retries(lambda: check_destination(api, repo_id, private=private, make_private=make_private,
                                           config_name=config_name, build=build_identity(out_dir),
                                           overwrite=overwrite, apply=True, where=repo_id),
                 f"checks of {repo_id}", retries=retries, backoff_s=backoff_s)
    # The card (with this build's record) goes up before the data: datasets' data commit keeps the card's
    # body and metadata and adds its configs, so a push cut anywhere never leaves data without the card,
    # and a retry finds this build recorded (check_destination lets the same build through).
    with_retries(lambda: api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True),
                 f"repo {repo_id}", retries=retries, backoff_s=backoff_s)
    with_retries(lambda: _update_hub_card(api, repo_id, out_dir, config_name),
                 f"card of {repo_id}", retries=retries, backoff_s=backoff_s)
    info = with_retries(lambda: kept.push_to_hub(repo_id, config_name=config_name, private=private, token=tok,
                                                 commit_message=f"wiki_qa: upload config {config_name}"),
                        f"push to {repo_id}", retries=retries, backoff_s=backoff_s)
    # Normally unchanged (no commit): only a card edited by someone between the two commits is merged again.
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
    from wiki_qa.publish.card import card_metadata, render_body

    report_path = out_dir / "build_report.json"
    if not report_path.exists():
        return None  # not a wiki_qa build: datasets' own card is all we have
    report = json.loads(report_path.read_text(encoding="utf-8"))
    hub_meta, hub_body = _hub_card(api, repo_id)
    meta = merge_metadata(hub_meta, card_metadata(report, out_dir))
    section = render_body(report, _local_yaml(out_dir / "README.md", report), config_name=config_name, hub=repo_id)
    section += "\n" + CARD_BUILD.format(json.dumps(build_identity(out_dir), sort_keys=True))
    text = "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n" + \
        merge_body(hub_body, repo_id, config_name, section).lstrip()
    if text == (("---\n" + yaml.safe_dump(hub_meta, sort_keys=False, allow_unicode=True) + "---\n\n" +
                 hub_body.lstrip()) if hub_meta else hub_body):
        return None  # unchanged: no empty commit on a re-push
    return api.upload_file(path_or_fileobj=text.encode("utf-8"), path_in_repo="README.md", repo_id=repo_id,
                           repo_type="dataset", commit_message=f"wiki_qa: dataset card for config {config_name}")
