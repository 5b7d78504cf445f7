"""`wiki-qa push` and `wiki-qa pull`. The main cli.py calls `register(subparsers)` and maps exceptions to exit
codes (UserError -> 2, PublishError/others -> 1)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from wiki_qa.errors import UserError

# OutputConfig field -> the flag the user typed, for one-line errors
_FLAGS = {"push_to_hub": "--hub", "hub_config_name": "--config-name", "s3": "--s3",
          "s3_endpoint_url": "--endpoint-url", "s3_region": "--region"}


def register(subparsers) -> None:
    p = subparsers.add_parser("push", help="upload a finished build to the Hub and/or S3",
                              description="Upload a build folder (save_to_disk + build_report.json + README.md).")
    p.add_argument("dir", help="build folder (output.dir of a build)")
    p.add_argument("--hub", metavar="ORG/NAME", help="dataset repo on the Hugging Face Hub")
    p.add_argument("--config-name", metavar="C", help="Hub config name (default: 'default')")
    p.add_argument("--private", action="store_true", help="create the Hub repo as private (an existing public "
                   "repo is refused unless --make-private)")
    p.add_argument("--make-private", action="store_true", help="with --private: make an existing public repo "
                   "private before pushing")
    p.add_argument("--overwrite", action="store_true", help="replace a Hub config that holds another build "
                   "(another name or format)")
    p.add_argument("--s3", metavar="URL", help="s3://BUCKET/NAME.tar.gz (tarball) or s3://BUCKET/PREFIX/ (parquet)")
    p.add_argument("--endpoint-url", help="S3-compatible endpoint (MinIO...); default $S3_ENDPOINT or AWS")
    p.add_argument("--region", help="S3 region; default $S3_REGION or the AWS chain")
    p.set_defaults(func=push_handler)

    q = subparsers.add_parser("pull", help="download a build from S3 into a load_from_disk folder")
    q.add_argument("url", help="s3://BUCKET/NAME.tar.gz or s3://BUCKET/PREFIX/")
    q.add_argument("dir", help="destination folder (must not exist or be empty)")
    q.add_argument("--endpoint-url", help="S3-compatible endpoint; default $S3_ENDPOINT or AWS")
    q.add_argument("--region", help="S3 region")
    q.add_argument("--max-members", type=int, help="refuse a tarball with more members (default 20000)")
    q.add_argument("--max-bytes", type=int, help="refuse a download or tarball that unpacks to more bytes "
                   "(default 256 GiB)")
    q.add_argument("--max-ratio", type=float, help="refuse a tarball that unpacks to more than this many times "
                   "its compressed size (default 100; checked above 64 MiB)")
    q.set_defaults(func=pull_handler)


def push_handler(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from wiki_qa.publish import OutputConfig, publish, validate_destinations

    if not (args.hub or args.s3):
        raise UserError("push: give --hub ORG/NAME and/or --s3 URL")
    if not (Path(args.dir) / "dataset_dict.json").exists():
        raise UserError("not a build folder (no dataset_dict.json)", path=args.dir)
    try:
        cfg = OutputConfig(dir=args.dir, push_to_hub=args.hub, hub_config_name=args.config_name,
                           hub_private=args.private, hub_make_private=args.make_private,
                           hub_overwrite=args.overwrite, s3=args.s3, s3_endpoint_url=args.endpoint_url,
                           s3_region=args.region)
    except ValidationError as exc:
        err = exc.errors()[0]
        flag = _FLAGS.get(str(err["loc"][0]), str(err["loc"][0]))
        raise UserError(f"{flag}: {err['msg'].removeprefix('Value error, ')}") from None
    from wiki_qa.publish.hub import build_identity

    validate_destinations(cfg, build=build_identity(Path(args.dir)))
    done = publish(args.dir, cfg, config_name=args.config_name)
    for dest, info in done.items():
        print(f"{dest}: {info.get('url')}" + (f" (config {info['config']})" if info.get("config") else ""))
    return 0


def pull_handler(args: argparse.Namespace) -> int:
    import dataclasses

    from wiki_qa.publish.s3 import parse_s3_url, pull
    from wiki_qa.publish.safe_tar import TarLimits

    try:
        parse_s3_url(args.url)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    given = {k: getattr(args, k) for k in ("max_members", "max_bytes", "max_ratio") if getattr(args, k)}
    limits = dataclasses.replace(TarLimits(), **given)
    dest = pull(args.url, args.dir, endpoint_url=args.endpoint_url, region=args.region, limits=limits)
    report = dest / "build_report.json"
    splits = json.loads(report.read_text()).get("splits") if report.exists() else None
    print(f"pulled {args.url} -> {dest}" + (f" {splits}" if splits else ""))
    return 0
