"""The install reads only hashed locks, and nothing it runs comes from an unhashed download (issue 24,
finding 2; issue 25). What `make demo` and `make test` would run is read from `make -n` (a dry run that
prints every command), so this checks the Makefile itself, not a copy of its rules.

The gap these close: under `pip install --require-hashes`, an sdist in the lock (docopt) is built in an
isolated environment whose setuptools and wheel pip downloads unhashed and runs. And a venv's bundled pip
(23.0/23.2 on Python 3.11.2/3.11.7) refuses today's locks outright, so it must only ever install the
bootstrap file, whose plain hashed wheels any pip reads.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(target: str, venv: Path) -> list[str]:
    out = subprocess.run(["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    # one shell line may chain several installs with && or ;
    return [part.strip() for line in out.splitlines() for part in re.split(r"&&|;", line) if part.strip()]


def installs(commands: list[str]) -> list[str]:
    return [c for c in commands if re.search(r"\bpip install\b", c)]


def pinned(lock: Path) -> dict[str, str]:
    """name -> the requirement block of each pin in a uv/pip-compile lock."""
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text())
    return {b.split("==")[0].lower(): b for b in blocks if "==" in b.split("\n")[0]}


@pytest.mark.parametrize("target", ["demo", "test"])
def test_every_install_reads_a_hashed_lock_and_builds_nothing_with_unhashed_tools(tmp_path, target):
    venv = tmp_path / "fresh-venv"  # does not exist: the dry run shows the whole setup
    cmds = installs(dry_run(target, venv))
    assert cmds, "make -n shows no install"
    first, rest = cmds[0], cmds[1:]
    # the venv's own pip installs the bootstrap lock, and nothing else
    assert f"{venv}/bin/python -m pip install" in first and "-r requirements/bootstrap.txt" in first
    assert "--require-hashes" in first
    assert not any(f"{venv}/bin/python -m pip install" in c or f"{venv}/bin/pip install" in c for c in rest)
    assert rest, "nothing installed after the bootstrap"
    for c in rest:
        assert c.startswith(f"UV_PYTHON_DOWNLOADS=never {venv}/bin/uv pip install"), c
        # build tools come from the venv (the bootstrap lock), never from an isolated download
        assert "--no-build-isolation" in c, c
        if "-e ." not in c:
            assert "--require-hashes" in c and re.search(r"-r requirements/\S+\.txt", c), c
        else:  # wiki_qa itself: its own source, no dependencies pulled through it
            assert "--no-deps" in c, c


def test_the_bootstrap_lock_holds_every_build_tool_pinned_with_hashes():
    boot = pinned(ROOT / "requirements" / "bootstrap.txt")
    for name in ("uv", "setuptools", "wheel"):
        assert name in boot, f"requirements/bootstrap.txt does not pin {name}"
    for name, block in boot.items():
        assert "--hash=sha256:" in block, f"{name} has no hash in requirements/bootstrap.txt"
    # wiki_qa's own build backend is satisfied by what the bootstrap installs (no build isolation)
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for spec in map(Requirement, build):
        version = re.search(r"==\s*(\S+)", boot[spec.name.lower()].split("\n")[0]).group(1)
        assert spec.specifier.contains(version), f"build-system needs {spec}, bootstrap pins {version}"


@pytest.mark.parametrize("lock", ["demo", "dev"])
def test_every_pin_of_the_install_locks_has_a_hash(lock):
    pins = pinned(ROOT / "requirements" / f"{lock}.txt")
    assert len(pins) > 50
    unhashed = [name for name, block in pins.items() if "--hash=sha256:" not in block]
    assert not unhashed, f"requirements/{lock}.txt pins without a hash: {unhashed}"
