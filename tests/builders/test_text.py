"""Plain text: paragraphs on blank lines, short ones dropped, one document per file, globs."""
from __future__ import annotations

import html
import re

import pytest

from wiki_qa.builders.text.config import TextConfig
from wiki_qa.builders.text.source import TextSource, split_paragraphs
from wiki_qa.errors import UserError


@pytest.fixture
def book(data_dir, tmp_path):
    """A text file made from Readability's real BBC article text, with short header/footer lines."""
    raw = (data_dir / "bbc/english-2015-readability/expected.html").read_text(encoding="utf-8")
    paras = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", p)).split())
             for p in re.findall(r"<p>(.*?)</p>", raw, re.S)]
    body = "Chapter 1\n\n" + "\n\n\n".join(p.replace(". ", ".\n", 1) for p in paras) + "\n\n  \n\nPage 3\n"
    d = tmp_path / "books" / "vol1"
    d.mkdir(parents=True)
    (d / "obama.txt").write_text(body, encoding="utf-8")
    (d / "notes.md").write_text("ignored by the *.txt glob")
    return tmp_path / "books", paras


def test_paragraphs_and_min_words(book, read_all):
    root, paras = book
    rows, stats = read_all(TextSource(TextConfig(path=str(root / "vol1" / "*.txt"), lang="en")))
    assert len(rows) == 1
    kept = [p for p in paras if len(p.split()) >= 10]
    assert rows[0]["text"].split("\n\n") == kept
    assert stats.skipped["short_paragraph"] == len(paras) - len(kept) + 2  # + "Chapter 1", "Page 3"
    assert rows[0]["doc_id"] == "text:vol1/obama.txt" and rows[0]["title"] == "obama"
    assert rows[0]["lang"] == "en" and rows[0]["source"] == "text:vol1"


def test_folder_and_doc_ids_stable(book, read_all):
    root, _ = book
    rows, _ = read_all(TextSource(TextConfig(path=str(root), min_words=5)))
    assert [r["doc_id"] for r in rows] == ["text:books/vol1/obama.txt"]
    ident = TextSource(TextConfig(path=str(root))).identity()
    assert ident[0]["size"] > 0 and ident[0]["mtime"]


def test_split_paragraphs_crlf_and_nothing_to_read(tmp_path):
    assert split_paragraphs("a\r\nb\r\n\r\nc") == ["a b", "c"]
    with pytest.raises(UserError, match="no text files found"):
        TextSource(TextConfig(path=str(tmp_path / "*.txt"))).shards()
