"""Issue 15, finding 2 and the save part of 14: output.dir / --output never deletes what is not a build,
and a save killed at any point leaves the previous build recoverable (real SIGKILLs, no timing)."""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.publish.conftest import tree_digest
from wiki_qa.cli import main
from wiki_qa.orchestrator.save import MARKER, claim_output_dir

ROOT = Path(__file__).resolve().parents[2]


def _build(capsys, out, *extra) -> tuple[int, str]:
    code = main(["build", "demo-text", "--output", str(out), "--quiet", *extra])
    return code, capsys.readouterr().err


def test_a_folder_of_user_files_is_refused_before_any_work_and_force_replaces_it(tmp_path, capsys, monkeypatch):
    run_mod = importlib.import_module("wiki_qa.orchestrator.run")  # the package exports a function `run`

    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("years of work")
    real = run_mod.dataset_dict
    monkeypatch.setattr(run_mod, "dataset_dict", lambda *a, **k: pytest.fail("work started"))
    code, err = _build(capsys, mine)
    assert code == 2 and err.count("\n") == 1 and "not a wiki_qa build" in err and "--force" in err
    assert (mine / "chapter1.tex").read_text() == "years of work"
    assert [p.name for p in tmp_path.iterdir()] == ["thesis"]  # nothing staged either

    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep")
    code, err = _build(capsys, a_file)
    assert code == 2 and "not a folder" in err and a_file.read_text() == "keep"

    monkeypatch.setattr(run_mod, "dataset_dict", real)
    code, err = _build(capsys, mine, "--force")
    assert code == 0, err
    assert not (mine / "chapter1.tex").exists() and (mine / MARKER).is_file()


@pytest.mark.parametrize("where", ["cwd", "parent_of_cwd", "home", "parent_of_home", "root"])
def test_protected_folders_are_refused_even_with_force(tmp_path, capsys, monkeypatch, where):
    work = tmp_path / "projects" / "wiki"
    home = tmp_path / "users" / "me"
    work.mkdir(parents=True)
    home.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    target = {"cwd": ".", "parent_of_cwd": "..", "home": str(home), "parent_of_home": str(home.parent),
              "root": "/"}[where]
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    code, err = _build(capsys, target, "--force")
    assert code == 2 and err.count("\n") == 1 and "refusing to replace it" in err
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_earlier_builds_and_empty_folders_are_replaced(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _build(capsys, empty)[0] == 0
    assert _build(capsys, empty)[0] == 0  # a build (it has the marker) is replaced
    (empty / MARKER).unlink()  # a build from before the marker: build_report.json + dataset_dict.json
    assert _build(capsys, empty)[0] == 0
    assert json.loads((empty / "build_report.json").read_text())["name"] == "demo-text"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


KILL_AT = """
import os, signal, sys
from pathlib import Path
import datasets
real_rename, real_save = Path.rename, datasets.DatasetDict.save_to_disk
def rename(self, target):
    out = real_rename(self, target)
    if {at!r} == "between_renames" and ".old-" in str(target):
        os.kill(os.getpid(), signal.SIGKILL)
    return out
def save(self, path, **kw):
    real_save(self, path, **kw)
    if {at!r} == "after_save_to_disk":
        os.kill(os.getpid(), signal.SIGKILL)
Path.rename, datasets.DatasetDict.save_to_disk = rename, save
from wiki_qa.cli import main
sys.exit(main(["build", "demo-text", "--output", "out", "--quiet", "--set", "chunk.max_tokens={tokens}"]))
"""


def _killed_build(tmp_path: Path, at: str) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(KILL_AT.format(at=at, tokens=128))],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == -9, p.stderr[-2000:]
    return p


def test_kill_between_the_two_renames_loses_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert _build(capsys, out)[0] == 0
    previous = tree_digest(out)
    _killed_build(tmp_path, "between_renames")
    assert not out.exists()  # the state the issue found: the old build only in a hidden .old folder
    assert sorted(p.name.split("-")[0] for p in tmp_path.iterdir()) == [".out.old", ".out.tmp"]

    claim_output_dir(out)  # what the next run does first: the previous build is back, untouched
    assert tree_digest(out) == previous and [p.name for p in tmp_path.iterdir()] == ["out"]

    _killed_build(tmp_path, "between_renames")
    assert _build(capsys, out)[0] == 0  # a full rerun recovers too, then replaces it
    data = {k: v for k, v in previous.items() if k.endswith(".arrow")}
    assert data and {k: v for k, v in tree_digest(out).items() if k.endswith(".arrow")} == data
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_kill_during_the_save_leaves_a_tmp_folder_that_the_next_run_removes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert _build(capsys, out)[0] == 0
    previous = tree_digest(out)
    _killed_build(tmp_path, "after_save_to_disk")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "out"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".out.tmp-")
    assert tree_digest(out) == previous  # the old build was never touched

    live = tmp_path / f".out.tmp-{os.getppid()}"  # a live process's staging folder is left alone
    live.mkdir()
    assert _build(capsys, out)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out", live.name])
