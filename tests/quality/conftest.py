"""Fixtures for the quality-gate tests: small DatasetDicts in the real output column layout, real MMLU."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import Dataset, DatasetDict


@pytest.fixture(scope="session")
def mmlu_dir(shared_data) -> Path:
    # ../shared/data itself may be absent (the suite's one skip reason); present without MMLU is a broken setup
    mmlu = shared_data / "mmlu" / "data"
    assert (mmlu / "val").is_dir() and (mmlu / "dev").is_dir(), f"real MMLU data missing at {mmlu}"
    return mmlu


def meta_cols(ids: list[str], title: str = "T") -> dict[str, list]:
    return {"id": ids, "doc_id": [i.split("#")[0] for i in ids], "chunk_id": [0] * len(ids),
            "title": [title] * len(ids), "source": ["test"] * len(ids), "url": [""] * len(ids),
            "lang": ["en"] * len(ids), "meta": ["{}"] * len(ids)}


def messages_split(rows: list[tuple[str, str, str]]) -> Dataset:
    """rows: (id, question, answer) -> messages-format split."""
    ids = [r[0] for r in rows]
    return Dataset.from_dict({
        "messages": [[{"role": "user", "content": q}, {"role": "assistant", "content": a}] for _, q, a in rows],
        **meta_cols(ids),
    })


@pytest.fixture
def messages_dir(tmp_path) -> Path:
    dsd = DatasetDict({
        "train": messages_split([
            ("d1#0/qa/0", "What is the capital of Nigeria?", "Abuja."),
            ("d1#0/qa/1", "Kí ni olú ìlú Nàìjíríà?", "Àbújá ni olú ìlú Nàìjíríà."),
            ("d2#0/qa/0", "Who wrote Things Fall Apart?", "Chinua Achebe."),
        ]),
        "val": messages_split([("d3#0/qa/0", "What river flows through Lokoja?",
                                "The Niger and the Benue meet there.")]),
        "test": messages_split([("d4#0/qa/0", "What is Lagos known for?", "Being the largest city in Nigeria.")]),
    })
    out = tmp_path / "ds"
    dsd.save_to_disk(str(out))
    (out / "build_report.json").write_text(json.dumps({"name": "t", "config": {}}), encoding="utf-8")
    (out / "README.md").write_text("card\n", encoding="utf-8")
    return out
