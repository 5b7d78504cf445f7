"""YAML `source:` section for plain text files."""
from __future__ import annotations

from typing import Literal

from wiki_qa.configbase import StrictModel


class TextConfig(StrictModel):
    type: Literal["text"] = "text"
    # A file, a folder (every *.txt below it), or an fsspec glob/URL ("books/*.txt", "s3://b/x/*.txt").
    path: str
    # Paragraphs (blocks separated by blank lines) with fewer words are dropped: headers, page numbers...
    min_words: int = 10
    encoding: str = "utf-8"
    lang: str | None = None
    # Label used in the `source` column ("text:<name>"); default: the folder name of the input.
    name: str | None = None
