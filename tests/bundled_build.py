"""A shipped config built end to end with the bundled local model, as a user runs it: `wiki-qa build NAME` in a
fresh process, with LLM and datasets caches of its own (so every request is sent). Skips the test when the
bundled model is not installed (it is an optional extra)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wiki_qa.llm import local_server


def build_with_bundled_model(name: str, tmp_path: Path, **env: str) -> tuple[Path, dict]:
    """(output folder, build_report.json) of `wiki-qa build NAME`; `env` adds variables (e.g. the threads)."""
    try:
        local_server.model_path()
    except Exception as e:  # noqa: BLE001 - the model is an optional install
        pytest.skip(f"bundled model not installed: {e}")
    out = tmp_path / name
    env = {**os.environ, "WIKI_QA_CACHE": str(tmp_path / "llm"), "HF_DATASETS_CACHE": str(tmp_path / "hf"), **env}
    p = subprocess.run([sys.executable, "-m", "wiki_qa.cli", "build", name, "--quiet", "--output", str(out)],
                       env=env, capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, p.stderr[-2000:]
    return out, json.loads((out / "build_report.json").read_text())
