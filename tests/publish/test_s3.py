"""S3 publishing against moto in server mode on 127.0.0.1, with the real boto3 and s3fs clients."""
from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version

import pytest

from tests.conftest import REPO
from wiki_qa.errors import UserError
from wiki_qa.publish import OutputConfig, PublishError, load_from_s3, publish, pull, push_to_s3, validate_destinations
from wiki_qa.publish import s3 as s3mod

from .conftest import SECRET, make_build, tree_digest


def _rows(dd):
    return {s: dd[s].to_list() for s in dd}


def test_tarball_roundtrip_seed_layout(s3_env, build_dir, tmp_path):
    from datasets import load_from_disk

    url = f"s3://{s3_env['bucket']}/yowiki-qa.tar.gz"
    res = push_to_s3(build_dir, url)
    assert res["objects"] == ["yowiki-qa.tar.gz"] and res["bytes"] > 0

    # Seed layout: the tarball holds the folder `yowiki-qa/` (what the seed trainer unpacked).
    import tarfile

    local_tar = tmp_path / "t.tar.gz"
    s3_env["client"].download_file(s3_env["bucket"], "yowiki-qa.tar.gz", str(local_tar))
    with tarfile.open(local_tar) as tar:
        names = tar.getnames()
    assert "yowiki-qa/dataset_dict.json" in names and "yowiki-qa/README.md" in names
    assert all(n.startswith("yowiki-qa/") for n in names)

    dest = pull(url, tmp_path / "pulled")
    assert tree_digest(dest) == tree_digest(build_dir)
    expected = _rows(load_from_disk(str(build_dir)))
    assert _rows(load_from_disk(str(dest))) == expected
    assert _rows(load_from_s3(url)) == expected
    assert _rows(load_from_s3(url)) == expected  # second call is served from the (url, ETag) cache
    assert len(list((tmp_path / "cache" / "s3").iterdir())) == 1


def test_parquet_layout_load_dataset_and_repush_drops_stale_shards(s3_env, tmp_path):
    import json

    import fsspec
    from datasets import load_dataset, load_from_disk

    build = make_build(tmp_path / "b")
    url = f"s3://{s3_env['bucket']}/builds/yo/"
    # tiny shard limit => several shards per split, so the re-push below has stale ones to remove
    push_to_s3(build, url, max_shard_bytes=300)
    keys = {o["Key"] for o in s3mod._list(s3_env["client"], s3_env["bucket"], "builds/yo/")}
    assert "builds/yo/manifest.json" in keys
    assert any(k.endswith("/build_report.json") for k in keys) and any(k.endswith("/README.md") for k in keys)
    assert sum("/train-" in k for k in keys) > 1

    expected = _rows(load_from_disk(str(build)))
    opts = {"endpoint_url": s3_env["endpoint"], "key": "testing-key", "secret": SECRET,
            "client_kwargs": {"region_name": "us-east-1"}}
    # plain datasets, as the module's docstring shows: the manifest names the files
    with fsspec.open(f"{url}manifest.json", **opts) as f:
        manifest = json.load(f)
    files = {s: [f"{url}{x['path']}" for x in fs] for s, fs in manifest["splits"].items()}
    dd = load_dataset("parquet", data_files=files, storage_options=dict(opts), cache_dir=str(tmp_path / "hf"))
    assert _rows(dd) == expected
    assert _rows(load_from_s3(url)) == expected

    res = push_to_s3(build, url)  # default shard size: one shard per split
    keys = {o["Key"] for o in s3mod._list(s3_env["client"], s3_env["bucket"], "builds/yo/")}
    assert {k for k in keys if k.endswith(".parquet")} == {k for k in res["objects"] if k.endswith(".parquet")}
    assert sorted(k.rsplit("/", 1)[1] for k in keys if k.endswith(".parquet")) == [
        f"{s}-00000-of-00001.parquet" for s in ("test", "train", "val")]
    dest = pull(url, tmp_path / "pulled")
    assert _rows(load_from_disk(str(dest))) == expected and (dest / "build_report.json").exists()


