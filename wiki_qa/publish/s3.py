"""S3 (and S3-compatible: MinIO, moto, R2...) upload, download and loading of builds.

Two layouts, chosen by the URL:
- `s3://BUCKET/NAME.tar.gz` -- the seed layout: a tarball holding the save_to_disk folder as `NAME/`.
  Training code pulls it and calls `load_from_disk`, or just `wiki_qa.load_from_s3(url)`.
- `s3://BUCKET/PREFIX/` -- parquet per split (`train-00000-of-00001.parquet`, ...) plus build_report.json
  and README.md, all under `PREFIX/builds/<BUILD>/` (one folder per push), and `PREFIX/manifest.json`,
  written last, naming the files of the build that counts. A push cut short leaves the previous manifest,
  so readers keep the previous build whole; the objects of older builds are deleted after the switch.
  `load_from_s3`/`pull` refuse a prefix without a manifest. Loadable without wiki_qa::

      import json, fsspec
      from datasets import load_dataset
      opts = {"endpoint_url": "http://minio:9000", "key": "...", "secret": "..."}   # or {} for the AWS chain
      with fsspec.open("s3://BUCKET/PREFIX/manifest.json", **opts) as f:
          manifest = json.load(f)
      ds = load_dataset(
          "parquet",
          data_files={s: [f"s3://BUCKET/PREFIX/{x['path']}" for x in files]
                      for s, files in manifest["splits"].items()},
          storage_options=dict(opts),   # a FRESH copy each call: datasets mutates the dict it is given
      )

Endpoint and credentials, first match wins: explicit arguments; the seed's `S3_ENDPOINT`,
`S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY`, `S3_REGION`, `S3_SECURE` (from the environment or ./.env);
then the standard AWS chain (`AWS_*`, profiles, instance roles), which boto3/s3fs apply themselves.
Uploads go through boto3's transfer manager (multipart above `multipart_threshold`) and every object's
size is checked with HEAD afterwards.
"""
from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from wiki_qa.errors import UserError
from wiki_qa.publish.safe_tar import TarLimits, make_tarball, safe_extract
from wiki_qa.secrets import env_or_dotenv, redact

log = logging.getLogger(__name__)

MULTIPART_THRESHOLD = 64 * 1024 * 1024
MAX_PARQUET_SHARD_BYTES = 500 * 1024 * 1024
_SHARD_RE = re.compile(r"^(?P<split>[\w-]+?)-\d{5}-of-\d{5}\.parquet$")
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
EXTRAS = ("build_report.json", "README.md")
_BUILD_PATH_RE = re.compile(r"builds/(?P<build>[0-9A-Za-z_-]+)/(?P<name>[^/]+)")
_FALSE = ("0", "false", "no", "off")


class UploadVerificationError(RuntimeError):
    """The object in the bucket does not have the size we uploaded."""


# ---- URLs and options ---------------------------------------------------------------------------
def parse_s3_url(url: str) -> tuple[str, str, str]:
    """`s3://b/x.tar.gz` -> (b, "x.tar.gz", "tarball"); `s3://b/p/` -> (b, "p/", "parquet")."""
    m = re.fullmatch(r"s3://([^/]+)(?:/(.*))?", url or "")
    if not m:
        raise ValueError(f"not an s3://BUCKET/... URL: {url!r}")
    bucket, key = m.group(1), m.group(2) or ""
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise ValueError(f"{url!r}: invalid bucket name {bucket!r} (3-63 chars: a-z 0-9 . -)")
    if key.endswith(".tar.gz") and not key.endswith("/.tar.gz"):
        return bucket, key, "tarball"
    if key == "" or key.endswith("/"):
        return bucket, key, "parquet"
    raise ValueError(f"{url!r}: use s3://BUCKET/NAME.tar.gz (tarball) or s3://BUCKET/PREFIX/ (parquet, trailing /)")


def _env(name: str) -> str | None:
    """Environment first, then ./.env -- the seed kept its S3_* variables in .env."""
    return env_or_dotenv(name)


def storage_options(endpoint_url: str | None = None, region: str | None = None, **overrides: Any) -> dict:
    """s3fs-style storage_options from the explicit values, then S3_* variables. Empty => AWS chain."""
    opts: dict[str, Any] = {}
    endpoint = endpoint_url or _env("S3_ENDPOINT")
    if endpoint:
        if "://" not in endpoint:  # seed style `host:port`; S3_SECURE picks the scheme
            secure = (_env("S3_SECURE") or "true").lower() not in _FALSE
            endpoint = ("https://" if secure else "http://") + endpoint
        opts["endpoint_url"] = endpoint
    key, secret = _env("S3_ACCESS_KEY_ID"), _env("S3_SECRET_ACCESS_KEY")
    if key and secret:
        opts["key"], opts["secret"] = key, secret
    region = region or _env("S3_REGION")
    if region:
        opts["client_kwargs"] = {"region_name": region}
    opts.update(overrides)
    return opts


