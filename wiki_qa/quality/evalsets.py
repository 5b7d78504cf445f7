"""Read eval sets as (eval item id, [texts]) pairs: MMLU CSV folders, local files, Hub datasets.

Each text field of an item is kept separate, so n-grams never span two fields (a training row that copies a
question should match even if it does not copy the answer choices in the same order).
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wiki_qa.errors import UserError
from wiki_qa.quality.config import EvalSet
from wiki_qa.quality.text import iter_strings

EvalItem = tuple[str, list[str]]

MMLU_SPLITS = ("dev", "val", "test")
# Non-text fields in common eval layouts; their values would only add noise n-grams.
_SKIP_FIELDS = {"id", "answer", "label", "subject", "split"}


def load_eval_items(spec: EvalSet) -> Iterator[EvalItem]:
    if spec.type == "mmlu":
        yield from _mmlu(spec)
    elif spec.type == "file":
        yield from _file(spec)
    else:
        yield from _hub(spec)


def _mmlu(spec: EvalSet) -> Iterator[EvalItem]:
    """hendrycks/test layout: `[data/]{dev,val,test}/<subject>_<split>.csv`, no header,
    question,A,B,C,D,answer. Quoted fields contain newlines, hence the csv module."""
    root = Path(spec.path).expanduser()
    if (root / "data").is_dir() and not any((root / s).is_dir() for s in MMLU_SPLITS):
        root = root / "data"
    present = [s for s in MMLU_SPLITS if (root / s).is_dir()]
    splits = spec.splits or present
    missing = [s for s in splits if s not in present]
    if missing or not splits:
        raise UserError(f"MMLU split folder(s) {missing or list(MMLU_SPLITS)} not found", path=str(root))
    for split in splits:
        files = sorted((root / split).glob(f"*_{split}.csv"))
        if not files:
            raise UserError(f"no *_{split}.csv files", path=str(root / split))
        for f in files:
            subject = f.name[: -len(f"_{split}.csv")]
            if spec.subjects and subject not in spec.subjects:
                continue
            with f.open(encoding="utf-8", newline="") as fh:
                for i, rec in enumerate(csv.reader(fh)):
                    if len(rec) < 2:
                        continue
                    # question + 4 choices; the final answer letter is not text.
                    yield f"{spec.label}:{split}/{subject}/{i}", [x for x in rec[:-1] if x]


def _pick(rec: Any, fields: list[str] | None) -> list[str]:
    if isinstance(rec, str):
        return [rec]
    if isinstance(rec, dict):
        if fields:
            return [s for k in fields if k in rec for s in iter_strings(rec[k])]
        return [s for k, v in rec.items() if k not in _SKIP_FIELDS for s in iter_strings(v)]
    return list(iter_strings(rec))


def _item_id(spec: EvalSet, rec: Any, i: int) -> str:
    if isinstance(rec, dict) and isinstance(rec.get("id"), (str, int)):
        return f"{spec.label}:{rec['id']}"
    return f"{spec.label}:{i}"


def _records(path: Path, spec: EvalSet) -> Iterator[Any]:
    suffix = "".join(path.suffixes[-1:]).lower()
    if suffix == ".jsonl":
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as e:
                        raise UserError(f"line {n}: invalid JSON ({e.msg})", path=str(path)) from None
    elif suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise UserError(f"invalid JSON ({e.msg} at line {e.lineno})", path=str(path)) from None
        if isinstance(data, dict):  # {"data": [...]} style: take the one list value
            lists = [v for v in data.values() if isinstance(v, list)]
            if len(lists) != 1:
                raise UserError("JSON object must hold exactly one list of eval items", path=str(path))
            data = lists[0]
        if not isinstance(data, list):
            raise UserError("JSON eval file must be a list of items", path=str(path))
        yield from data
    elif suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            yield from (csv.DictReader(fh) if spec.csv_header else csv.reader(fh))
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        yield from pq.read_table(path).to_pylist()
    elif suffix == ".txt":
        with path.open(encoding="utf-8") as fh:
            yield from (line.rstrip("\n") for line in fh if line.strip())
    else:
        raise UserError("eval file must be .jsonl, .json, .csv, .parquet or .txt", path=str(path))


def _file(spec: EvalSet) -> Iterator[EvalItem]:
    path = Path(spec.path).expanduser()
    if not path.is_file():
        raise UserError("eval file not found", path=str(path))
    for i, rec in enumerate(_records(path, spec)):
        yield _item_id(spec, rec, i), _pick(rec, spec.fields)


def _hub(spec: EvalSet) -> Iterator[EvalItem]:
    """Hub ids go through datasets.load_dataset (needs network or a warm HF cache)."""
    import datasets

    for split in spec.splits or ["test"]:
        try:
            ds = datasets.load_dataset(spec.path, spec.config, split=split)
        except Exception as e:  # network, auth, unknown id: one line naming the eval set
            raise UserError(f"cannot load Hub eval set split {split!r}: {type(e).__name__}: {e}".splitlines()[0],
                            path=spec.path) from None
        for i, rec in enumerate(ds):
            yield f"{spec.label}:{split}:{rec['id'] if 'id' in rec else i}", _pick(rec, spec.fields)
