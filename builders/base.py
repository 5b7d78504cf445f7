"""What every source builder provides to the shared pipeline.

A source turns its config into *shards* (independent units of input, usually files) and reads one shard
into rows. Sources come in two kinds:

- ``kind = "documents"``: rows are documents ``{doc_id, title, text, url, lang, source, ...}``.
  They go through clean -> chunk -> split -> [LLM] -> format.
- ``kind = "examples"``: rows already are training examples ``{doc_id, prompt, completion, title, url,
  lang, source, ...}`` (MMLU, open-instruct). They skip clean/chunk/LLM and go straight to split -> format.
  An example row may carry ``split`` ("train" | "val" | "test") when the input defines it; otherwise the
  shared hash split assigns one.

Every source reports what it saw into a ``SourceStats`` so that build_report.json can say why a page
or row did not become data. A step never knows how it is scheduled: `read` is called by the local
executor, by the datasets builder (possibly in num_proc workers) or by Ray alike.
"""
from __future__ import annotations

import csv
import dataclasses
from collections import Counter
from typing import Any, ClassVar, Iterator, Literal

from wiki_qa import io


@dataclasses.dataclass
class SourceStats:
    files: list[dict] = dataclasses.field(default_factory=list)  # [{"path", "sha256", "bytes"}]
    pages_seen: int = 0  # raw items looked at (pages, articles, CSV rows)
    documents: int = 0  # items that became documents / examples
    skipped: Counter = dataclasses.field(default_factory=Counter)  # reason -> count
    truncated: bool = False
    warnings: list[str] = dataclasses.field(default_factory=list)  # one line each, capped by the report
    errors: list[dict] = dataclasses.field(default_factory=list)  # per-item problems: {file, line|url, reason}
    # Named tallies the report shows as top-N tables, e.g. {"templates_dropped": {"Infobox": 12}}.
    tallies: dict[str, Counter] = dataclasses.field(default_factory=dict)

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] += n

    def tally(self, kind: str, key: str, n: int = 1) -> None:
        self.tallies.setdefault(kind, Counter())[key] += n

    def merge(self, other: "SourceStats") -> None:
        known = {f["path"] for f in self.files}
        self.files += [f for f in other.files if f["path"] not in known]
        self.pages_seen += other.pages_seen
        self.documents += other.documents
        self.skipped.update(other.skipped)
        self.truncated = self.truncated or other.truncated
        self.warnings += other.warnings
        self.errors += other.errors
        for kind, counts in other.tallies.items():
            self.tallies.setdefault(kind, Counter()).update(counts)

    def to_json(self) -> dict:
        return {
            "files": self.files,
            "pages_seen": self.pages_seen,
            "documents": self.documents,
            "skipped": dict(sorted(self.skipped.items())),
            "truncated": self.truncated,
            "warnings": self.warnings[:100],
            "errors": self.errors[:1000],
            "tallies": {k: dict(v.most_common(50)) for k, v in sorted(self.tallies.items())},
        }

    @classmethod
    def from_json(cls, d: dict) -> "SourceStats":
        return cls(
            files=list(d.get("files", [])),
            pages_seen=d.get("pages_seen", 0),
            documents=d.get("documents", 0),
            skipped=Counter(d.get("skipped", {})),
            truncated=d.get("truncated", False),
            warnings=list(d.get("warnings", [])),
            errors=list(d.get("errors", [])),
            tallies={k: Counter(v) for k, v in d.get("tallies", {}).items()},
        )


def csv_records(reader, file: str, stats: SourceStats) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, fields) for each record of a `csv.reader`, as the CSV sources read them:
    a record csv cannot parse (a NUL byte, an unterminated quote) is seen, skipped as `malformed_row` with its
    file and line, and reading goes on; a blank line is no record. Counting the records read is the caller's."""
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            stats.pages_seen += 1
            stats.skip("malformed_row")
            stats.errors.append({"file": file, "line": start, "reason": f"csv: {e}"})
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if row and (len(row) > 1 or row[0].strip()):
            yield line, row


@dataclasses.dataclass(frozen=True)
class License:
    """What the dataset card says about the source's terms: a Hub licence id, its name, and a caveat."""

    id: str
    name: str
    note: str


REGISTRY: dict[str, type["Source"]] = {}


def register(cls: type["Source"]) -> type["Source"]:
    """Class decorator: `source.type` in a YAML -> this Source class and its `Config` model."""
    REGISTRY[cls.type] = cls
    return cls


class Source:
    """Base class of a source builder. Subclasses set `type`, `kind`, `Config`, `license` and implement
    `shards` and `read`. Instances are cheap and picklable (they hold only the pydantic configs)."""

    type: ClassVar[str]
    kind: ClassVar[Literal["documents", "examples"]] = "documents"
    Config: ClassVar[type]
    license: ClassVar[License] = License("unknown", "unknown",
                                         "Plain-text input: the licence is whatever the input files carry.")
    # Hub task categories of the rows this source gives when no LLM step rewrites them.
    task_categories: ClassVar[tuple[str, ...]] = ("text-generation",)

    def __init__(self, config: Any, clean: Any = None):
        self.config = config
        self.clean = clean  # the build's `clean:` section, for sources with markup to convert

    def shards(self, parallel: int = 1) -> list[str]:
        """Independent units of input: strings (file paths/URLs, or a source's own encoding of a part of a
        file). `parallel` is how many workers want work; a source may cut its files into that many or more
        shards (MediaWiki cuts dumps into byte ranges) but never reads a byte twice over all shards.
        Raises UserError when there is nothing to read."""
        raise NotImplementedError

    def input_files(self) -> list[str]:
        """The files (paths or URLs) the shards come from."""
        return self.shards()

    def identity(self) -> list[dict]:
        """Cheap identity of the inputs for cache keys: path + size + mtime (or ETag). No hashing of content."""
        return [io.identity(p) for p in self.input_files()]

    @classmethod
    def card_facts(cls) -> dict:
        """Facts about this source for build_report.json's `source` section and the dataset card."""
        return {"kind": cls.kind, "license": dataclasses.asdict(cls.license),
                "task_categories": list(cls.task_categories)}

    def read(self, shard: str, stats: SourceStats, limit: int | None = None) -> Iterator[dict]:
        """Yield rows (documents or examples) from one shard, updating `stats` as it goes."""
        raise NotImplementedError

    def to_text(self, doc: dict, stats: SourceStats) -> str:
        """A document's plain text. Sources whose documents carry markup convert it here; the pipeline
        calls this only for documents it keeps (after the split decision), so markup is converted once."""
        return doc["text"]
