"""Before/after check for refactors: are the built rows byte-identical on every real dump?

    python tools/compare_rows.py snapshot OUT_DIR [--data ../shared/data]   # on the old code
    python tools/compare_rows.py snapshot OUT_DIR2                           # on the new code
    python tools/compare_rows.py compare OUT_DIR OUT_DIR2                    # exit 1 on any difference

It drives only the `wiki-qa` CLI (the interface a refactor must not change): every MediaWiki dump in
../shared/data/mediawiki plus the shipped demo-text config, each built as text chunks into a temporary
folder; then every split's rows are written as sorted-key JSON lines. `compare` names the first differing
row of each file.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
SPLITS = ("train", "val", "test")


def _builds(data: Path) -> list[tuple[str, list[str]]]:
    out = [("demo-text", ["demo-text"])]
    for dump in sorted((data / "mediawiki").iterdir()):
        if dump.name.endswith((".xml", ".bz2", ".7z", ".gz", ".xz")):
            out.append((dump.name, ["mediawiki", "--set", f"source.path={dump}"]))
    return out


def snapshot(out: Path, data: Path) -> None:
    import datasets

    out.mkdir(parents=True, exist_ok=True)
    wiki_qa = [sys.executable, "-m", "wiki_qa.cli"]
    manifest = {}
    with tempfile.TemporaryDirectory(prefix="wiki_qa-rows-") as tmp:
        env = {**os.environ, "HF_DATASETS_CACHE": os.path.join(tmp, "hf"), "WIKI_QA_CACHE": os.path.join(tmp, "c")}
        for name, args in _builds(data):
            dest = os.path.join(tmp, "out", name)
            proc = subprocess.run([*wiki_qa, "build", *args, "--output", dest], env=env, cwd=tmp,
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                manifest[name] = {"exit": proc.returncode, "stderr": proc.stderr.strip().splitlines()[-1:]}
                continue
            dsd = datasets.load_from_disk(dest)
            entry = {}
            for s in SPLITS:
                lines = [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in dsd[s]]
                body = "\n".join(lines) + "\n"
                (out / f"{name}.{s}.jsonl").write_text(body, encoding="utf-8")
                entry[s] = {"rows": len(lines), "sha256": hashlib.sha256(body.encode()).hexdigest()}
            manifest[name] = entry
            print(name, {s: entry[s]["rows"] for s in SPLITS}, flush=True)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))


def compare(a: Path, b: Path) -> int:
    ma = json.loads((a / "manifest.json").read_text())
    mb = json.loads((b / "manifest.json").read_text())
    bad = 0
    for name in sorted(set(ma) | set(mb)):
        if ma.get(name) == mb.get(name):
            continue
        bad += 1
        print(f"DIFFERS {name}: {ma.get(name)} != {mb.get(name)}")
        for s in SPLITS:
            fa, fb = a / f"{name}.{s}.jsonl", b / f"{name}.{s}.jsonl"
            if fa.exists() and fb.exists():
                la, lb = fa.read_text().splitlines(), fb.read_text().splitlines()
                for i, (x, y) in enumerate(zip(la, lb)):
                    if x != y:
                        print(f"  {s} row {i}:\n    before {x[:300]}\n    after  {y[:300]}")
                        break
    print(f"{len(set(ma) | set(mb)) - bad} identical, {bad} differ")
    return 1 if bad else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("snapshot")
    s.add_argument("out", type=Path)
    s.add_argument("--data", type=Path, default=HERE.parent / "shared" / "data")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = p.parse_args(argv)
    if args.cmd == "snapshot":
        snapshot(args.out, args.data)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
