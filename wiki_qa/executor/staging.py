"""Rows written where they are made, and datasets assembled from those files without reading them.

A worker (a Ray stage task, or an LLM actor) writes the rows of one
unit of work to Arrow IPC stream files in a *staging folder*, one file per split, through fsspec (a local
or shared folder, or s3://...). It returns only a small record: file names, row counts, counters. The
driver then builds each split as the concatenation of those files, memory-mapped, in work order: no row
passes through the driver's memory, whatever the size of the input.

Layout of a staging folder (one per stage key, so a rerun of the same build reuses finished work):
    files/<unit>-<attempt>.<split>.arrow    rows (the Arrow stream format datasets memory-maps)
    done/<unit>.json                        the unit's record, written last: its files are complete
A unit retried by Ray writes under a new attempt id; only the record names the files that count.
Remote folders are copied file by file to a local mirror first (memory-mapping needs a local file).

A record read back from the folder is input from storage that others may write (a shared bucket, an old
run): it counts only if it names exactly the files its unit writes (`valid_record`), and no name is copied
anywhere but into the mirror (`local_copy`), so a record cannot make the driver write outside it.
"""
from __future__ import annotations

import json
import logging
import os
import posixpath
import re
import uuid

import datasets
import fsspec
import pyarrow as pa

from wiki_qa.rows import SPLITS

BATCH_ROWS = 1000
ATTEMPT_HEX = 8  # characters of a writer's attempt id
# Every name a SplitWriter gives: a unit (letters, digits, '-', '_'), its attempt, a split. No '/', no '..'.
FILE_NAME = re.compile(rf"[A-Za-z0-9_-]+-[0-9a-f]{{{ATTEMPT_HEX}}}\.({'|'.join(SPLITS)})\.arrow")

log = logging.getLogger("wiki_qa")


class Folder:
    """A staging folder given as a path or URL, opened once through fsspec. Picklable."""

    def __init__(self, url: str, storage_options: dict | None = None):
        self.url = url.rstrip("/")
        self.storage_options = storage_options or {}
        self.fs, self.root = fsspec.core.url_to_fs(self.url, **self.storage_options)

    def __getstate__(self):
        return {"url": self.url, "storage_options": self.storage_options}

    def __setstate__(self, state):
        self.__init__(state["url"], state["storage_options"])

    @property
    def is_local(self) -> bool:
        return "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))

    def path(self, *parts: str) -> str:
        return posixpath.join(self.root, *parts)

    def write_json(self, rel: str, obj) -> None:
        self.fs.makedirs(posixpath.dirname(self.path(rel)), exist_ok=True)
        with self.fs.open(self.path(rel), "w") as f:
            json.dump(obj, f)

    def read_json(self, rel: str):
        with self.fs.open(self.path(rel), "r") as f:
            return json.load(f)

    def exists(self, rel: str) -> bool:
        return self.fs.exists(self.path(rel))

    def remove(self) -> None:
        if self.fs.exists(self.root):
            self.fs.rm(self.root, recursive=True)


class SplitWriter:
    """Writes one unit's rows, each carrying its `split`, to one Arrow file per split (none for a split
    without rows). Rows go out in batches of BATCH_ROWS, so a worker holds at most that many per split."""

    def __init__(self, folder: Folder, unit: str, features: datasets.Features, split_column: str = "split"):
        self.folder, self.unit, self.split_column = folder, unit, split_column
        self.features = datasets.Features({k: v for k, v in features.items() if k != split_column})
        self.schema = self.features.arrow_schema  # carries the features as metadata for datasets
        self.attempt = uuid.uuid4().hex[:ATTEMPT_HEX]
        self._rows: dict[str, list[dict]] = {s: [] for s in SPLITS}
        self._out: dict[str, tuple] = {}  # split -> (file object, IPC writer)
        self.counts = {s: 0 for s in SPLITS}
        folder.fs.makedirs(folder.path("files"), exist_ok=True)

    def write(self, row: dict) -> None:
        split = row[self.split_column]
        buf = self._rows[split]
        buf.append(row)
        if len(buf) >= BATCH_ROWS:
            self._flush(split)

    def _flush(self, split: str) -> None:
        rows = self._rows[split]
        if not rows:
            return
        if split not in self._out:
            f = self.folder.fs.open(self.folder.path("files", self.file_name(split)), "wb")
            self._out[split] = (f, pa.ipc.new_stream(f, self.schema))
        names = self.schema.names
        batch = pa.RecordBatch.from_pylist([{c: r.get(c) for c in names} for r in rows], schema=self.schema)
        self._out[split][1].write_batch(batch)
        self.counts[split] += len(rows)
        self._rows[split] = []

    def file_name(self, split: str) -> str:
        return f"{self.unit}-{self.attempt}.{split}.arrow"

    def close(self) -> dict:
        """Flush and close; returns {"files": {split: name}, "rows": {split: n}} for the unit's record."""
        for s in SPLITS:
            self._flush(s)
        for f, w in self._out.values():
            w.close()
            f.close()
        return {"files": {s: self.file_name(s) for s in self._out}, "rows": dict(self.counts)}

    def abort(self) -> None:
        for f, _ in self._out.values():
            f.close()