def test_multipart_upload_and_size_verification(s3_env, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(11 * 1024 * 1024))
    client = s3mod._client(s3mod.storage_options())
    s3mod._upload(client, big, s3_env["bucket"], "big.bin", multipart_threshold=5 * 1024 * 1024)
    head = s3_env["client"].head_object(Bucket=s3_env["bucket"], Key="big.bin")
    assert head["ContentLength"] == big.stat().st_size
    assert head["ETag"].strip('"').endswith("-3")  # 3 parts of 5 MiB max => really multipart

    class Truncating:  # a store that lost bytes: the upload must not be reported as done
        def __getattr__(self, name):
            return getattr(client, name)

        def head_object(self, **kw):
            return {"ContentLength": client.head_object(**kw)["ContentLength"] - 1}

    with pytest.raises(s3mod.UploadVerificationError, match="uploaded"):
        s3mod._upload(Truncating(), big, s3_env["bucket"], "big2.bin", multipart_threshold=5 * 1024 * 1024)


def test_validate_destinations_s3(s3_env, monkeypatch):
    bucket = s3_env["bucket"]
    validate_destinations(OutputConfig(s3=f"s3://{bucket}/x/name.tar.gz"))
    # the write probe was cleaned up
    assert s3mod._list(s3_env["client"], bucket, "") == []

    with pytest.raises(UserError, match=r"^output.s3: bucket 'no-such-bucket' does not exist"):
        validate_destinations(OutputConfig(s3="s3://no-such-bucket/name.tar.gz"))

    monkeypatch.setenv("S3_ENDPOINT", "127.0.0.1:9")  # seed style host:port, nothing listens there
    monkeypatch.setenv("S3_SECURE", "false")
    assert s3mod.storage_options()["endpoint_url"] == "http://127.0.0.1:9"
    with pytest.raises(UserError, match="cannot reach the S3 endpoint http://127.0.0.1:9"):
        validate_destinations(OutputConfig(s3=f"s3://{bucket}/name.tar.gz"))

    monkeypatch.setenv("S3_ENDPOINT", s3_env["endpoint"])
    monkeypatch.delenv("S3_ACCESS_KEY_ID")
    monkeypatch.delenv("S3_SECRET_ACCESS_KEY")
    with pytest.raises(UserError, match="no S3 credentials") as err:
        validate_destinations(OutputConfig(s3=f"s3://{bucket}/name.tar.gz"))
    assert SECRET not in str(err.value)

    # the standard AWS chain works when the seed variables are absent
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    validate_destinations(OutputConfig(s3=f"s3://{bucket}/name.tar.gz"))


