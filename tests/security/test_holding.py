"""Issue 24's "already holding" list, for the parts of the data side that had no test of their own: each
test here passed before the round-two fixes and must keep passing."""
from __future__ import annotations

import bz2
import re

import pytest

from wiki_qa.errors import UserError


@pytest.mark.parametrize("name", ["../../x", "..", "a/b", "/abs", "a\\b", "~"])
def test_a_build_name_cannot_traverse_paths(name):
    from wiki_qa.config import from_dict

    with pytest.raises(UserError, match="name may hold only letters, digits"):
        from_dict({"name": name, "source": {"type": "text", "path": "x.txt"}})


@pytest.mark.parametrize("opener,closer", [("{{a|", "}}"), ("[[a|", "]]"), ("<span>", "</span>")])
def test_20000_levels_of_wikitext_nesting_cost_linear_work(opener, closer):
    """Work counted as in test_clean.test_broken_markup_costs_linear_work (cleaning_work: the prepass's steps
    and every character the tokenizer reads), for 5,000 and 20,000 levels."""
    from tests.builders.mediawiki.test_clean import cleaning_work

    def work(levels: int) -> int:
        return cleaning_work(opener * levels + "x" + closer * levels)[0]

    small, large = work(5_000), work(20_000)
    assert large <= 4.4 * small + 100, (small, large)


def test_decreasing_and_out_of_range_index_offsets_are_safe(tmp_path, mediawiki_dir):
    from tests.builders.mediawiki.test_shards import read_all, source, whole, write_multistream, xml_of

    path = tmp_path / "x-multistream.xml.bz2"
    write_multistream(xml_of(mediawiki_dir / "simplewiki-7pages.xml"), path)
    index = tmp_path / "x-multistream-index.txt.bz2"
    lines = bz2.decompress(index.read_bytes()).decode().splitlines()
    size = path.stat().st_size
    for rewritten in (lines[::-1], lines + [f"{size + 10 ** 9}:99:Far", f"{size}:98:End"],
                      [re.sub(r"^\d+", lambda m: str(int(m.group()) + 3), x) for x in lines]):
        index.write_bytes(bz2.compress(("\n".join(rewritten) + "\n").encode()))
        src = source(path)
        planned = src.shards(parallel=3)
        docs, _, _ = read_all(src, planned)
        assert docs == whole(str(path))[0]
