"""`wiki-qa build ... --engine ray` run from the repository root after a regular (non-editable) install.

Ray puts the driver's current directory first on every worker's sys.path; from a checkout the workers
then found its `wiki_qa/` folder, which has no `builders/` (setup.py maps that folder in at install time),
and failed with ModuleNotFoundError. The engine gives its workers an empty working_dir instead.

Offline: a fresh venv (no pip of its own) sees this environment's packages through a .pth file, and
`pip install --no-deps --no-build-isolation --no-index` installs a copy of the repository into it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IGNORE = shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", "build", "dist", "out", ".pytest_cache")


@pytest.mark.slow
def test_ray_build_from_the_repository_root_after_pip_install(tmp_path):
    repo, venv, home = tmp_path / "repo", tmp_path / "venv", tmp_path / "home"
    shutil.copytree(ROOT, repo, ignore=IGNORE)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "dev-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-cache-dir", "--no-deps", "--no-build-isolation",
                    "--no-index", str(repo)], check=True, capture_output=True, text=True)
    installed = subprocess.run([str(python), "-c", "import wiki_qa, wiki_qa.builders; print(wiki_qa.__file__)"],
                               check=True, capture_output=True, text=True, cwd=tmp_path).stdout.strip()
    assert installed.startswith(site)  # a regular install, not the dev environment's editable one

    # The trap is there: with the repository root on sys.path, `wiki_qa` is the incomplete source tree.
    trap = subprocess.run([str(python), "-c", "import wiki_qa.builders"], capture_output=True, text=True, cwd=repo)
    assert trap.returncode != 0 and "No module named 'wiki_qa.builders'" in trap.stderr

    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), HF_DATASETS_CACHE=str(tmp_path / "hf"), WIKI_QA_CACHE=str(tmp_path / "cache"),
               PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    out = tmp_path / "out"
    p = subprocess.run([str(venv / "bin" / "wiki-qa"), "build", "demo-text", "--engine", "ray", "--output", str(out),
                        "--quiet"], capture_output=True, text=True, cwd=repo, env=env, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    report = json.loads((out / "build_report.json").read_text())
    assert report["config"]["engine"] == "ray" and sum(report["splits"].values()) > 0
    assert "wiki_qa.builders" not in p.stderr
    # A Ray started by wiki_qa uses a token made for the process: nothing written to ~/.ray, no notice.
    assert not (home / ".ray" / "auth_token").exists()
    assert "Token authentication" not in p.stderr
