"""Whole builds against an LLM server that is gone or failing (issue 25 item 4, issue 24 finding 23): a
rebuild served from the cache needs no server; a build whose LLM step mostly failed for reasons a rerun
can fix is saved, never pushed, and says how to rerun it."""
from __future__ import annotations

import json
import logging

import datasets
import pytest

from tests.llm.conftest import FakeServer
from tests.publish.conftest import moto_endpoint, s3_env  # noqa: F401 (pytest fixtures)
from wiki_qa.cli import main
from wiki_qa.config import load_config
from wiki_qa.orchestrator import run
from wiki_qa.rows import SPLITS

CONFIG = """name: rebuild
source: {{type: mediawiki, path: {dump}}}
generate: {{task: qa}}
llm: {{model: fake-model, base_url: {url}, cache: llm.sqlite, timeout_s: 5, max_retries: {retries}}}
format: messages
"""


def write_config(tmp_path, mediawiki_dir, url, retries=2, **extra) -> str:
    path = tmp_path / "rebuild.yaml"
    text = CONFIG.format(dump=mediawiki_dir / "simplewiki-7pages.xml", url=url, retries=retries)
    path.write_text(text + "".join(f"{k}: {json.dumps(v)}\n" for k, v in extra.items()))
    return str(path)


def rows(folder) -> dict:
    dsd = datasets.load_from_disk(str(folder))
    return {s: dsd[s].to_list() for s in SPLITS}


def test_a_cached_rebuild_needs_no_llm_server(tmp_path, mediawiki_dir, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-123")
    server = FakeServer()
    try:
        server.reset()
        cfg = write_config(tmp_path, mediawiki_dir, server.base_url)
        assert main(["build", cfg, "--output", str(tmp_path / "one"), "--quiet"]) == 0
        assert server.stats()["chat"] == 14
    finally:
        server.stop()  # the server is gone: the key expired, the local model was stopped, no network
    assert main(["build", cfg, "--output", str(tmp_path / "two"), "--quiet"]) == 0
    first = rows(tmp_path / "one")
    assert sum(len(v) for v in first.values()) > 14 and rows(tmp_path / "two") == first
    report = json.loads((tmp_path / "two" / "build_report.json").read_text())
    assert report["llm"]["requests"] == 0 and report["llm"]["cache_hits"] == 14
    # a request that must be sent still fails fast, with one line, before any chunk is asked
    capsys.readouterr()
    assert main(["build", cfg, "--output", str(tmp_path / "three"), "--quiet", "--set", "llm.max_tokens=77"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach LLM server" in err and len(err.strip().splitlines()) == 1


def test_a_build_whose_llm_step_mostly_failed_for_transient_reasons_is_saved_not_pushed(
        s3_env, fake, tmp_path, mediawiki_dir, caplog):  # noqa: F811 (fixtures)
    fake.reset(fault_first=["500"] * 10)  # 10 of the 14 chunks fail with a 5xx, and no retry is left
    out = tmp_path / "out"
    cfg = load_config(write_config(tmp_path, mediawiki_dir, fake.base_url, retries=0,
                                   output={"dir": str(out), "s3": f"s3://{s3_env['bucket']}/rebuild.tar.gz"}))
    with caplog.at_level(logging.WARNING, "wiki_qa"):
        report = run(cfg)
    assert report["llm"]["failures"] == {"http_500": 10} and sum(report["splits"].values()) > 0
    assert "10 of 14 chunks" in report["published"]["skipped"]
    listing = s3_env["client"].list_objects_v2(Bucket=s3_env["bucket"])
    assert listing.get("Contents", []) == []  # nothing pushed
    assert (out / "dataset_dict.json").exists()  # but saved
    assert f"wiki-qa build {cfg.config_path()} --output {out}" in caplog.text
    # the rerun asks only the failed chunks again, and a whole build is pushed
    fake.reset()
    report = run(cfg)
    assert fake.stats()["chat"] == 10 and "skipped" not in report["published"]
    assert [o["Key"] for o in s3_env["client"].list_objects_v2(Bucket=s3_env["bucket"])["Contents"]] == \
        ["rebuild.tar.gz"]


@pytest.mark.parametrize("failures,partial", [({"context_overflow": 10}, False), ({"timeout": 1}, False),
                                              ({"batch_expired": 3, "http_429": 1}, True),
                                              ({"bad_request_400": 5, "http_503": 2}, True)])
def test_what_counts_as_a_transient_failure(failures, partial):
    from wiki_qa.orchestrator.run import _partial_llm

    outcomes = {"ok": 30 - sum(failures.values()), "partial": 0, "failed": sum(failures.values())}
    assert bool(_partial_llm({"llm": {"outcomes": outcomes, "failures": failures}})) is partial
