"""The Ray engine on a simulated two-node cluster (ray.cluster_utils.Cluster, one process tree per node):
shard tasks run on both nodes, write their rows to the staging folder (a local folder, or S3 on moto), and
the driver's DatasetDict equals the local engine's, row for row."""
from __future__ import annotations

import os
import types
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tests.executor.test_ray_engine import same, same_report
from wiki_qa.config import from_dict
from wiki_qa.orchestrator import dataset_dict

ROOT = Path(__file__).resolve().parents[2]
DUMPS = SHARED_DATA / "mediawiki"
pytestmark = pytest.mark.usefixtures("shared_data")  # skip (or fail in CI) without ../shared/data
FILES = ["simplewiki-7pages.xml", "enwiki-pear.xml", "ltgwiki-tiny-edgecases.xml",
         "enwiki-export-0.9-sample.xml.bz2"]
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing-key", "AWS_SECRET_ACCESS_KEY": "testing-secret",
          "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """moto S3 first (its address goes into the environment the nodes inherit), then a head node and a
    second node with one CPU each, joined through the executor's own init()."""
    import ray
    from moto.server import ThreadedMotoServer
    from ray.cluster_utils import Cluster

    from wiki_qa.executor.ray import init

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    env = {**S3_ENV, "AWS_ENDPOINT_URL": f"http://{host}:{port}",
           "AWS_CONFIG_FILE": str(tmp_path_factory.mktemp("aws") / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path_factory.mktemp("aws") / "none")}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    if ray.is_initialized():
        ray.shutdown()
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    c.add_node(num_cpus=1)
    c.wait_for_nodes()
    init(types.SimpleNamespace(ray_address=c.address))
    try:
        yield {"cluster": c, "s3": env["AWS_ENDPOINT_URL"]}
    finally:
        ray.shutdown()
        c.shutdown()
        moto.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _cfg(**extra):
    # min_shard_bytes: the Ray engine cuts the plain-XML dump into byte ranges; the local one reads it whole
    return from_dict({"name": "two-nodes", "source": {"type": "mediawiki", "path": [str(DUMPS / f) for f in FILES],
                                                      "min_shard_bytes": 8192},
                      "format": "text", "chunk": {"max_tokens": 128}, **extra})


def _records(cfg, cache_dir):
    from wiki_qa.executor import staging
    from wiki_qa.executor.ray import staging_folder

    folder, _ = staging_folder(cfg, cache_dir)
    names = folder.fs.ls(folder.path("done"), detail=False)
    return [folder.read_json(f"done/{Path(n).name}") for n in names], folder, staging


@pytest.mark.parametrize("where", ["local folder", "s3"])
def test_two_nodes_give_the_local_rows(cluster, tmp_path, where):
    import boto3

    extra = {}
    if where == "s3":
        boto3.client("s3", endpoint_url=cluster["s3"]).create_bucket(Bucket="staging")
        extra["ray_staging"] = "s3://staging/builds"
    cfg = _cfg(**extra)
    local, rl = dataset_dict(cfg.model_copy(update={"engine": "local"}), cache_dir=str(tmp_path / "local"),
                             refresh=True, with_report=True)
    ray_cfg = cfg.model_copy(update={"engine": "ray"})
    on_ray, rr = dataset_dict(ray_cfg, cache_dir=str(tmp_path / "ray"), refresh=True, with_report=True)
    assert rl["chunks"] > 50 and rl["source"]["documents"] >= 10
    same(local, on_ray)
    # a file read in byte ranges is listed once per range (with the range's own hash): compare the rest
    files = [{f["path"].split("#bytes=")[0] for f in r["source"].pop("files")} for r in (rl, rr)]
    assert files[0] == files[1]
    same_report(rl, rr)

    records, folder, _ = _records(ray_cfg, str(tmp_path / "ray"))
    assert {r["shard"].split("#bytes=")[0] for r in records} == {str(DUMPS / f) for f in FILES}
    assert sum("#bytes=" in r["shard"] for r in records) >= 3  # one file in byte ranges, read on both nodes
    assert len({r["node"] for r in records}) == 2  # both nodes did work
    if where == "s3":
        assert folder.url.startswith("s3://staging/builds/")
        written = folder.fs.ls(folder.path("files"), detail=False)
        assert {Path(w).name for w in written} == {n for r in records for n in r["files"].values()}
        # the driver reads local copies (memory-mapping needs local files), never the rows over Ray
        assert all(str(tmp_path / "ray") in f["filename"] for s in on_ray for f in on_ray[s].cache_files)
    else:
        assert all(f["filename"].startswith(folder.root) for s in on_ray for f in on_ray[s].cache_files)