def test_s3_settings_from_dotenv_and_explicit_endpoint(s3_env, monkeypatch, tmp_path, build_dir):
    for var in ("S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var)
    (tmp_path / ".env").write_text(f"S3_ACCESS_KEY_ID=testing-key\nS3_SECRET_ACCESS_KEY={SECRET}\n")
    url = f"s3://{s3_env['bucket']}/dotenv.tar.gz"
    cfg = OutputConfig(s3=url, s3_endpoint_url=s3_env["endpoint"])
    validate_destinations(cfg)
    assert publish(build_dir, cfg)["s3"]["url"] == url


def test_output_config_rejects_bad_urls():
    from pydantic import ValidationError

    for bad in ("s3://bucket/name.zip", "http://bucket/x.tar.gz", "s3://bucket/prefix-without-slash"):
        with pytest.raises(ValidationError):
            OutputConfig(s3=bad)
    with pytest.raises(ValidationError):
        OutputConfig(push_to_hub="not a repo")
    with pytest.raises(ValidationError):
        OutputConfig(hub_token="x")  # StrictModel: unknown keys are errors; tokens are never config keys


def test_publish_failure_keeps_build_and_names_retry(s3_env, build_dir):
    before = tree_digest(build_dir)
    cfg = OutputConfig(s3="s3://no-such-bucket/yowiki-qa.tar.gz")
    with pytest.raises(PublishError) as err:
        publish(build_dir, cfg)
    msg = str(err.value)
    assert f"retry with: wiki-qa push {build_dir} --s3 s3://no-such-bucket/yowiki-qa.tar.gz" in msg
    assert "\n" not in msg and SECRET not in msg and err.value.exit_code == 1
    assert tree_digest(build_dir) == before


def test_pull_refuses_non_empty_destination(s3_env, build_dir, tmp_path):
    url = f"s3://{s3_env['bucket']}/yowiki-qa.tar.gz"
    push_to_s3(build_dir, url)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        pull(url, dest)
    assert [p.name for p in dest.iterdir()] == ["keep.txt"]


def test_cli_push_and_pull(s3_env, build_dir, tmp_path, capsys):
    import argparse

    from wiki_qa.cli.publish import register

    parser = argparse.ArgumentParser(prog="wiki-qa")
    register(parser.add_subparsers(dest="cmd"))
    url = f"s3://{s3_env['bucket']}/cli/yowiki-qa.tar.gz"
    args = parser.parse_args(["push", str(build_dir), "--s3", url])
    assert args.func(args) == 0
    assert url in capsys.readouterr().out
    args = parser.parse_args(["pull", url, str(tmp_path / "got")])
    assert args.func(args) == 0
    assert tree_digest(tmp_path / "got") == tree_digest(build_dir)

    for argv, match in ((["push", str(build_dir)], "--hub ORG/NAME and/or --s3"),
                        (["push", str(tmp_path), "--s3", url], "no dataset_dict.json"),
                        (["push", str(build_dir), "--s3", "s3://bkt/x.zip"], "^--s3: .*NAME.tar.gz"),
                        (["push", str(build_dir), "--hub", "a/b/c"], "^--hub: .*ORG/NAME"),
                        (["pull", "s3://bkt/x.zip", str(tmp_path / "z")], "tar.gz"),
                        (["pull", "s3://B_AD/x.tar.gz", str(tmp_path / "z")], "invalid bucket name")):
        args = parser.parse_args(argv)
        with pytest.raises(UserError, match=match):
            args.func(args)


def test_dependency_pins_resolve():
    # Unpinned boto3 makes pip fall back to s3fs 0.4.2 (2020); the pins in pyproject.toml prevent that.
    assert version("s3fs").startswith("2026.9."), version("s3fs")
    assert version("fsspec").startswith("2026.9.")
    botocore = tuple(int(x) for x in version("botocore").split(".")[:3])
    assert (1, 43, 115) <= botocore < (1, 43, 118)
    # pip check, allowing only the left-out dependencies of the wheels installed with --no-deps on purpose
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "lock.py"), "pip-check"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---- an interrupted parquet push (issue 24, finding 9) ----------------------------------------------
def _cut_after(monkeypatch, n: int):
    """The connection drops after `n` objects of the next push are uploaded (they really are, to moto)."""
    real, calls = s3mod._upload, []

    def upload(*args, **kw):
        if len(calls) >= n:
            raise ConnectionError("connection reset by peer (test)")
        calls.append(args[3])
        return real(*args, **kw)

    monkeypatch.setattr(s3mod, "_upload", upload)
    return calls


