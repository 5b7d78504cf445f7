"""The three MMLU layouts, read into one record type.

- folder: the original hendrycks/test layout, `[data/]{auxiliary_train,dev,val,test}/<subject>_<split>.csv`
  (no header; question, A, B, C, D, answer letter; RFC 4180 quoting with newlines inside fields);
- data.tar: the released archive with the same paths under `data/`; read member by member, never unpacked;
- parquet: the `cais/mmlu` Hub layout, `<subject>/<split>-*.parquet` with question, subject, choices, answer (int).

A shard is one CSV file, one tar member (`<tar>::<member>`) or one parquet file, so workers can share them.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import tarfile
from typing import Iterator

from wiki_qa.builders.base import SourceStats, csv_records

LETTERS = "ABCD"
SPLIT_DIRS = ("auxiliary_train", "dev", "val", "test")
_PARQUET_SPLITS = {"validation": "val", "val": "val", "dev": "dev", "test": "test",
                   "auxiliary_train": "auxiliary_train", "train": "auxiliary_train"}
_TAR_SEP = "::"


@dataclasses.dataclass
class Item:
    subject: str
    split: str  # input split: auxiliary_train | dev | val | test
    question: str
    choices: list[str]
    answer: str  # letter
    file: str
    line: int  # 1-based line where the record starts (row index for parquet)


def subject_of(filename: str, split: str) -> str:
    stem = os.path.basename(filename)
    stem = stem[: -len(".csv")] if stem.endswith(".csv") else stem
    suffix = f"_{split}"
    return stem[: -len(suffix)] if stem.endswith(suffix) else stem


def parse_csv(stream: io.TextIOBase, file: str, split: str, subject: str, stats: SourceStats) -> Iterator[Item]:
    """Yield well-formed rows; a malformed row is counted with its file and line and skipped."""
    for line, row in csv_records(csv.reader(stream), file, stats):
        stats.pages_seen += 1
        reason = None
        if len(row) != 6:
            reason = f"expected 6 fields (question, A, B, C, D, answer), found {len(row)}"
        elif row[5].strip().upper() not in LETTERS:
            reason = f"answer {row[5].strip()[:20]!r} is not one of A, B, C, D"
        if reason:
            stats.skip("malformed_row")
            stats.errors.append({"file": file, "line": line, "reason": reason})
            continue
        yield Item(subject, split, row[0], row[1:5], row[5].strip().upper(), file, line)


class Layout:
    """Lists (split, subject, shard) triples and reads shards into Items."""

    def files(self) -> list[tuple[str, str, str]]:
        raise NotImplementedError

    def read(self, shard: str, split: str, subject: str, stats: SourceStats) -> Iterator[Item]:
        raise NotImplementedError

    def input_files(self) -> list[str]:
        raise NotImplementedError

    def check(self, files: list[tuple[str, str, str]]) -> None:
        """Raise UserError for a problem that concerns the whole input (CSV rows are checked while reading)."""


class FolderLayout(Layout):
    def __init__(self, root: str):
        self.root = os.path.join(root, "data") if os.path.isdir(os.path.join(root, "data")) else root

    def files(self):
        out = []
        for split in SPLIT_DIRS:
            d = os.path.join(self.root, split)
            if os.path.isdir(d):
                for name in sorted(os.listdir(d)):
                    if name.endswith(".csv"):
                        out.append((split, subject_of(name, split), os.path.join(d, name)))
        return out

    def read(self, shard, split, subject, stats):
        stats.files.append({"path": shard, "bytes": os.path.getsize(shard)})
        with open(shard, encoding="utf-8", newline="") as f:
            yield from parse_csv(f, shard, split, subject, stats)

    def input_files(self):
        return [p for _, _, p in self.files()]


class TarLayout(Layout):
    def __init__(self, path: str):
        self.path = path

    def files(self):
        out = []
        with tarfile.open(self.path) as tar:
            for m in tar.getmembers():
                parts = m.name.split("/")
                if m.isfile() and m.name.endswith(".csv") and len(parts) >= 2 and parts[-2] in SPLIT_DIRS:
                    out.append((parts[-2], subject_of(parts[-1], parts[-2]), f"{self.path}{_TAR_SEP}{m.name}"))
        return sorted(out)

    def read(self, shard, split, subject, stats):
        path, member = shard.split(_TAR_SEP, 1)
        with tarfile.open(path) as tar:
            info = tar.getmember(member)
            stats.files.append({"path": shard, "bytes": info.size})
            with tar.extractfile(info) as raw:
                yield from parse_csv(io.TextIOWrapper(raw, encoding="utf-8", newline=""), shard, split, subject, stats)

    def input_files(self):
        return [self.path]


class ParquetLayout(Layout):
    def __init__(self, root: str):
        self.root = root

    def files(self):
        out = []
        for dirpath, _, names in os.walk(self.root):
            for name in sorted(names):
                if not name.endswith(".parquet"):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), self.root).split(os.sep)
                subject = rel[-2] if len(rel) >= 2 else "all"
                split = _PARQUET_SPLITS.get(re.split(r"[-.]", name)[0])
                if split is None or subject == "all":  # all/ repeats every subject: reading it would duplicate rows
                    continue
                if subject == "auxiliary_train":
                    split = "auxiliary_train"
                out.append((split, subject, os.path.join(dirpath, name)))
        return sorted(out)

    def read(self, shard, split, subject, stats):
        import pyarrow.parquet as pq

        stats.files.append({"path": shard, "bytes": os.path.getsize(shard)})
        table = pq.read_table(shard)
        if "train" in table.column_names and "question" not in table.column_names:
            table = table.flatten().rename_columns([c.split(".", 1)[-1] for c in table.flatten().column_names])
        missing = [c for c in ("question", "choices", "answer") if c not in table.column_names]
        if missing:
            from wiki_qa.errors import UserError

            raise UserError(f"missing column {missing[0]!r} (found: {', '.join(table.column_names)})", path=shard)
        for i, row in enumerate(table.to_pylist()):
            stats.pages_seen += 1
            choices, answer = row.get("choices") or [], row.get("answer")
            if isinstance(answer, str) and answer.strip().upper() in LETTERS:
                answer = LETTERS.index(answer.strip().upper())
            if len(choices) != 4 or not isinstance(answer, int) or not 0 <= answer < 4:
                stats.skip("malformed_row")
                stats.errors.append({"file": shard, "line": i + 1, "reason": "expected 4 choices and answer 0-3"})
                continue
            subj = row.get("subject") or subject
            yield Item(subj, split, row["question"], [str(c) for c in choices], LETTERS[answer], shard, i + 1)

    def input_files(self):
        return [p for _, _, p in self.files()]

    def check(self, files):
        import pyarrow.parquet as pq

        from wiki_qa.errors import UserError

        for _, _, path in files:  # reading the schema is a footer read, cheap
            names = pq.read_schema(path).names
            flat = names if "question" in names or "train" not in names else ["question", "choices", "answer"]
            missing = [c for c in ("question", "choices", "answer") if c not in flat]
            if missing:
                raise UserError(f"missing column {missing[0]!r} (found: {', '.join(names)})", path=path)


def open_layout(path: str) -> Layout | None:
    """Pick the layout from what is at `path`; None when nothing is there."""
    if os.path.isfile(path) and tarfile.is_tarfile(path):
        return TarLayout(path)
    if os.path.isdir(path):
        for _, _, names in os.walk(path):
            if any(n.endswith(".parquet") for n in names):
                return ParquetLayout(path)
        return FolderLayout(path)
    return None
