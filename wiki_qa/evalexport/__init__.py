"""`wiki-qa export-eval`: a build folder -> an eval task folder that a harness runs (beside publish/).

The build's `test` split is the eval set and `val` the few-shot examples. Two kinds (items.py): multiple
choice (MMLU, translated MMLU, TruthfulQA MC1, the `mcq` task) and generative QA (the `qa` task, TruthfulQA's
generation form), detected from the rows or chosen. One harness today: lm-evaluation-harness (lmeval.py).
lighteval is not offered: it declares torch and transformers as required dependencies (README).

Like a build, the folder is written beside its destination and renamed into place when complete, so a dead
export never leaves a folder that looks finished; an earlier export in the way is replaced, anything else is
refused.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from wiki_qa.errors import UserError
from wiki_qa.version import __version__

from .items import answer_style, detect_kind, items, with_targets
from .lmeval import write_folder

HARNESSES = ("lm-eval",)
KINDS = ("auto", "mc", "qa")
MARKER = "export.json"  # what makes a folder an earlier export that may be replaced


def task_name(text: str) -> str:
    """A harness task name from a build name: lower case, [a-z0-9_]."""
    name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return name if name and not name[0].isdigit() else f"t_{name}"


def _rows(build: Path):
    import datasets

    if not (build / "dataset_dict.json").exists():
        raise UserError("not a build folder (no dataset_dict.json)", path=str(build))
    dsd = datasets.load_from_disk(str(build))
    if "test" not in dsd or dsd["test"].num_rows == 0:
        raise UserError("the build has no test rows, the eval split (give the build a split.test share)",
                        path=str(build))
    columns = set(dsd["test"].column_names)
    if not columns & {"prompt", "messages"}:
        raise UserError("format text has no question and answer to score: build with format completion or "
                        "messages", path=str(build))
    return {s: dsd[s] for s in ("test", "val") if s in dsd}


def _claim(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise UserError("exists and is not an earlier eval export: give another --output or remove it",
                        path=str(out))


def _swap_in(tmp: Path, out: Path) -> None:
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def export_eval(build_dir: str, output: str | None = None, *, harness: str = "lm-eval", kind: str = "auto",
                name: str | None = None) -> dict:
    """Write the task folder for `harness` from the build at `build_dir`; returns what export.json holds."""
    if harness not in HARNESSES:
        raise UserError(f"unknown harness {harness!r} (one of: {', '.join(HARNESSES)})")
    if kind not in KINDS:
        raise UserError(f"unknown kind {kind!r} (one of: {', '.join(KINDS)})")
    build = Path(build_dir)
    out = Path(output) if output else build.with_name(f"{build.name}-{harness}")
    _claim(out)
    splits = _rows(build)
    build_name = _report(build).get("name") or build.name
    task = task_name(name or f"wiki_qa_{build_name}")
    chosen = detect_kind(splits["test"]) if kind == "auto" else kind
    split_items, skipped = {}, {}
    for split, rows in splits.items():
        split_items[split], why = items(rows, chosen)
        if why:
            skipped[split] = dict(sorted(why.items()))
    if not split_items["test"]:
        raise UserError(f"no test row is a {'multiple-choice' if chosen == 'mc' else 'QA'} item "
                        f"(skipped: {skipped.get('test')})", path=str(build))
    style = None
    if chosen == "mc":
        style = answer_style(split_items["test"] + split_items.get("val", []))
        split_items = {s: with_targets(v, style) for s, v in split_items.items()}
    else:
        split_items = {s: [{**it, "target": it["answers"][0]} for it in v] for s, v in split_items.items()}
    langs = sorted({it["lang"] for v in split_items.values() for it in v if it["lang"]})
    meta = {"build": build_name, "kind": chosen, "answer_style": style, "langs": langs}
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tasks = write_folder(tmp, task, chosen, style, split_items, meta)
        summary = {"harness": harness, "tasks": tasks, **meta,
                   "splits": {s: len(v) for s, v in split_items.items()}, "skipped": skipped,
                   "wiki_qa_version": __version__}
        (tmp / MARKER).write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp / "README.md").write_text(_readme(summary), encoding="utf-8")
        _swap_in(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {**summary, "output": str(out)}


def _report(build: Path) -> dict:
    path = build / "build_report.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"not a build report: {e}", path=str(path)) from None
    return report if isinstance(report, dict) else {}


def _readme(s: dict) -> str:
    tasks = ",".join(s["tasks"])
    kind = ("multiple choice: `{0}` scores each option by log-likelihood (acc, acc_norm); `{0}_gen` asks the "
            "model to name the option (exact match), for servers without prompt log-probabilities"
            .format(s["tasks"][0]) if s["kind"] == "mc" else
            "generative QA, scored by exact match and token F1 against the reference answers")
    return f"""# {s['tasks'][0]}: an lm-evaluation-harness task folder

Exported by `wiki-qa export-eval` from the build `{s['build']}`: {kind}.
The build's `test` split is the eval set ({s['splits'].get('test', 0)} items); `val`
({s['splits'].get('val', 0)} items) gives the few-shot examples. Languages: {', '.join(s['langs']) or 'unknown'}.

```
pip install "lm-eval[api]"
lm_eval --include_path . --tasks {tasks} --num_fewshot 5 \\
    --model local-completions \\
    --model_args model=NAME,base_url=http://127.0.0.1:8000/v1/completions,tokenizer_backend=none,tokenized_requests=False
```

Log-likelihood scoring needs a model that gives prompt log-probabilities (`--model hf` or vLLM's server);
with chat APIs use the `_gen` task. `wiki_qa_task.py` loads `data/` from beside itself and scores the
generative tasks. `export.json` says what was exported and which rows were skipped, by reason.
"""
