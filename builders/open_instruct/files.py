"""Record readers for instruction files: jsonl, json, parquet, csv (optionally .gz), and Hub ids.

Each yields (line, record, input_split): `line` is the 1-based line (jsonl/csv) or row number (json/parquet)
so that a bad record can be reported precisely.
"""
from __future__ import annotations

import csv
import glob
import json
import os
import re
from typing import Iterator

import fsspec

from wiki_qa.builders.base import SourceStats, csv_records
from wiki_qa.errors import UserError

HUB_PREFIX = "hub:"
EXTS = ("jsonl", "json", "parquet", "csv")
_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


def file_format(path: str, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    name = path.removesuffix(".gz")
    ext = name.rsplit(".", 1)[-1].lower()
    if ext == "ndjson":
        return "jsonl"
    if ext not in EXTS:
        raise UserError(f"unknown file type .{ext} (set source.format: jsonl|json|parquet|csv)", path=path)
    return ext


def list_inputs(path: str, fmt: str) -> list[str]:
    if os.path.isdir(path):
        return sorted(
            os.path.join(d, n) for d, _, names in os.walk(path) for n in names
            if n.removesuffix(".gz").rsplit(".", 1)[-1].lower() in EXTS + ("ndjson",)
        )
    if any(c in path for c in "*?["):
        return sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
    if os.path.isfile(path):
        return [path]
    if _HUB_ID.match(path) and not os.path.exists(os.path.dirname(path) or path):
        return [HUB_PREFIX + path]
    return []


def _open_text(path: str):
    return fsspec.open(path, "rt", encoding="utf-8", newline="", compression="infer")


def peek_columns(path: str, fmt: str) -> list[str]:
    for _, rec, _ in iter_records(path, fmt, SourceStats()):
        return list(rec)
    return []


def iter_records(path: str, fmt: str, stats: SourceStats) -> Iterator[tuple[int, dict, str | None]]:
    if path.startswith(HUB_PREFIX):
        yield from _iter_hub(path[len(HUB_PREFIX):])
        return
    kind = file_format(path, fmt)
    stats.files.append({"path": path, "bytes": os.path.getsize(path)})
    if kind == "jsonl":
        with _open_text(path) as f:
            for i, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    stats.skip("malformed_row")
                    stats.errors.append({"file": path, "line": i, "reason": f"invalid JSON: {e.msg}"})
                    continue
                if not isinstance(rec, dict):
                    stats.skip("malformed_row")
                    stats.errors.append({"file": path, "line": i, "reason": "not a JSON object"})
                    continue
                yield i, rec, None
    elif kind == "json":
        with _open_text(path) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                raise UserError(f"invalid JSON at line {e.lineno}: {e.msg}", path=path) from None
        if isinstance(data, dict):  # {"data": [...]} / {"train": [...], "test": [...]} / column-oriented
            lists = {k: v for k, v in data.items() if isinstance(v, list)}
            if lists and all(isinstance(x, dict) for v in lists.values() for x in v[:1]):
                for split, records in lists.items():
                    for i, rec in enumerate(records, 1):
                        yield i, rec, split if split in ("train", "validation", "val", "test") else None
                return
            if lists and len({len(v) for v in lists.values()}) == 1:
                keys = list(lists)
                for i, values in enumerate(zip(*lists.values()), 1):
                    yield i, dict(zip(keys, values)), None
                return
            raise UserError("JSON is neither a list of records nor a dict of record lists", path=path)
        for i, rec in enumerate(data, 1):
            if not isinstance(rec, dict):
                stats.skip("malformed_row")
                stats.errors.append({"file": path, "line": i, "reason": "record is not a JSON object"})
                continue
            yield i, rec, None
    elif kind == "parquet":
        import pyarrow.parquet as pq

        i = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1000):
            for rec in batch.to_pylist():
                i += 1
                yield i, rec, None
    else:
        yield from _iter_csv(path, stats)


def _iter_csv(path: str, stats: SourceStats) -> Iterator[tuple[int, dict, None]]:
    with _open_text(path) as f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except StopIteration:
            return
        for line, row in csv_records(reader, path, stats):
            if len(row) != len(header):
                stats.skip("malformed_row")
                stats.errors.append({"file": path, "line": line,
                                     "reason": f"expected {len(header)} fields, found {len(row)}"})
                continue
            yield line, dict(zip(header, row)), None


def _iter_hub(repo_id: str) -> Iterator[tuple[int, dict, str | None]]:
    """Streams every split of a Hub dataset (not exercised by the offline tests)."""
    import datasets

    dd = datasets.load_dataset(repo_id, streaming=True)
    for split, ds in dd.items():
        for i, rec in enumerate(ds, 1):
            yield i, rec, split