def _client(opts: dict, attempts: int = 5):
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=opts.get("endpoint_url"),
        aws_access_key_id=opts.get("key"),
        aws_secret_access_key=opts.get("secret"),
        aws_session_token=opts.get("token"),
        region_name=(opts.get("client_kwargs") or {}).get("region_name"),
        config=Config(retries={"max_attempts": attempts, "mode": "standard"}, connect_timeout=10, read_timeout=120),
    )


# ---- validation -----------------------------------------------------------------------------------
def validate_s3(url: str, *, endpoint_url: str | None = None, region: str | None = None) -> None:
    """Fail fast before a build: the bucket exists and we can write (and delete) an object under the key."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

    try:
        bucket, key, _ = parse_s3_url(url)
    except ValueError as exc:
        raise UserError(str(exc), path="output.s3") from None
    opts = storage_options(endpoint_url, region)
    client = _client(opts, attempts=2)  # a check, not an upload: fail fast on a dead endpoint
    where = redact(opts.get("endpoint_url", "AWS"))  # an endpoint URL may carry user:pass
    try:
        client.head_bucket(Bucket=bucket)
        probe = f"{key.rsplit('/', 1)[0] + '/' if '/' in key else ''}.wiki-qa-write-probe-{uuid.uuid4().hex}"
        client.put_object(Bucket=bucket, Key=probe, Body=b"probe")
        client.delete_object(Bucket=bucket, Key=probe)
    except NoCredentialsError:
        raise UserError("no S3 credentials: set S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY or the AWS chain "
                        "(AWS_ACCESS_KEY_ID, profile)", path="output.s3") from None
    except EndpointConnectionError:
        raise UserError(f"cannot reach the S3 endpoint {where}", path="output.s3") from None
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket"):
            raise UserError(f"bucket {bucket!r} does not exist at {where}", path="output.s3") from None
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            raise UserError(f"no write access to bucket {bucket!r} ({code})", path="output.s3") from None
        raise UserError(f"bucket {bucket!r} not usable ({code})", path="output.s3") from None
    except BotoCoreError as exc:
        raise UserError(f"S3 check failed: {type(exc).__name__}", path="output.s3") from None


# ---- upload ---------------------------------------------------------------------------------------
def _upload(client, local: Path, bucket: str, key: str, multipart_threshold: int) -> int:
    from boto3.s3.transfer import TransferConfig

    size = local.stat().st_size
    cfg = TransferConfig(multipart_threshold=multipart_threshold,
                         multipart_chunksize=max(5 * 1024 * 1024, multipart_threshold))
    client.upload_file(str(local), bucket, key, Config=cfg)
    remote = client.head_object(Bucket=bucket, Key=key)["ContentLength"]
    if remote != size:  # a truncated upload must not look like success
        raise UploadVerificationError(f"s3://{bucket}/{key}: uploaded {size} bytes but the bucket holds {remote}")
    return size


def push_to_s3(out_dir: str | os.PathLike, url: str, *, endpoint_url: str | None = None,
               region: str | None = None, multipart_threshold: int = MULTIPART_THRESHOLD,
               max_shard_bytes: int = MAX_PARQUET_SHARD_BYTES) -> dict:
    """Upload a finished build folder. Returns {"url", "layout", "objects": [keys], "bytes"}."""
    out_dir = Path(out_dir)
    if not (out_dir / "dataset_dict.json").exists():
        raise UserError("not a build folder (no dataset_dict.json)", path=str(out_dir))
    bucket, key, layout = parse_s3_url(url)
    client = _client(storage_options(endpoint_url, region))
    uploaded: list[str] = []
    total = 0
    with tempfile.TemporaryDirectory(prefix="wiki-qa-s3-") as tmp:
        if layout == "tarball":
            name = key.rsplit("/", 1)[-1][: -len(".tar.gz")]
            tarball = make_tarball(out_dir, Path(tmp) / f"{name}.tar.gz", arcname=name)
            total += _upload(client, tarball, bucket, key, multipart_threshold)
            uploaded.append(key)
        else:
            total += _push_parquet(out_dir, Path(tmp), client, bucket, key, uploaded,
                                   multipart_threshold, max_shard_bytes)
    log.info("uploaded %d bytes to %s", total, url)
    return {"url": url, "layout": layout, "objects": uploaded, "bytes": total}


def _push_parquet(out_dir, tmp, client, bucket, prefix, uploaded, multipart_threshold, max_shard_bytes) -> int:
    """The build's files under `PREFIX/builds/<BUILD>/`, then the manifest (the switch), then the deletion
    of older builds' objects. Until the manifest is written, readers see the previous build, whole."""
    import json

    from datasets import load_from_disk

    dd = load_from_disk(str(out_dir))
    build = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]  # sorts by time
    folder = f"builds/{build}/"
    manifest = {"wiki_qa_parquet": MANIFEST_VERSION, "build": build, "splits": {}, "files": []}
    total = 0

    def put(local: Path, name: str) -> dict:
        nonlocal total
        size = _upload(client, local, bucket, prefix + folder + name, multipart_threshold)
        total += size
        uploaded.append(prefix + folder + name)
        return {"path": folder + name, "size": size}

    for split, ds in dd.items():
        n = max(1, math.ceil((ds.data.nbytes or 0) / max_shard_bytes))
        for i in range(n):
            fname = f"{split}-{i:05d}-of-{n:05d}.parquet"
            ds.shard(num_shards=n, index=i, contiguous=True).to_parquet(str(tmp / fname))
            manifest["splits"].setdefault(split, []).append(put(tmp / fname, fname))
    manifest["files"] = [put(out_dir / extra, extra) for extra in EXTRAS if (out_dir / extra).exists()]
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
    total += _upload(client, tmp / MANIFEST, bucket, prefix + MANIFEST, multipart_threshold)  # the switch
    _drop_older_builds(client, bucket, prefix, build)
    return total


