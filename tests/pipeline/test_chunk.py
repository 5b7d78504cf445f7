"""The chunker on real cleaned text: token budget, paragraph -> sentence -> hard split, title carry, min_words."""
from __future__ import annotations

import pytest

from wiki_qa.builders.base import SourceStats
from wiki_qa.builders.mediawiki.config import MediaWikiConfig
from wiki_qa.builders.mediawiki.source import MediaWikiSource
from wiki_qa.pipeline.chunk import ChunkConfig, Chunker, chunk_rows, word_count
from wiki_qa.tokens import get_encoding


@pytest.fixture(scope="module")
def pear(mediawiki_dir):
    """The real English 'Pear' article, cleaned: about 30 KB of wikitext, many paragraphs and headings."""
    src = MediaWikiSource(MediaWikiConfig(path=str(mediawiki_dir / "enwiki-pear.xml")))
    stats = SourceStats()
    (doc,) = list(src.read(src.shards()[0], stats))
    return doc, src.to_text(doc, stats)


def tokens(text: str) -> int:
    return len(get_encoding("cl100k_base").encode_ordinary(text))


@pytest.mark.parametrize("budget", [64, 256, 1024])
def test_every_chunk_fits_the_token_budget_and_starts_with_the_title(pear, budget):
    doc, text = pear
    chunks = Chunker(ChunkConfig(max_tokens=budget)).split(doc["title"], text)
    assert len(chunks) >= max(2, tokens(text) // budget)
    assert all(tokens(c) <= budget for c in chunks)
    assert all(c.startswith("Pear\n\n") for c in chunks)


def test_breaks_at_paragraphs_before_sentences(pear):
    doc, text = pear
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    chunks = Chunker(ChunkConfig(max_tokens=512)).split(doc["title"], text)
    bodies = [c[len("Pear\n\n"):] for c in chunks]
    # Every paragraph that fits the budget lands whole in one chunk.
    for p in paragraphs:
        if tokens(p) < 400:
            assert any(p in b for b in bodies), p[:60]


def test_a_long_paragraph_splits_at_sentences_then_hard(pear):
    doc, text = pear
    longest = max((p for p in text.split("\n\n")), key=len)
    assert tokens(longest) > 60
    chunker = Chunker(ChunkConfig(max_tokens=64))
    pieces = list(chunker._pieces(longest, 48))
    assert len(pieces) > 1 and all(tokens(p) <= 48 for p in pieces)
    sentence_ends = [p for p in pieces if p.rstrip().endswith((".", "!", "?", ")", '"'))]
    assert len(sentence_ends) >= len(pieces) // 2  # mostly whole sentences
    one_sentence = longest.replace(". ", ", ")  # no sentence break left: only the hard split can cut it
    hard = list(chunker._pieces(one_sentence, 32))
    assert len(hard) > 1 and all(tokens(p) <= 32 for p in hard)
    assert "".join(hard).replace(" ", "") == one_sentence.replace(" ", "")


def test_a_heading_travels_with_the_text_after_it(pear):
    doc, text = pear
    chunks = Chunker(ChunkConfig(max_tokens=200)).split(doc["title"], text)
    # Headings followed by their section's text (an emptied section is the cleaner's business, not this one).
    headings = {"Cultivation", "Uses", "Symbolism and allusion"} & set(text.split("\n"))
    assert len(headings) >= 2
    for c in chunks:
        assert c.rstrip().split("\n")[-1] not in headings  # never the last line of a chunk


def test_chunks_under_min_words_are_dropped_and_counted(pear):
    doc, text = pear
    counts: dict = {}
    rows = list(chunk_rows(doc, text + "\n\nSee the pear.", Chunker(ChunkConfig(max_tokens=64, min_words=12)), counts))
    assert rows and all(word_count(r["text"][len("Pear\n\n"):]) >= 12 for r in rows)
    assert counts["short_chunks"] >= 1
    assert [r["chunk_id"] for r in rows] == list(range(len(rows)))  # ids stay dense after drops
    assert rows[0]["id"] == f"{doc['doc_id']}#0"


def test_chunking_by_characters():
    cfg = ChunkConfig(max_chars=400)
    assert cfg.by == "chars"
    text = "\n\n".join(f"Paragraph {i} has a few plain words in it for the budget." for i in range(40))
    chunks = Chunker(cfg).split("T", text)
    assert len(chunks) > 3 and all(len(c) <= 400 and c.startswith("T\n\n") for c in chunks)
