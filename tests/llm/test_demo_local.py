"""`wiki-qa build demo` end to end with the bundled local model (answer-first generation):
structure only, never quality (bench/qa_labels.json holds a person's reading of the items)."""
from __future__ import annotations

import json

import pytest

from tests.bundled_build import build_with_bundled_model
from wiki_qa import executor
from wiki_qa.config import load_config
from wiki_qa.llm import local_server
from wiki_qa.llm.tasks import evidence
from wiki_qa.rows import SPLITS

# A cold demo build (a server start, the chunks generated) takes minutes on a busy 2-core
# machine: over the suite's default timeout, within the build's own.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def test_demo_with_the_bundled_model_builds_answer_first_rows(tmp_path):
    from datasets import load_from_disk

    out, report = build_with_bundled_model("demo", tmp_path)
    assert report["config"]["llm"]["model"] == local_server.DEFAULT_MODEL
    llm = report["llm"]
    # chunks with no answer span (headings, Yoruba prose) are not sent
    assert 20 < sum(llm["outcomes"].values()) == llm["requests"] < report["chunks"]
    assert llm["completion_tokens"] > 0 and llm["cost_usd"] == 0.0 and "judge" not in report
    dsd = load_from_disk(str(out))
    assert sum(dsd[s].num_rows for s in SPLITS) == sum(report["splits"].values()) <= llm["examples"]
    stages, _ = executor.get("local").stages(load_config("demo"), cache_dir=str(tmp_path / "stages"))
    texts = {r["id"]: r["text"] for s in SPLITS for r in stages[s]}
    for s in SPLITS:
        assert dsd[s].column_names[0] == "messages" and "_question" not in dsd[s].column_names
        for r in dsd[s]:
            assert [m["role"] for m in r["messages"]] == ["user", "assistant"]
            meta = json.loads(r["meta"])
            assert evidence.round_trips(meta["evidence"], texts)   # every kept item quotes its chunk
            (ev,), span = meta["evidence"], meta["answer_span"]
            assert ev["start"] <= span["start"] < span["end"] <= ev["end"]   # the answer lies inside its quote
            assert r["messages"][1]["content"] == span["quote"] and r["messages"][0]["content"].endswith("?")
            assert meta["question_from"] in ("model", "draft")
    card = (out / "README.md").read_text()
    assert (out / "report" / "index.html").exists() and "### Evidence" in card and "### Judged" not in card