def write_record(folder: Folder, unit: str, record: dict) -> None:
    folder.write_json(f"done/{unit}.json", record)


def valid_record(rec, unit: str) -> bool:
    """Whether `rec` names only files of the exact form `unit`'s writer gives, each under its own split."""
    if not isinstance(rec, dict) or not isinstance(rec.get("files"), dict):
        return False
    for split, name in rec["files"].items():
        m = FILE_NAME.fullmatch(name) if isinstance(name, str) else None
        if not m or m.group(1) != split or not name.startswith(f"{unit}-") \
                or len(name) != len(unit) + 1 + ATTEMPT_HEX + len(f".{split}.arrow"):
            return False
    return True


def finished(folder: Folder, units: list[str]) -> dict[str, dict]:
    """Records of the units already done in an earlier run whose files are all there. A record that names
    anything but its own unit's files is not trusted: the unit is read again (and its record rewritten)."""
    out = {}
    for unit in units:
        rel = f"done/{unit}.json"
        if not folder.exists(rel):
            continue
        try:
            rec = folder.read_json(rel)
        except (OSError, ValueError):
            continue
        if not valid_record(rec, unit):
            log.warning("staging %s: %s names files its unit never writes; ignored, the unit is read again",
                        folder.url, rel)
            continue
        if all(folder.exists(f"files/{name}") for name in rec["files"].values()):
            out[unit] = rec
    return out


def missing_files(folder: Folder, records: list[dict]) -> list[str]:
    """Files the records name that the driver cannot see (a staging folder not shared with a worker)."""
    return [name for rec in records for name in rec["files"].values() if not folder.exists(f"files/{name}")]


def remove_unlisted(folder: Folder, records: list[dict], units: list[str]) -> None:
    """Drop the files of these units' failed or retried attempts (named by no record). Other files in the
    folder (datasets' map caches, another build's units) are left alone."""
    keep = {name for rec in records for name in rec["files"].values()}
    prefixes = tuple(f"{u}-" for u in units)
    try:
        present = folder.fs.ls(folder.path("files"), detail=False)
    except FileNotFoundError:
        return
    for p in present:
        name = posixpath.basename(p)
        if name.startswith(prefixes) and name.endswith(".arrow") and name not in keep:
            folder.fs.rm(p)


def local_copy(folder: Folder, names: list[str], mirror: str) -> list[str]:
    """Local paths of the named files: the folder's own for a local folder, else copies in `mirror`.
    Each name must be a staging file name, and each copy must resolve inside the mirror."""
    for n in names:
        if not (isinstance(n, str) and FILE_NAME.fullmatch(n)):
            raise ValueError(f"staging {folder.url}: {n!r} is not a staging file name")
    if folder.is_local:
        return [folder.path("files", n) for n in names]
    os.makedirs(mirror, exist_ok=True)
    real_mirror = os.path.realpath(mirror)
    out = []
    for n in names:
        dest = os.path.join(mirror, n)
        if os.path.dirname(os.path.realpath(dest)) != real_mirror:  # e.g. a link planted in the mirror
            raise ValueError(f"staging {folder.url}: {n!r} resolves outside the mirror {mirror}")
        if not os.path.exists(dest):
            tmp = f"{dest}.{os.getpid()}.tmp"
            folder.fs.get(folder.path("files", n), tmp)
            os.replace(tmp, dest)
        out.append(dest)
    return out


def open_split(paths: list[str], features: datasets.Features, split: str,
               split_column: str = "split") -> datasets.Dataset:
    """One split from its files in order: memory-mapped and concatenated, never loaded."""
    feats = datasets.Features({k: v for k, v in features.items() if k != split_column})
    if not paths:
        return datasets.Dataset(datasets.table.InMemoryTable(feats.arrow_schema.empty_table()),
                                info=datasets.DatasetInfo(features=feats), split=datasets.Split(split))
    parts = [datasets.Dataset.from_file(p, info=datasets.DatasetInfo(features=feats), split=datasets.Split(split))
             for p in paths]
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts, split=datasets.Split(split))


def assemble(folder: Folder, records: list[dict], features: datasets.Features, mirror: str,
             split_column: str = "split"):
    """The DatasetDict of all units' rows, in the order of `records` (`split_column`: the writers')."""
    out = {}
    for s in SPLITS:
        names = [rec["files"][s] for rec in records if s in rec["files"]]
        out[s] = open_split(local_copy(folder, names, mirror), features, s, split_column)
    return datasets.DatasetDict(out)
