"""`wiki-qa build preference-demo` end to end with the bundled local model: structure only, never quality
(a 135M model's wrong answers are not reliably wrong, and it cannot judge)."""
from __future__ import annotations

import json

import pytest

from tests.bundled_build import build_with_bundled_model
from wiki_qa.config import load_config
from wiki_qa.llm import local_server
from wiki_qa.preference import check_pair
from wiki_qa.preference.config import STRATEGIES
from wiki_qa.rows import SPLITS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
REASONS = {"identical", "length_ratio", "truncated", "furniture", "paragraphs", "language", "empty", "tie",
           "llm_failed", "judge_failed", "not_corruptible", "duplicate_rejected"}


def test_preference_demo_builds_checked_pairs_from_every_strategy(tmp_path):
    from datasets import load_from_disk

    out, report = build_with_bundled_model("preference-demo", tmp_path, WIKI_QA_LLM_THREADS="1")
    pref = report["preference"]
    assert set(pref["strategies"]) == set(STRATEGIES)
    assert sum(s["rows"] for s in pref["strategies"].values()) == pref["pairs_in"] == 36
    assert pref["pairs"] + sum(pref["dropped"].values()) == pref["pairs_in"]
    assert set(pref["dropped"]) <= REASONS and pref["pairs"] >= 10
    assert pref["strategies"]["corrupt"]["pairs"] > 0          # no LLM: always some
    assert pref["llm"]["requests"] > 0 and pref["models"]["contrastive"] == local_server.DEFAULT_MODEL
    checks = load_config("preference-demo").preference.checks
    dsd = load_from_disk(str(out))
    assert sum(dsd[s].num_rows for s in SPLITS) == pref["pairs"] == sum(report["splits"].values())
    for s in SPLITS:
        assert dsd[s].column_names[:4] == ["prompt", "chosen", "rejected", "status"]
        for r in dsd[s]:
            meta = json.loads(r["meta"])["preference"]
            assert meta["strategy"] in STRATEGIES and r["status"] in ("confirmed", "unjudged")
            assert check_pair(r["chosen"], r["rejected"], r["lang"], checks) is None   # every kept pair passes
    card = (out / "README.md").read_text()
    assert "### Preference pairs" in card and "sample_and_judge" in card
