"""Fixtures for publishing: small real build folders, moto S3 on 127.0.0.1, the test Hub server.

Hub work runs in subprocesses: huggingface_hub reads HF_ENDPOINT once at import, and other test folders
import it (via datasets) long before this file, so setting the variable here would be too late.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "servers"))

from hub_server import HubServer  # noqa: E402

SECRET = "sk-live-DO-NOT-LEAK-42"  # planted in configs/env to prove it never reaches outputs


def make_rows(split: str, n: int, lang: str = "yo", source: str = "mediawiki:yowiki") -> dict:
    ids = [f"{lang}wiki:{split}{i}" for i in range(n)]
    return {
        "prompt": [f"Question {i} about {split}?" for i in range(n)],
        "completion": [f"Answer {i} (ẹ̀kọ́ {split})." for i in range(n)],
        "id": [f"{d}#0/qa/0" for d in ids],
        "doc_id": ids,
        "chunk_id": [0] * n,
        "title": [f"Title {i}" for i in range(n)],
        "source": [source] * n,
        "url": [f"https://{lang}.wikipedia.org/wiki/T{i}" for i in range(n)],
        "lang": [lang] * n,
        "meta": [json.dumps({"rev": i}) for i in range(n)],
    }


def _facts(source_type: str) -> dict:
    """What a build records about its source (licence, task categories), from the real source classes."""
    from wiki_qa.builders import REGISTRY

    return REGISTRY["open_instruct" if source_type == "alpaca" else source_type].card_facts()


def make_report(name: str, source_type: str = "mediawiki", lang: str | None = "yo", generate: bool = True,
                splits=(6, 2, 2)) -> dict:
    config = {"name": name, "source": {"type": source_type, "path": "dumps/yowiki.xml.bz2"},
              "format": "completion", "split": {"train": 0.8, "val": 0.1, "test": 0.1, "seed": 42},
              "output": {"dir": f"out/{name}", "push_to_hub": None, "s3": None}}
    if lang:
        config["source"]["lang"] = lang
    if generate:
        config["generate"] = {"task": "qa", "model": "gpt-4o-mini", "base_url": None, "concurrency": 8,
                              "temperature": 0.2, "prompt": "Write one question about:\n{text}",
                              "api_key": SECRET}
    return {
        "name": name, "config": config, "versions": {"wiki_qa": "0.1.0", "datasets": "5.2.0"},
        "source": {"files": [{"path": "dumps/yowiki.xml.bz2", "sha256": "ab" * 32}], "pages_seen": 40,
                   "documents": 12, "skipped": {"redirect": 7, "namespace": 19, "empty": 2}, "truncated": False,
                   **_facts(source_type)},
        "chunks": 10, "splits": dict(zip(("train", "val", "test"), splits)),
        "llm": {"requests": 10, "cache_hits": 3, "retries": 1, "prompt_tokens": 900, "completion_tokens": 300,
                "cost_usd": 0.01, "outcomes": {"ok": 9, "partial": 0, "failed": 1},
                "failures": {"unparseable_json": 1}} if generate else {},
        "timings_s": {"read": 0.1, "clean": 0.1, "generate": 1.0, "write": 0.1, "total": 1.3},
    }


def make_build(path: Path, name: str = "yowiki-qa", *, splits=(6, 2, 2), card: bool = True, **report_kw) -> Path:
    """A real build folder: DatasetDict.save_to_disk + build_report.json + README.md card."""
    from datasets import Dataset, DatasetDict

    from wiki_qa.orchestrator.save import save_dataset_dict
    from wiki_qa.pipeline.formats import features
    from wiki_qa.publish.card import write_card

    feats = features("completion")  # the format's full column set, also for an empty split
    dd = DatasetDict({s: Dataset.from_dict(make_rows(s, n), features=feats)
                      for s, n in zip(("train", "val", "test"), splits)})
    save_dataset_dict(dd, str(path))
    report = make_report(name, splits=splits, **report_kw)
    (path / "build_report.json").write_text(json.dumps(report, indent=2))
    if card:
        import yaml

        from wiki_qa.secrets import mask_secrets

        write_card(path, report, yaml.safe_dump(mask_secrets(report["config"]), sort_keys=False))
    return path


@pytest.fixture
def build_dir(tmp_path) -> Path:
    return make_build(tmp_path / "yowiki-qa")


def tree_digest(path: Path) -> dict:
    import hashlib

    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


# ---- S3 ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(moto_endpoint, monkeypatch, tmp_path):
    """Seed-style S3_* variables pointing at moto, no AWS chain fallback, and a fresh bucket."""
    import boto3

    for var in [v for v in os.environ if v.startswith(("AWS_", "S3_"))]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("S3_ENDPOINT", moto_endpoint)
    monkeypatch.setenv("S3_ACCESS_KEY_ID", "testing-key")
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("S3_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-creds"))
    monkeypatch.setenv("WIKI_QA_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # no stray ./.env
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=moto_endpoint, aws_access_key_id="testing-key",
                          aws_secret_access_key=SECRET, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return {"bucket": bucket, "client": client, "endpoint": moto_endpoint}


# ---- Hub --------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def hub():
    with HubServer() as server:
        yield server


def run_py(code: str, *, hub_url: str, hf_home: Path, wiki_qa: bool = True, token: str | None = "hf_test_write",
           timeout: int = 120) -> dict:
    """Run `code` in a fresh interpreter pointed at the test Hub; it must print one JSON line last."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "HUGGINGFACE_", "PYTHONPATH")) and k != "WIKI_QA_CACHE"}
    env.update({"HF_ENDPOINT": hub_url, "HF_HUB_DISABLE_XET": "1", "HF_HOME": str(hf_home),
                "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
                "HF_HUB_DISABLE_TELEMETRY": "1"})
    if token:
        env["HF_TOKEN"] = token
    prelude = ""
    if wiki_qa:
        env["PYTHONPATH"] = str(ROOT)
    else:
        # Make wiki_qa unimportable even if it is pip-installed: the done-when check is "without wiki_qa".
        prelude = "import sys; sys.modules['wiki_qa'] = None\n"
    proc = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], env=env,
                          cwd=str(hf_home.parent), capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"subprocess failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return {"out": json.loads(proc.stdout.strip().splitlines()[-1]), "stderr": proc.stderr}
