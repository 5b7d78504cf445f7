"""Exact token budgets: every chunk of every real dump, counted by tiktoken itself, fits max_tokens, and the
size the chunker reports for it (the report's token lengths) is tiktoken's count.

The chunker counts each piece once (with bpe-openai when installed) and adds up a chunk's size from its
pieces (pipeline/chunk.py); these tests are what make that arithmetic safe to rely on."""
from __future__ import annotations

import random

import pytest

from wiki_qa.builders.base import SourceStats
from wiki_qa.builders.mediawiki.config import MediaWikiConfig
from wiki_qa.builders.mediawiki.source import MediaWikiSource
from wiki_qa.pipeline.chunk import ChunkConfig, Chunker, chunk_rows
from wiki_qa.tokens import counter, get_encoding

DUMPS = (".xml", ".bz2", ".7z")


def tiktoken_count(text: str) -> int:
    return len(get_encoding("cl100k_base").encode_ordinary(text))


@pytest.fixture(scope="module")
def cleaned(mediawiki_dir) -> dict[str, list[tuple[dict, str]]]:
    """Every real MediaWiki dump, cleaned: {file name: [(document, text)]}."""
    out = {}
    for path in sorted(mediawiki_dir.iterdir()):
        if not path.name.endswith(DUMPS):
            continue
        src = MediaWikiSource(MediaWikiConfig(path=str(path), namespaces=[0, 1, 4, 8, 10]))
        stats = SourceStats()
        out[path.name] = [(doc, src.to_text(doc, stats)) for shard in src.shards() for doc in src.read(shard, stats)]
    assert len(out) >= 15 and sum(len(v) for v in out.values()) > 150
    return out


@pytest.mark.parametrize("max_tokens", [16, 64, 300, 1024])
def test_no_chunk_of_any_real_dump_exceeds_the_budget_and_its_size_is_tiktokens(cleaned, max_tokens):
    chunker = Chunker(ChunkConfig(max_tokens=max_tokens, min_words=0))
    seen = 0
    for name, docs in cleaned.items():
        for doc, text in docs:
            sizes: list[int] = []
            rows = list(chunk_rows(doc, text, chunker, {}, sizes))
            assert len(sizes) == len(rows)
            for row, size in zip(rows, sizes):
                exact = tiktoken_count(row["text"])
                assert exact <= max_tokens, (name, doc["title"], exact)
                assert size == exact, (name, doc["title"], row["chunk_id"], size, exact)
                seen += 1
    assert seen > (300 if max_tokens == 1024 else 1500)


def test_the_fast_counter_and_tiktoken_give_the_same_chunks(cleaned):
    pytest.importorskip("bpe_openai")
    fast, slow = Chunker(ChunkConfig(max_tokens=256)), Chunker(ChunkConfig(max_tokens=256))
    slow._count = counter("cl100k_base", backend="tiktoken")
    assert type(fast.count.__self__).__module__ == "bpe_openai._bindings"  # the default when installed
    for name, docs in cleaned.items():
        for doc, text in docs:
            assert fast.sized_split(doc["title"], text) == slow.sized_split(doc["title"], text), name


# Characters the pre-tokenizer treats apart: letters (Latin, CJK, combining marks), numbers (digits and
# others), punctuation and symbols, contractions, and every kind of white space but the blank line.
ALPHABET = list("abcXYZ éüß中文字 0123 ½² .,;:!?()[]'\"-—…«» \t \u00a0\u2009 'sll ’ 🙂\u0301\x1c#$%&*+/<=>@\\^_`{|}~")


def test_a_chunks_size_from_its_parts_equals_tiktokens_count_of_the_joined_text():
    """The arithmetic of pipeline/chunk.py (a piece's count with a blank line after it) on random pieces made
    of the characters where pre-tokenizers disagree most, with newlines inside, under every kind of title."""
    chunker = Chunker(ChunkConfig())
    rng = random.Random(22)
    checked = 0
    for _ in range(4000):
        parts = []
        for _ in range(rng.randint(1, 4)):
            piece = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12)))
            if rng.random() < 0.2:
                piece += "\n" + "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 5)))
            piece = piece.strip()
            if piece:
                parts.append((piece, tiktoken_count(piece)))
        if not parts:
            continue
        title = rng.choice(["", "T", "Pear", "A (b)", "Foo.", "x  y", "12", "C++", "Ẹ̀kọ́"])
        head = f"{title}\n\n" if title else ""
        joined = head + "\n\n".join(p for p, _ in parts)
        assert chunker._joined_size(head, tiktoken_count(head), parts) == tiktoken_count(joined), repr(joined)
        checked += 1
    assert checked > 3500


def test_isalnum_is_the_pre_tokenizers_letters_and_numbers():
    """The chunker tells \\p{L}/\\p{N} from punctuation with str.isalnum(): the same set, every code point."""
    import sys
    import unicodedata

    assert all(chr(i).isalnum() == (unicodedata.category(chr(i))[0] in "LN") for i in range(sys.maxunicode + 1))