def _drop_older_builds(client, bucket: str, prefix: str, build: str) -> None:
    """After the switch: delete the objects of builds older than `build` (pushes replaced or cut short) and
    of the flat layout before manifests. A newer push running at the same time keeps its files, and nothing
    is deleted if the manifest no longer names this build (that push has switched since)."""
    if _read_manifest(client, bucket, prefix, f"s3://{bucket}/{prefix}")["build"] != build:
        return
    for obj in _list(client, bucket, prefix):
        rel = obj["Key"][len(prefix):]
        m = _BUILD_PATH_RE.fullmatch(rel)
        flat = "/" not in rel and (_SHARD_RE.match(rel) or rel in EXTRAS)
        if flat or (m and m["build"] < build):
            client.delete_object(Bucket=bucket, Key=obj["Key"])


def _list(client, bucket: str, prefix: str) -> list[dict]:
    out: list[dict] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out.extend(page.get("Contents", []))
    return out


# ---- download / load ------------------------------------------------------------------------------
def _claim_dest(dest: Path) -> None:
    if dest.exists() and any(dest.iterdir()):
        raise UserError("destination exists and is not empty", path=str(dest))


def pull(url: str, dest_dir: str | os.PathLike, *, endpoint_url: str | None = None,
         region: str | None = None, limits: TarLimits | None = None, **overrides: Any) -> Path:
    """Download a build to `dest_dir`, which becomes a `load_from_disk` folder (either layout).

    The bucket is not trusted: a tarball is unpacked by `safe_extract` within `limits` (members, bytes,
    compression ratio), and no download may be larger than `limits.max_bytes`."""
    limits = limits or TarLimits()
    dest = Path(dest_dir)
    _claim_dest(dest)
    try:
        bucket, key, layout = parse_s3_url(url)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    client = _client(storage_options(endpoint_url, region, **overrides))
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Stage beside the destination so the final step is a rename: a failed pull leaves no half folder.
    with tempfile.TemporaryDirectory(prefix=f".{dest.name}.tmp-", dir=dest.parent) as tmp:
        tmp = Path(tmp)
        if layout == "tarball":
            tarball = tmp / "download.tar.gz"
            _check_download_size(client.head_object(Bucket=bucket, Key=key)["ContentLength"], limits, url)
            client.download_file(bucket, key, str(tarball))
            tops = safe_extract(tarball, tmp / "x", limits, source=url)
            roots = [t for t in tops if (tmp / "x" / t / "dataset_dict.json").exists()]
            if len(roots) != 1:
                raise UserError("tarball does not hold exactly one build folder", path=url)
            staged = tmp / "x" / roots[0]
        else:
            staged = tmp / "build"
            _pull_parquet(client, bucket, key, tmp / "parquet", staged, url, limits)
        if dest.exists():
            dest.rmdir()  # empty (checked above)
        os.replace(staged, dest)
    return dest


def _check_download_size(size: int, limits: TarLimits, url: str) -> None:
    if size > limits.max_bytes:
        raise UserError(f"{size} bytes to download, more than the limit of {limits.max_bytes} "
                        "(raise it with --max-bytes)", path=url)


