"""`wiki-qa build demo` end to end with the bundled local model (generation and judge): structure only, never
quality (a 135M model's answers are often wrong, and a model judging itself is lenient)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from wiki_qa import executor
from wiki_qa.config import load_config
from wiki_qa.llm import local_server
from wiki_qa.llm.tasks import evidence
from wiki_qa.rows import SPLITS

# A cold demo build (two server starts, 60 chunks generated, then judged) takes minutes on a busy 2-core
# machine: over the suite's default timeout, within the build's own.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def test_demo_with_the_bundled_model_builds_judged_rows_with_evidence(tmp_path):
    try:
        local_server.model_path()
    except Exception as e:  # noqa: BLE001 - the model is an optional install
        pytest.skip(f"bundled model not installed: {e}")
    from datasets import load_from_disk

    out = tmp_path / "demo"
    env = {**os.environ, "WIKI_QA_CACHE": str(tmp_path / "llm"), "HF_DATASETS_CACHE": str(tmp_path / "hf")}
    p = subprocess.run([sys.executable, "-m", "wiki_qa.cli", "build", "demo", "--quiet", "--output", str(out)],
                       env=env, capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, p.stderr[-2000:]
    report = json.loads((out / "build_report.json").read_text())
    assert report["config"]["llm"]["model"] == local_server.DEFAULT_MODEL
    llm, judge = report["llm"], report["judge"]
    assert sum(llm["outcomes"].values()) == report["chunks"] > 20
    assert llm["requests"] >= report["chunks"] and llm["completion_tokens"] > 0 and llm["cost_usd"] == 0.0
    assert judge["model"] == local_server.DEFAULT_MODEL and judge["min_score"] == 3
    assert sum(judge["histogram"].values()) + judge["unjudged"] == judge["judged"] >= judge["kept"]
    dsd = load_from_disk(str(out))
    assert judge["kept"] == sum(dsd[s].num_rows for s in SPLITS) == sum(report["splits"].values())
    stages, _ = executor.get("local").stages(load_config("demo"), cache_dir=str(tmp_path / "stages"))
    texts = {r["id"]: r["text"] for s in SPLITS for r in stages[s]}
    ids = set()
    for s in SPLITS:
        assert dsd[s].column_names[0] == "messages" and "_question" not in dsd[s].column_names
        for r in dsd[s]:
            assert [m["role"] for m in r["messages"]] == ["user", "assistant"]
            meta = json.loads(r["meta"])
            assert meta["judge"]["score"] >= 3 and meta["judge"]["model"] == local_server.DEFAULT_MODEL
            assert evidence.round_trips(meta["evidence"], texts)   # every kept item quotes its chunk
            assert meta["question_type"] in ("factoid", "why", "how")
            ids.add(r["id"])
    assert len(ids) == judge["kept"]
    assert (out / "report" / "index.html").exists() and "### Judged" in (out / "README.md").read_text()
