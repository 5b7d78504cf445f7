"""The format step's batched map gives format_row's output, row for row, for every format."""
from __future__ import annotations

import datasets
import pytest

from wiki_qa.pipeline.formats import FormatConfig, apply, features, format_row


def _rows(pairs: bool) -> datasets.Dataset:
    rows = [{"id": f"w:{i}#0" + ("/qa/0" if pairs else ""), "doc_id": f"w:{i}", "chunk_id": None if i == 3 else i,
             "title": f"T{i}", "url": f"u{i}", "lang": "en", "source": "mediawiki:w", "meta": "{}",
             **({"prompt": f"q{i}?", "completion": f"a{i}"} if pairs else {"text": f"T{i}\n\nbody {i}"})}
            for i in range(2500)]  # more than one batch
    return datasets.Dataset.from_list(rows)


@pytest.mark.parametrize("fmt,pairs", [("text", False), ("text", True), ("completion", True), ("messages", True)])
def test_batched_format_equals_format_row(fmt, pairs):
    cfg = FormatConfig(type=fmt, system="be brief" if fmt == "messages" else None)
    ds = _rows(pairs)
    out = apply(ds, cfg)
    assert out.to_list() == [format_row(r, cfg) for r in ds.to_list()]
    assert out[3]["chunk_id"] == -1


def test_pairs_needed_for_completion():
    with pytest.raises(ValueError, match="needs prompt/completion rows"):
        apply(_rows(False), FormatConfig(type="completion"))


@pytest.mark.parametrize("fmt", ["completion", "messages", "preference", "kto"])
def test_an_empty_split_keeps_the_formats_columns(fmt):
    empty = _rows(True).select([])
    if fmt in ("preference", "kto"):
        empty = empty.add_column("rejected", [], feature=datasets.Value("string"))
    cfg = FormatConfig(type=fmt)
    out = apply(empty, cfg)
    assert out.num_rows == 0 and out.features == features(cfg)


@pytest.mark.parametrize("fmt,pairs", [("text", False), ("completion", True)])
def test_rows_already_in_the_format_are_kept_without_a_map(fmt, pairs):
    """Chunk rows as text, generated rows as completion: the columns are picked (zero-copy, no row read,
    so the Ray driver never reads the rows) and equal what format_row gives."""
    from wiki_qa.pipeline.formats import features, is_projection
    from wiki_qa.rows import meta_features

    cfg = FormatConfig(type=fmt)
    rows = _rows(pairs).filter(lambda r: r["chunk_id"] is not None)  # a missing chunk_id needs the map (-1)
    ds = rows.cast(datasets.Features({**{c: rows.features[c] for c in rows.column_names}, **meta_features()}))
    ds = ds.add_column("extra", [0] * ds.num_rows)  # a column the format drops
    assert is_projection(ds, cfg) and not is_projection(ds, FormatConfig(type="messages"))
    out = apply(ds, cfg)
    assert out.cache_files == ds.cache_files or not ds.cache_files  # same data: nothing was written
    assert out.features == features(fmt) and list(out.features) == list(features(fmt))
    assert out.to_list() == [format_row(r, cfg) for r in ds.to_list()]
    assert not is_projection(_rows(pairs).cast(datasets.Features(
        {**_rows(pairs).features, **meta_features()})), cfg)  # a null chunk_id: mapped to -1 instead
