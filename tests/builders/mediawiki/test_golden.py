"""Whole real articles, cleaned, against golden outputs that were read by eye once and then frozen.

The golden files hold text derived from the dumps in ../shared/data/mediawiki (Wikimedia page text, CC BY-SA;
see golden/README.md for where each one comes from). After a deliberate change to the cleaner, rewrite them
with `WIKI_QA_UPDATE_GOLDEN=1 pytest tests/builders/mediawiki/test_golden.py`, then read the diff before committing.
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from wiki_qa.builders.base import SourceStats
from wiki_qa.builders.mediawiki.config import MediaWikiConfig
from wiki_qa.builders.mediawiki.source import MediaWikiSource

GOLDEN = Path(__file__).parent / "golden"
# golden file -> (dump, page title)
ARTICLES = {
    "enwikivoyage-nottingham.txt": ("enwikivoyage-nottingham-listings.xml", "Nottingham"),
    "enwiki-pear.txt": ("enwiki-pear.xml", "Pear"),
    "enwiki-a.txt": ("enwiki-206pages.xml.bz2", "A"),
    "dbpedia-en-kerala-agricultural-university.txt": ("dbpedia-minidump-en.xml.bz2", "Kerala Agricultural University"),
    "dbpedia-cy-berlin.txt": ("dbpedia-minidump-cy.xml.bz2", "Berlin"),
    "dbpedia-sw-berlin.txt": ("dbpedia-minidump-sw.xml.bz2", "Berlin"),
    "viwiki-internet-society.txt": ("viwiki-truncated-no-closing-tag.xml", "Internet Society"),
}


def cleaned(dump: Path, title: str) -> str:
    source = MediaWikiSource(MediaWikiConfig(path=str(dump)))
    stats = SourceStats()
    for shard in source.shards():
        for doc in source.read(shard, stats):
            if doc["title"] == title:
                return source.to_text(doc, stats) + "\n"
    raise AssertionError(f"{title!r} not in {dump.name}")


@pytest.mark.parametrize("golden", sorted(ARTICLES))
def test_article_matches_its_golden_output(golden, mediawiki_dir):
    dump, title = ARTICLES[golden]
    got = cleaned(mediawiki_dir / dump, title)
    path = GOLDEN / golden
    if os.environ.get("WIKI_QA_UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    want = path.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True), "golden", "now", n=1))
    assert got == want, f"{golden} changed (rewrite with WIKI_QA_UPDATE_GOLDEN=1 after reading):\n{diff[:4000]}"
