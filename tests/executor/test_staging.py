"""The staging folder (executor/staging.py) on moto S3: a unit record is input from storage that others may
write, so the names it gives are checked before the driver copies anything into its local mirror."""
from __future__ import annotations

import datasets
import pytest

from wiki_qa.executor import staging

S3_VARS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true"}
FEATURES = datasets.Features({"text": datasets.Value("string"), "split": datasets.Value("string")})


@pytest.fixture
def s3_folder(monkeypatch, tmp_path):
    import boto3
    import s3fs
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    s3fs.S3FileSystem.clear_instance_cache()  # a cached client may point at another test's endpoint
    try:
        host, port = server.get_host_and_port()
        for var, value in {**S3_VARS, "AWS_ENDPOINT_URL": f"http://{host}:{port}",
                           "AWS_CONFIG_FILE": str(tmp_path / "none"),
                           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}.items():
            monkeypatch.setenv(var, value)
        client = boto3.client("s3")
        client.create_bucket(Bucket="staging")
        yield staging.Folder("s3://staging/build-key"), client
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()


def _write_unit(folder, unit: str, rows: list[dict]) -> dict:
    writer = staging.SplitWriter(folder, unit, FEATURES)
    for row in rows:
        writer.write(row)
    record = {"unit": unit, **writer.close()}
    staging.write_record(folder, unit, record)
    return record


def test_an_honest_record_is_reused_from_s3(s3_folder, tmp_path):
    folder, _ = s3_folder
    _write_unit(folder, "00000-aa", [{"text": "a", "split": "train"}, {"text": "b", "split": "test"}])
    records = staging.finished(folder, ["00000-aa", "00001-bb"])
    assert list(records) == ["00000-aa"]
    dsd = staging.assemble(folder, [records["00000-aa"]], FEATURES, str(tmp_path / "mirror"))
    assert dsd["train"]["text"] == ["a"] and dsd["test"]["text"] == ["b"] and dsd["val"].num_rows == 0


TRAVERSALS = ["../../../outside/x",  # the audit's traversal, out of the mirror into a folder of the test's choice
              "00000-aa-0badc0de.train.arrow/../../../../outside/x", "/abs/outside/x"]
OTHERS = ["00000-zz-0badc0de.train.arrow",  # another unit's file
          "00000-aa-0badc0de.val.arrow"]  # a file under another split's key


@pytest.mark.parametrize("name", TRAVERSALS + OTHERS)
def test_a_record_naming_a_file_a_unit_never_writes_is_not_trusted(s3_folder, tmp_path, name, caplog):
    """Finding 1 of issue 24: `files/../../..(x12)/somewhere/x` in an S3 staging folder made the driver write
    `somewhere/x`. A record names only files of the exact form its unit writes; anything else is ignored (the
    unit is read again), and no name, whatever the record says, lands outside the local mirror."""
    folder, client = s3_folder
    record = _write_unit(folder, "00000-aa", [{"text": "a", "split": "train"}])
    # the attacker's object, placed where the traversal name resolves in the bucket, and the record rewritten
    client.put_object(Bucket="staging", Key=f"build-key/files/{name}".replace("//", "/"), Body=b"evil")
    record["files"]["train"] = name
    staging.write_record(folder, "00000-aa", record)
    mirror = tmp_path / "a" / "b" / "mirror"

    with caplog.at_level("WARNING"):  # the driver's resume path, as executor/ray.stages() runs it
        records = staging.finished(folder, ["00000-aa"])
        try:
            staging.assemble(folder, list(records.values()), FEATURES, str(mirror))
        except Exception:  # noqa: BLE001 - what counts is what was written, below
            pass
    written = [p for p in tmp_path.rglob("*") if p.is_file() and "none" not in p.name]
    assert written == [], written  # before the fix: tmp_path/outside/x, written by os.replace
    assert records == {} and "done/00000-aa.json" in caplog.text  # ignored, named, so the unit is read again
    if name in TRAVERSALS:
        with pytest.raises(ValueError, match="not a staging file name"):  # the last line: the copy refuses too
            staging.local_copy(folder, [name], str(mirror))
        assert not (tmp_path / "outside").exists()


def test_a_link_planted_in_the_mirror_is_not_followed(s3_folder, tmp_path):
    folder, _ = s3_folder
    record = _write_unit(folder, "00000-aa", [{"text": "a", "split": "train"}])
    mirror, outside = tmp_path / "mirror", tmp_path / "outside"
    mirror.mkdir()
    outside.mkdir()
    name = record["files"]["train"]
    (outside / "x").write_bytes(b"a local file of someone else's")
    (mirror / name).symlink_to(outside / "x")  # before: taken as the copy, and memory-mapped as rows
    with pytest.raises(ValueError, match="resolves outside the mirror"):
        staging.local_copy(folder, [name], str(mirror))


def test_a_record_that_is_not_a_record_is_ignored(s3_folder):
    folder, _ = s3_folder
    _write_unit(folder, "00000-aa", [{"text": "a", "split": "train"}])
    for bad in ([], {"files": ["x"]}, {"files": {"train": 3}}, {"files": {"nosplit": "00000-aa-0badc0de.x.arrow"}}):
        staging.write_record(folder, "00000-aa", bad)
        assert staging.finished(folder, ["00000-aa"]) == {}