def test_llm_step_on_two_nodes_writes_its_rows_there(cluster, fake_servers, tmp_path, monkeypatch):
    """The LLM step's actors (spread over both nodes) write the example rows to the shared staging folder
    (S3 here); the driver gets records only and memory-maps local copies; the rows equal the local engine's,
    in the build and in the executor's generate() alone."""
    import boto3

    from wiki_qa.executor import local as local_exec
    from wiki_qa.executor import ray as ray_exec

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    good = fake_servers["good"]
    boto3.client("s3", endpoint_url=cluster["s3"]).create_bucket(Bucket="llm-staging")
    cfg = from_dict({"name": "two-nodes-llm", "source": {"type": "mediawiki", "path": str(DUMPS / FILES[0])},
                     "chunk": {"max_tokens": 128}, "format": "completion", "ray_staging": "s3://llm-staging/b",
                     "generate": {"model": "fake-model", "base_url": good.base_url, "concurrency": 4,
                                  "max_retries": 5, "timeout_s": 2.0, "ray_actors": 2,
                                  "cache": str(tmp_path / "llm.sqlite")}})
    good.reset()
    local, rl = dataset_dict(cfg.model_copy(update={"engine": "local"}), cache_dir=str(tmp_path / "local"),
                             refresh=True, with_report=True)
    n = rl["llm"]["outcomes"]["ok"]
    assert n == rl["chunks"] > 8 and good.stats()["chat"] == n
    good.reset()
    on_ray, rr = dataset_dict(cfg.model_copy(update={"engine": "ray"}), cache_dir=str(tmp_path / "ray"),
                              refresh=True, with_report=True)
    assert good.stats()["chat"] == n and rr["llm"]["outcomes"] == rl["llm"]["outcomes"]
    same(local, on_ray)

    # the executor's step alone, from the Ray stages' chunk rows, against the local executor's
    chunks, _ = ray_exec.stages(cfg.model_copy(update={"engine": "ray"}), cache_dir=str(tmp_path / "ray"))
    want = local_exec.generate(chunks, cfg.generate, cfg.llm)
    # one row per call, asked afresh with random latencies: a part's pieces finish out of order
    monkeypatch.setattr(ray_exec, "PIECE_BYTES", 1)
    good.reset(latency=0.02, latency_dist="lognormal")
    got = ray_exec.generate(chunks, cfg.generate, cfg.llm, refresh=True)
    assert good.stats()["chat"] == n
    for s in want:
        assert want[s].to_list() == got[s].to_list(), s
        assert got[s].features == want[s].features, s
    from wiki_qa.llm.config import resolve

    folder, mirror = ray_exec.generate_folder(chunks, *resolve(cfg.generate, cfg.llm))
    assert folder.url.startswith("s3://llm-staging/b/generate-")
    written = {Path(w).name for w in folder.fs.ls(folder.path("files"), detail=False)}
    assert len(written) >= 3  # several units, written by the actors
    opened = [f["filename"] for s in got for f in got[s].cache_files]
    assert opened and all(f.startswith(mirror) and Path(f).name in written for f in opened)
