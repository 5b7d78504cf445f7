"""Labelled precision and yield of the demo's question/answer items (issue 23).

A person read every kept item of each labelled demo build (configs/demo.yaml, each bundled model, the code
before issue 23 and after it, round trip on and off) and marked it:
- correct: the answer is right according to the passage the item was written from;
- well_formed: a real question that names its subject (no "it", "the passage"), answerable on its own.
The labels live in bench/qa_labels.json with the figures of the build they came from:

    {"builds": {NAME: {"model", "code", "roundtrip", "chunks", "kept", "splits", "wall_s", "load"}},
     "items": [{"build", "key", "title", "question", "answer", "correct", "well_formed", "note"}]}

precision = items both correct and well-formed / kept items; yield = kept items / chunks.

    python bench/qa_labels.py table                 # the precision/yield table from the committed labels
    python bench/qa_labels.py show BUILD_DIR...     # a build's kept items, numbered, to read and label

`key` is a hash of (model, question, answer), so a rebuild that keeps the same item finds its label
(bench/qa_models.py reports how many of a fresh build's items are labelled).
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

LABELS = Path(__file__).with_name("qa_labels.json")


def key(model: str, question: str, answer: str) -> str:
    return hashlib.sha256(f"{model}\x1f{question.strip()}\x1f{answer.strip()}".encode()).hexdigest()[:16]


def items(build_dir: str | Path, model: str) -> list[dict]:
    """The kept items of a saved demo build (messages format), with the sentence their evidence quotes."""
    import datasets

    dsd = datasets.load_from_disk(str(build_dir))
    out = []
    for s in ("train", "val", "test"):
        for r in dsd[s]:
            meta = json.loads(r["meta"] or "{}")
            q, a = r["messages"][0]["content"], r["messages"][1]["content"]
            ev = " … ".join(e["quote"] for e in meta.get("evidence") or [])
            out.append({"key": key(model, q, a), "split": s, "title": r["title"], "question": q, "answer": a,
                        "evidence": ev, "question_from": meta.get("question_from")})
    return out


def load() -> dict:
    return json.loads(LABELS.read_text()) if LABELS.exists() else {"builds": {}, "items": []}


def score(build: str, data: dict | None = None) -> dict:
    """Kept, labelled, good (correct and well-formed), precision and yield of one labelled build."""
    data = data or load()
    b = data["builds"][build]
    labelled = [x for x in data["items"] if x["build"] == build]
    good = sum(1 for x in labelled if x["correct"] and x["well_formed"])
    correct = sum(1 for x in labelled if x["correct"])
    return {**b, "build": build, "labelled": len(labelled), "good": good, "correct_only": correct,
            "precision": round(good / b["kept"], 3) if b["kept"] else None,
            "yield": round(b["kept"] / b["chunks"], 3) if b["chunks"] else None}


def table(data: dict | None = None) -> str:
    data = data or load()
    rows = ["| model | code | round trip | chunks | kept (train/val/test) | labelled | correct | correct and "
            "well-formed | precision | yield | build wall time (load) |", "|---" * 11 + "|"]
    for name in data["builds"]:
        x = score(name, data)
        sp = x.get("splits") or {}
        rows.append(f"| {x['model']} | {x['code']} | {'on' if x['roundtrip'] else 'off'} | {x['chunks']} | "
                    f"{x['kept']} ({sp.get('train', 0)}/{sp.get('val', 0)}/{sp.get('test', 0)}) | {x['labelled']} | "
                    f"{x['correct_only']} | {x['good']} | {x['precision']} | {x['yield']} | "
                    f"{str(x.get('wall_s')) + ' s ' if x.get('wall_s') else ''}({x.get('load')}) |")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    if argv[:1] == ["table"]:
        print(table())
        return 0
    if argv[:1] == ["show"]:
        for d in argv[1:]:
            rep = json.loads((Path(d) / "build_report.json").read_text())
            model = rep["config"]["llm"]["model"]
            print(f"## {d} ({model}, {rep['chunks']} chunks, splits {rep['splits']})")
            for i, it in enumerate(items(d, model)):
                print(f"{i:3} [{it['split'][:2]}] {it['title']} | Q: {it['question']} | A: {it['answer']} | "
                      f"E: {it['evidence']} | {it['question_from'] or ''}")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