def test_an_interrupted_parquet_push_never_loads_as_data(s3_env, tmp_path, monkeypatch):
    """Shards used to overwrite the old names one by one, so a cut push served train rows of two builds (or
    half a split) with no error. Now each push writes under its own folder and the manifest, written last,
    switches readers over; the old build stays served until then and is deleted only after."""
    from datasets import load_from_disk

    url = f"s3://{s3_env['bucket']}/builds/yo/"
    old, new = make_build(tmp_path / "old", splits=(6, 2, 2)), make_build(tmp_path / "new", splits=(12, 4, 4))
    push_to_s3(old, url, max_shard_bytes=300)  # several shards per split
    old_rows, new_rows = _rows(load_from_disk(str(old))), _rows(load_from_disk(str(new)))
    assert _rows(load_from_s3(url)) == old_rows

    for cut in (1, 3):  # inside the train split, then after it
        with monkeypatch.context() as m:
            uploaded = _cut_after(m, cut)
            with pytest.raises(ConnectionError):
                push_to_s3(new, url, max_shard_bytes=300)
        assert len(uploaded) == cut
        assert _rows(load_from_s3(url)) == old_rows  # before: old and new train rows mixed, exit 0
        assert _rows(load_from_disk(str(pull(url, tmp_path / f"pulled-{cut}")))) == old_rows

    res = push_to_s3(new, url, max_shard_bytes=300)
    assert _rows(load_from_s3(url)) == new_rows
    keys = {o["Key"] for o in s3mod._list(s3_env["client"], s3_env["bucket"], "builds/yo/")}
    assert keys == set(res["objects"]) | {"builds/yo/manifest.json"}  # old and cut pushes' objects are gone
    dest = pull(url, tmp_path / "pulled-new")
    assert _rows(load_from_disk(str(dest))) == new_rows and (dest / "build_report.json").exists()


def test_a_first_push_cut_short_is_refused_not_loaded(s3_env, tmp_path, monkeypatch):
    url = f"s3://{s3_env['bucket']}/first/"
    build = make_build(tmp_path / "b")
    with monkeypatch.context() as m:
        _cut_after(m, 2)
        with pytest.raises(ConnectionError):
            push_to_s3(build, url, max_shard_bytes=300)
    with pytest.raises(UserError, match=r"no manifest\.json.*interrupted"):  # before: half a train split
        load_from_s3(url)
    with pytest.raises(UserError, match=r"no manifest\.json"):
        pull(url, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_a_prefix_in_the_flat_layout_before_manifests_is_refused_then_replaced(s3_env, tmp_path):
    from datasets import load_from_disk

    client, bucket, url = s3_env["client"], s3_env["bucket"], f"s3://{s3_env['bucket']}/flat/"
    build = make_build(tmp_path / "b")
    for name in ("train-00000-of-00001.parquet", "build_report.json", "README.md"):  # what an older push left
        client.put_object(Bucket=bucket, Key=f"flat/{name}", Body=b"old")
    client.put_object(Bucket=bucket, Key="flat/notes/mine.txt", Body=b"not wiki_qa's")
    with pytest.raises(UserError, match="push it again"):
        load_from_s3(url)
    res = push_to_s3(build, url)
    keys = {o["Key"] for o in s3mod._list(client, bucket, "flat/")}
    assert keys == set(res["objects"]) | {"flat/manifest.json", "flat/notes/mine.txt"}
    assert _rows(load_from_s3(url)) == _rows(load_from_disk(str(build)))


@pytest.mark.parametrize("bad", ["../../../outside.parquet", "builds/other/train-00000-of-00001.parquet",
                                 "/etc/train-00000-of-00001.parquet"])
def test_a_manifest_naming_files_outside_its_build_is_refused(s3_env, tmp_path, bad):
    import json

    url = f"s3://{s3_env['bucket']}/m/"
    push_to_s3(make_build(tmp_path / "b"), url)
    client, bucket = s3_env["client"], s3_env["bucket"]
    manifest = json.loads(client.get_object(Bucket=bucket, Key="m/manifest.json")["Body"].read())
    manifest["splits"]["train"] = [{"path": bad, "size": 10}]
    client.put_object(Bucket=bucket, Key="m/manifest.json", Body=json.dumps(manifest).encode())
    for load in (lambda: load_from_s3(url), lambda: pull(url, tmp_path / "dest")):
        with pytest.raises(UserError, match="manifest.json: .*not a file of build"):
            load()
    assert not (tmp_path / "outside.parquet").exists() and not (tmp_path / "dest").exists()