def _read_manifest(client, bucket: str, prefix: str, url: str) -> dict:
    """The prefix's manifest, checked: the bucket is not trusted, so every file it names must be a file of
    its own build's folder under the prefix (a shard of the split it is listed under, or a card/report)."""
    import json

    from botocore.exceptions import ClientError

    try:
        body = client.get_object(Bucket=bucket, Key=prefix + MANIFEST)["Body"].read(1 << 24)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey"):
            raise UserError(f"no {MANIFEST}: not a wiki_qa parquet build, an interrupted push, or one made "
                            "before manifests (push it again)", path=url) from None
        raise
    try:
        m = json.loads(body)
        build, splits, files = m["build"], m["splits"], m["files"]
        listed = [(s, f) for s, fs in splits.items() for f in fs] + [(None, f) for f in files]
        ok = m.get("wiki_qa_parquet") == MANIFEST_VERSION and bool(splits)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise UserError(f"{MANIFEST}: not a wiki_qa manifest", path=url) from None
    for split, f in listed:
        p = _BUILD_PATH_RE.fullmatch(f["path"]) if isinstance(f, dict) and isinstance(f.get("path"), str) else None
        shard = _SHARD_RE.match(p["name"]) if p else None
        if not (ok and p and p["build"] == build and isinstance(f.get("size"), int) and f["size"] >= 0
                and (shard["split"] == split if shard else split is None and p["name"] in EXTRAS)):
            raise UserError(f"{MANIFEST}: {str(f)[:200]!r} is not a file of build {str(build)[:40]!r}", path=url)
    return m


def _pull_parquet(client, bucket, prefix, dl: Path, staged: Path, url: str, limits: TarLimits) -> None:
    from datasets import DatasetDict, load_dataset

    manifest = _read_manifest(client, bucket, prefix, url)
    dl.mkdir(parents=True)
    wanted = [f for fs in manifest["splits"].values() for f in fs] + manifest["files"]
    _check_download_size(sum(f["size"] for f in wanted), limits, url)
    for f in wanted:  # names checked by _read_manifest: plain file names inside `dl`
        local = dl / f["path"].rsplit("/", 1)[1]
        client.download_file(bucket, prefix + f["path"], str(local))
        if local.stat().st_size != f["size"]:
            raise UserError(f"{f['path']}: {local.stat().st_size} bytes, the manifest says {f['size']}", path=url)
    splits = manifest["splits"]
    dd = load_dataset("parquet", data_files={s: [str(dl / f["path"].rsplit("/", 1)[1]) for f in fs]
                                             for s, fs in splits.items()}, cache_dir=str(dl / ".cache"))
    DatasetDict({s: dd[s] for s in splits}).save_to_disk(str(staged))
    for f in manifest["files"]:
        name = f["path"].rsplit("/", 1)[1]
        shutil.copy(dl / name, staged / name)


def _cache_root(cache_dir: str | os.PathLike | None) -> Path:
    if cache_dir:
        return Path(cache_dir)
    from wiki_qa.paths import cache_dir

    base = cache_dir()
    return Path(base) / "s3"


def load_from_s3(url: str, *, cache_dir: str | os.PathLike | None = None, limits: TarLimits | None = None,
                 **storage_opts: Any):
    """Load a build published to S3 as a DatasetDict, in either layout.

    `storage_opts` are s3fs-style (`endpoint_url`, `key`, `secret`, `client_kwargs={"region_name": ...}`)
    and override S3_* variables / the AWS chain. A tarball is downloaded once per (url, ETag) into
    `cache_dir` (default ~/.cache/wiki_qa/s3 or $WIKI_QA_CACHE/s3) because `load_from_disk` memory-maps
    the files, so they must outlive this call. The parquet layout is read with `load_dataset("parquet")`, the
files its manifest names.
    A tarball is unpacked within `limits` (see `wiki_qa.publish.safe_tar.TarLimits`).
    """
    from datasets import DatasetDict, load_dataset, load_from_disk

    bucket, key, layout = parse_s3_url(url)
    opts = storage_options(**storage_opts)
    client = _client(opts)
    if layout == "tarball":
        etag = client.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
        target = _cache_root(cache_dir) / hashlib.sha256(f"{url}\0{etag}".encode()).hexdigest()[:24]
        if not (target / "dataset_dict.json").exists():
            if target.exists():
                shutil.rmtree(target)  # a stale partial folder from an interrupted download
            pull(url, target, limits=limits, **opts)
        return load_from_disk(str(target))
    splits = _read_manifest(client, bucket, key, url)["splits"]
    data_files = {s: [f"s3://{bucket}/{key}{f['path']}" for f in fs] for s, fs in splits.items()}
    dd = load_dataset("parquet", data_files=data_files, storage_options=dict(opts))  # copy: datasets mutates it
    return DatasetDict({s: dd[s] for s in splits})
