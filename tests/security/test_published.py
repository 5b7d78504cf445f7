"""Issue 15, finding 6 and issue 11's card part: a build folder is shared, so build_report.json, the card
and the HTML report carry no machine-specific paths (input, venv, cache, home, output) and say when a
build is partial (`--limit`) instead of printing sha256 None."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from wiki_qa.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "configs" / "data" / "demowiki.xml"
PUBLISHED = ("build_report.json", "README.md", "report/index.html")


def _machine_paths(tmp_path: Path) -> list[str]:
    paths = [str(tmp_path), str(Path.home()), sys.prefix, str(ROOT), os.environ["WIKI_QA_CACHE"],
             os.environ.get("HF_DATASETS_CACHE", "/nonexistent")]
    return [p for p in paths if len(p) > 4]


def test_published_files_show_paths_relative_to_the_config_folder_and_say_partial(tmp_path, capsys, monkeypatch):
    proj = tmp_path / "home" / "someone" / "proj"
    (proj / "data").mkdir(parents=True)
    shutil.copy(DEMO, proj / "data" / "demowiki.xml")
    outside = tmp_path / "elsewhere" / "other-wiki.xml"
    outside.parent.mkdir()
    shutil.copy(DEMO, outside)
    (proj / "c.yaml").write_text("name: pub\nsource: {type: mediawiki, path: [data/demowiki.xml, "
                                 f"{outside}]}}\nformat: text\ngenerate: null\noutput: {{dir: {tmp_path / 'out'}}}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["build", str(proj / "c.yaml"), "--limit", "4", "--quiet"]) == 0, capsys.readouterr().err
    out = tmp_path / "out"
    report = json.loads((out / "build_report.json").read_text())
    assert report["config"]["source"]["path"] == ["data/demowiki.xml", "other-wiki.xml"]
    assert sorted(f["path"] for f in report["source"]["files"]) == ["data/demowiki.xml", "other-wiki.xml"]
    assert report["config"]["output"]["dir"] == "out"
    for name in PUBLISHED:
        text = (out / name).read_text()
        for p in _machine_paths(tmp_path):
            assert p not in text, (name, p)
    card = (out / "README.md").read_text()
    assert "**Partial build**: at most 4 documents were read per input file" in card
    assert "None" not in card and "not hashed (partial read)" in card
    assert "Partial build" in (out / "report" / "index.html").read_text()

    assert main(["build", str(proj / "c.yaml"), "--quiet"]) == 0  # a whole build: sha256 of each file
    card = (out / "README.md").read_text()
    assert "Partial build" not in card and all(f["sha256"] is None for f in report["source"]["files"])
    files = {f["path"]: f["sha256"] for f in json.loads((out / "build_report.json").read_text())["source"]["files"]}
    assert files["data/demowiki.xml"] and f"| `data/demowiki.xml` | `{files['data/demowiki.xml']}` |" in card
