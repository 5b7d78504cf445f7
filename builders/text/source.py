"""Plain text files -> documents.

One document per file: paragraphs are split on blank lines, paragraphs under `min_words` are dropped
(counted in stats.skipped["short_paragraph"]), and the kept ones are joined again with blank lines so
that the shared chunker can cut on paragraph boundaries.
"""
from __future__ import annotations

import os
import re
from typing import Iterator

import fsspec

from wiki_qa.builders.base import Source, SourceStats, register
from wiki_qa.errors import UserError

from .config import TextConfig

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_GLOB_CHARS = set("*?[")


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs are blocks separated by one or more blank lines; inner newlines become spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for block in _BLANK_LINE.split(text):
        para = " ".join(block.split())
        if para:
            out.append(para)
    return out


@register
class TextSource(Source):
    type = "text"
    kind = "documents"
    Config = TextConfig

    def _fs_and_paths(self) -> tuple[fsspec.AbstractFileSystem, list[str]]:
        path = self.config.path
        fs, _, roots = fsspec.get_fs_token_paths(path)
        if any(c in path for c in _GLOB_CHARS):
            paths = sorted(roots)  # get_fs_token_paths already expanded the glob
        elif roots and fs.isdir(roots[0]):
            paths = sorted(p for p in fs.find(roots[0]) if p.endswith(".txt"))
        else:
            paths = [p for p in roots if fs.exists(p)]
        return fs, [p for p in paths if not fs.isdir(p)]

    def shards(self, parallel: int = 1) -> list[str]:
        fs, paths = self._fs_and_paths()
        if not paths:
            raise UserError("no text files found (a file, a folder of *.txt, or a glob)", path=self.config.path)
        return [fs.unstrip_protocol(p) if fs.protocol not in ("file", ("file", "local")) else p for p in paths]

    def _root(self) -> str:
        """The folder the inputs hang from: doc ids are relative to it, so they are the same on every machine."""
        path = self.config.path
        cut = min((path.index(c) for c in _GLOB_CHARS if c in path), default=None)
        if cut is not None:
            return path[:cut].rsplit("/", 1)[0] if "/" in path[:cut] else "."
        return path.rstrip("/") if not os.path.splitext(path)[1] else os.path.dirname(path) or "."

    def _name(self) -> str:
        if self.config.name:
            return self.config.name
        return os.path.basename(os.path.abspath(self._root()) if "://" not in self._root() else self._root()) or "text"

    def _relpath(self, shard: str) -> str:
        root = self._root().split("://")[-1].rstrip("/")
        path = shard.split("://")[-1]
        root_abs, path_abs = (os.path.abspath(root), os.path.abspath(path)) if "://" not in shard else (root, path)
        if path_abs.startswith(root_abs + "/"):
            return path_abs[len(root_abs) + 1 :]
        return os.path.basename(path)

    def read(self, shard: str, stats: SourceStats, limit: int | None = None) -> Iterator[dict]:
        if limit is not None and limit <= 0:
            return
        with fsspec.open(shard, "rb") as f:
            raw = f.read()
        stats.files.append({"path": shard, "bytes": len(raw)})
        stats.pages_seen += 1
        try:
            text = raw.decode(self.config.encoding)
        except UnicodeDecodeError as e:
            stats.errors.append({"file": shard, "line": raw[: e.start].count(b"\n") + 1,
                                 "reason": f"not {self.config.encoding}: {e.reason}"})
            stats.skip("decode_error")
            return
        paragraphs = split_paragraphs(text)
        kept = [p for p in paragraphs if len(p.split()) >= self.config.min_words]
        if len(paragraphs) > len(kept):
            stats.skip("short_paragraph", len(paragraphs) - len(kept))
        if not kept:
            stats.skip("empty")
            return
        stem = os.path.splitext(os.path.basename(shard))[0]
        title = stem.replace("_", " ").replace("-", " ").strip()
        name = self._name()
        stats.documents += 1
        yield {
            "doc_id": f"text:{name}/{self._relpath(shard)}",
            "title": title,
            "text": "\n\n".join(kept),
            "url": shard,
            "lang": self.config.lang,
            "source": f"text:{name}",
            "meta": {"file": self._relpath(shard), "paragraphs": len(kept)},
        }
