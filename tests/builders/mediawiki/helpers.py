"""Small helpers for the MediaWiki tests: run a build in-process and read its output."""
from __future__ import annotations

import json
from pathlib import Path

from datasets import load_from_disk

from wiki_qa.config import from_dict
from wiki_qa.orchestrator import run


def build(tmp_path: Path, path, name="t", **sections):
    tree = {"name": name, "source": {"type": "mediawiki", "path": str(path), **sections.pop("source", {})},
            "output": {"dir": str(tmp_path / name)}, **sections}
    cfg = from_dict(tree, tmp_path / f"{name}.yaml")
    report = run(cfg)
    dsd = load_from_disk(str(tmp_path / name))
    on_disk = json.loads((tmp_path / name / "build_report.json").read_text())
    assert on_disk["splits"] == report["splits"]
    return dsd, report


def all_rows(dsd):
    return [r for s in ("train", "val", "test") for r in dsd[s]]
