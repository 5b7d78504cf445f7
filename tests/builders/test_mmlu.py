"""MMLU source on the real hendrycks/test dev+val CSVs: exact counts with quoted newlines, the three input
layouts (folder, data.tar, cais/mmlu parquet), prompt templates, split mapping and bad input."""
from __future__ import annotations

import csv
import tarfile
from collections import Counter

import pytest

from wiki_qa.builders.mmlu.config import MMLUConfig
from wiki_qa.builders.mmlu.source import MMLUSource
from wiki_qa.errors import UserError


def src(path, **kw):
    return MMLUSource(MMLUConfig(path=str(path), **kw))


def test_folder_exact_counts_and_split_mapping(data_dir, read_all):
    rows, stats = read_all(src(data_dir / "mmlu"))  # default: val -> val (no test/auxiliary_train here)
    assert len(rows) == stats.documents == 1542 and not stats.errors
    assert Counter(r["split"] for r in rows) == {"val": 1542}
    assert len({r["doc_id"] for r in rows}) == 1542
    assert len({r["meta"]["subject"] for r in rows}) == 57
    assert any("\n" in r["prompt"].split("\nA. ")[0] for r in rows)  # questions with quoted newlines survive
    rows, _ = read_all(src(data_dir / "mmlu/data", splits={"dev": "train"}))  # merged over the default mapping
    assert Counter(r["split"] for r in rows) == {"val": 1542, "train": 285}


def test_plain_prompt_and_completion(data_dir, read_all):
    rows, _ = read_all(src(data_dir / "mmlu", subjects=["abstract_algebra"], splits={"dev": "train", "val": None}))
    assert len(rows) == 5
    with open(data_dir / "mmlu/data/dev/abstract_algebra_dev.csv", newline="") as f:
        q, a, b, c, d, ans = next(csv.reader(f))
    assert rows[0]["prompt"] == f"{q}\nA. {a}\nB. {b}\nC. {c}\nD. {d}\n"
    assert rows[0]["completion"] == {"A": a, "B": b, "C": c, "D": d}[ans]
    assert rows[0]["title"] == "abstract algebra" and rows[0]["source"] == "mmlu"
    letters, _ = read_all(src(data_dir / "mmlu", subjects=["abstract_algebra"], splits={"dev": "train", "val": None},
                              completion="letter"))
    assert letters[0]["completion"] == ans


def test_standard_template_with_k_shot_from_dev(data_dir, read_all):
    rows, _ = read_all(src(data_dir / "mmlu", subjects=["anatomy"], template="standard", k_shot=3))
    assert len(rows) == 14
    p = rows[0]["prompt"]
    assert p.startswith("The following are multiple choice questions (with answers) about anatomy.\n\n")
    assert p.count("\nAnswer: ") == 3 and p.endswith("\nAnswer:")
    assert rows[0]["completion"].startswith(" ")
    with open(data_dir / "mmlu/data/dev/anatomy_dev.csv", newline="") as f:
        first_dev = next(csv.reader(f))
    assert f"{first_dev[0]}\nA. {first_dev[1]}" in p
    with pytest.raises(ValueError, match="k_shot needs template"):
        MMLUConfig(path="x", k_shot=2)


def test_data_tar_and_parquet_layouts_match_folder(data_dir, read_all, tmp_path):
    folder_rows, _ = read_all(src(data_dir / "mmlu", splits={"dev": "train", "val": "val"}))
    # The released data.tar holds data/{dev,val,...}/*.csv; build one from the real files.
    tar_path = tmp_path / "data.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add(data_dir / "mmlu/data", arcname="data")
    tar_rows, _ = read_all(src(tar_path, splits={"dev": "train", "val": "val"}))
    key = lambda rows: sorted((r["meta"]["subject"], r["split"], r["prompt"], r["completion"]) for r in rows)  # noqa: E731
    assert key(tar_rows) == key(folder_rows)
    # cais/mmlu parquet: <subject>/{dev,validation}-00000-of-00001.parquet, choices list + int answer.
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path / "cais"
    for split, cais_split in (("dev", "dev"), ("val", "validation")):
        for path in sorted((data_dir / "mmlu/data" / split).glob("*.csv")):
            subject = path.name[: -len(f"_{split}.csv")]
            with open(path, newline="", encoding="utf-8") as f:
                recs = list(csv.reader(f))
            (root / subject).mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.table({"question": [r[0] for r in recs], "subject": [subject] * len(recs),
                                     "choices": [r[1:5] for r in recs], "answer": ["ABCD".index(r[5]) for r in recs]}),
                           root / subject / f"{cais_split}-00000-of-00001.parquet")
    pq_rows, _ = read_all(src(root, splits={"dev": "train", "val": "val"}))
    assert key(pq_rows) == key(folder_rows)


def test_malformed_rows_reported_with_file_and_line(data_dir, read_all, tmp_path):
    d = tmp_path / "data/val"
    d.mkdir(parents=True)
    real = (data_dir / "mmlu/data/val/astronomy_val.csv").read_text(encoding="utf-8")
    n_lines = real.count("\n")
    (d / "astronomy_val.csv").write_text(real + "only,three,fields\n" + "q,a,b,c,d,E\n", encoding="utf-8")
    rows, stats = read_all(src(tmp_path))
    assert len(rows) == 16  # the real file's rows, all kept
    assert stats.skipped["malformed_row"] == 2
    assert [e["line"] for e in stats.errors] == [n_lines + 1, n_lines + 2]
    assert all(e["file"].endswith("astronomy_val.csv") for e in stats.errors)
    assert "found 3" in stats.errors[0]["reason"] and "'E'" in stats.errors[1]["reason"]


def test_bad_input_is_one_line_user_error(data_dir, tmp_path):
    with pytest.raises(UserError, match="not found"):
        src(tmp_path / "nope").shards()
    with pytest.raises(UserError, match=r"no MMLU files for splits auxiliary_train, test \(found splits: dev, val\)"):
        src(data_dir / "mmlu", splits={"val": None}).shards()
    with pytest.raises(UserError, match="unknown subject 'astrology'"):
        src(data_dir / "mmlu", subjects=["astrology"]).shards()
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "anatomy").mkdir()
    pq.write_table(pa.table({"question": ["q"], "options": [["a", "b", "c", "d"]], "answer": [0]}),
                   tmp_path / "anatomy/validation-00000-of-00001.parquet")
    with pytest.raises(UserError, match=r"missing column 'choices' \(found: question, options, answer\)") as e:
        src(tmp_path).shards()
    assert "\n" not in str(e.value)
