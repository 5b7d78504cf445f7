"""Publishing a finished build: Hugging Face Hub, S3 (tarball or parquet), pull back, dataset card.

The build calls `validate_destinations(cfg.output)` before any work (a typo must not waste an LLM run)
and `publish(out_dir, cfg.output)` after the atomic save. A failed upload never touches the local build;
the error says which `wiki-qa push` command retries it.

May import only the leaf modules (errors, configbase, paths, secrets): it works on build folders and their
build_report.json, never on the pipeline that made them.
"""
from __future__ import annotations

import os
from pathlib import Path

from wiki_qa.errors import UserError, WikiQAError
from wiki_qa.publish.config import OutputConfig
from wiki_qa.publish.s3 import load_from_s3, pull, push_to_s3, validate_s3
from wiki_qa.secrets import mask_secrets, redact

__all__ = ["OutputConfig", "PublishError", "validate_destinations", "publish", "push_to_hub", "push_to_s3",
           "pull", "load_from_s3", "mask_secrets", "redact", "retry_command"]


class PublishError(WikiQAError):
    """An upload failed after the build was saved. Exit 1; the message holds the retry command."""

    exit_code = 1


def push_to_hub(out_dir, repo_id, *, config_name=None, private=False, token=None, **kw) -> dict:
    """See wiki_qa.publish.hub.push_to_hub (imported lazily: huggingface_hub reads HF_ENDPOINT on import)."""
    from wiki_qa.publish.hub import push_to_hub as _push

    return _push(out_dir, repo_id, config_name=config_name, private=private, token=token, **kw)


def validate_destinations(output_cfg: OutputConfig, *, build: dict | None = None) -> None:
    """Raise UserError (one line) unless every configured destination is reachable and writable, and would
    receive this `build` ({"name", "format"}) without replacing another one or changing visibility."""
    if output_cfg.push_to_hub:
        from wiki_qa.publish.hub import validate_hub

        validate_hub(output_cfg.push_to_hub, private=output_cfg.hub_private,
                     make_private=output_cfg.hub_make_private, config_name=output_cfg.hub_config_name,
                     build=build, overwrite=output_cfg.hub_overwrite)
    if output_cfg.s3:
        validate_s3(output_cfg.s3, endpoint_url=output_cfg.s3_endpoint_url, region=output_cfg.s3_region)


def retry_command(out_dir, *, hub: str | None = None, config_name: str | None = None, private: bool = False,
                  make_private: bool = False, overwrite: bool = False, s3: str | None = None,
                  endpoint_url: str | None = None) -> str:
    parts = ["wiki-qa", "push", str(out_dir)]
    if hub:
        parts += ["--hub", hub] + (["--config-name", config_name] if config_name else []) + \
            (["--private"] if private else []) + (["--make-private"] if make_private else []) + \
            (["--overwrite"] if overwrite else [])
    if s3:
        parts += ["--s3", s3] + (["--endpoint-url", endpoint_url] if endpoint_url else [])
    return " ".join(parts)


def publish(out_dir: str | os.PathLike, output_cfg: OutputConfig, *, config_name: str | None = None) -> dict:
    """Upload a saved build to every configured destination. Returns {"hub": {...}, "s3": {...}} (urls).

    Tries every destination even if one fails, then raises PublishError naming the failures and the
    `wiki-qa push` command that retries exactly those.
    """
    out_dir = Path(out_dir)
    config_name = config_name or output_cfg.hub_config_name
    done: dict = {}
    failed: list[tuple[str, str, dict]] = []
    if output_cfg.push_to_hub:
        try:
            done["hub"] = push_to_hub(out_dir, output_cfg.push_to_hub, config_name=config_name,
                                      private=output_cfg.hub_private, make_private=output_cfg.hub_make_private,
                                      overwrite=output_cfg.hub_overwrite)
        except UserError:
            raise  # a refusal (visibility, another build in the config): exit 2, the local build stays
        except Exception as exc:
            failed.append((f"Hub {output_cfg.push_to_hub}", _reason(exc),
                           {"hub": output_cfg.push_to_hub, "config_name": config_name,
                            "private": output_cfg.hub_private, "make_private": output_cfg.hub_make_private,
                            "overwrite": output_cfg.hub_overwrite}))
    if output_cfg.s3:
        try:
            done["s3"] = push_to_s3(out_dir, output_cfg.s3, endpoint_url=output_cfg.s3_endpoint_url,
                                    region=output_cfg.s3_region)
        except Exception as exc:
            failed.append((output_cfg.s3, _reason(exc), {"s3": output_cfg.s3,
                                                         "endpoint_url": output_cfg.s3_endpoint_url}))
    if failed:
        retry = {k: v for _, _, kw in failed for k, v in kw.items()}
        what = "; ".join(f"upload to {dest} failed ({why})" for dest, why, _ in failed)
        raise PublishError(redact(f"{what}. The local build in {out_dir} is complete; retry with: "
                                  f"{retry_command(out_dir, **retry)}"))
    return done


def _reason(exc: Exception) -> str:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    # The Hub's own words (X-Error-Message) say why; the generic HTTP text around them does not.
    text = " ".join(str(getattr(exc, "server_message", None) or exc).split())[:200]  # one line, bounded
    return redact(f"{type(exc).__name__}{f' HTTP {status}' if status else ''}: {text}")
