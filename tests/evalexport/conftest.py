"""Builds to export: real MMLU (../shared/data/mmlu), the real TruthfulQA.csv (tests/data/truthfulqa), and `qa`
task output made through the fake OpenAI server (its fixtures come from tests/llm/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.llm.conftest import fake, fake_server_session, llm  # noqa: F401 - the fake OpenAI server fixtures

ROOT = Path(__file__).resolve().parents[2]
TRUTHFULQA = ROOT / "tests" / "data" / "truthfulqa" / "TruthfulQA.csv"
DEMO_WIKI = ROOT / "configs" / "data" / "demowiki.xml"
# MMLU's dev and val CSVs as an eval set: val is the eval split, dev the few-shot examples.
MMLU_AS_EVAL = {"val": "test", "dev": "val"}


def build(tmp_path: Path, name: str, tree: dict) -> Path:
    """`wiki-qa build` of this config tree; returns the build folder."""
    from wiki_qa.config import load_config
    from wiki_qa.orchestrator import run

    out = tmp_path / name
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, **tree, "output": {"dir": str(out)}}), encoding="utf-8")
    run(load_config(str(path)))
    return out


@pytest.fixture
def build_dir(tmp_path):
    return lambda name, tree: build(tmp_path, name, tree)


@pytest.fixture(scope="module")
def lm_eval_tasks():
    """The harness's own task loader: a TaskManager over one exported folder (lm-eval's tasks left out)."""
    from lm_eval.tasks import TaskManager

    def load(folder: Path) -> dict:
        tm = TaskManager(include_path=str(folder), include_defaults=False)
        return tm.load(tm.all_tasks)["tasks"]

    return load
