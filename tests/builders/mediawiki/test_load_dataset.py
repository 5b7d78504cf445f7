"""load_dataset("wiki_qa", …): shipped configs, keyword overrides, same rows as the CLI, caching,
cache keys that follow the input file, streaming=True and num_proc=2."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from datasets import load_dataset, load_from_disk

import wiki_qa  # noqa: F401  (registers the builder)
from wiki_qa.executor import local as stages

from .helpers import all_rows


def rows(dsd):
    return sorted((r["id"], r["text"], r["doc_id"]) for r in all_rows(dsd))


@pytest.fixture
def dump(tmp_path, mediawiki_dir):
    p = tmp_path / "simple.xml"
    shutil.copy(mediawiki_dir / "simplewiki-7pages.xml", p)
    return p


@pytest.fixture
def calls(monkeypatch):
    count = {"n": 0}
    real = stages.stage_rows

    def counting(*a, **k):
        count["n"] += 1
        return real(*a, **k)

    monkeypatch.setattr(stages, "stage_rows", counting)
    return count


@pytest.mark.slow  # make test-fast leaves it out
def test_shipped_config_and_cli_give_the_same_dataset(tmp_path):
    ds = load_dataset("wiki_qa", "demo-text")
    assert set(ds) == {"train", "val", "test"}
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "wiki_qa.cli", "build", "demo-text", "--output", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert rows(ds) == rows(load_from_disk(str(out)))
    assert ds["train"].column_names == load_from_disk(str(out))["train"].column_names


def test_keyword_overrides_and_caching(tmp_path, dump, calls):
    a = load_dataset("wiki_qa", "mediawiki", source_path=str(dump), chunk_max_tokens=300)
    n_first = calls["n"]
    assert n_first == 1  # one pass over the input gives all three splits
    b = load_dataset("wiki_qa", "mediawiki", source_path=str(dump), chunk_max_tokens=300)
    assert calls["n"] == n_first  # second call: no work, straight from the cache
    assert rows(a) == rows(b)
    c = load_dataset("wiki_qa", "mediawiki", source_path=str(dump), chunk_max_tokens=128)
    assert calls["n"] == n_first + 1 and len(all_rows(c)) > len(all_rows(a))
    assert all(r["text"].startswith(r["title"]) for r in all_rows(c))


def test_cache_key_follows_the_input_file(tmp_path, dump, calls):
    load_dataset("wiki_qa", "mediawiki", source_path=str(dump))
    n = calls["n"]
    text = dump.read_text(encoding="utf-8").replace("[[Sweet Pea]]", "[[Sweet Lupin]]")
    assert "Sweet Lupin" in text
    dump.write_text(text, encoding="utf-8")
    os.utime(dump, (1_700_000_000, 1_700_000_000))
    ds = load_dataset("wiki_qa", "mediawiki", source_path=str(dump))
    assert calls["n"] > n
    assert any("Sweet Lupin" in r["text"] for r in all_rows(ds))


def test_yaml_path_streaming_and_num_proc(tmp_path, dump):
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(f"name: mine\nsource: {{type: mediawiki, path: {dump}}}\nchunk: {{max_tokens: 200}}\n")
    full = load_dataset("wiki_qa", str(cfg))
    streamed = load_dataset("wiki_qa", str(cfg), streaming=True)
    got = sorted((r["id"], r["text"], r["doc_id"]) for s in ("train", "val", "test") for r in streamed[s])
    assert got == rows(full)
    parallel = load_dataset("wiki_qa", str(cfg), num_proc=2, chunk_min_words=11)
    assert {r["doc_id"] for r in all_rows(parallel)} == {r["doc_id"] for r in all_rows(full)}


def test_split_assignment_is_per_document_and_order_independent():
    from wiki_qa.pipeline.split import SplitConfig, assign_split

    cfg = SplitConfig()
    ids = [f"enwiki:{i}" for i in range(20000)]
    first = {i: assign_split(i, cfg) for i in ids}
    assert {i: assign_split(i, cfg) for i in reversed(ids)} == first
    share = {s: sum(v == s for v in first.values()) / len(ids) for s in ("train", "val", "test")}
    assert abs(share["train"] - 0.9) < 0.01 and abs(share["val"] - 0.05) < 0.01
    assert {i: assign_split(i, SplitConfig(seed=7)) for i in ids} != first
