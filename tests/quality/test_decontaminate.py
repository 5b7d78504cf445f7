"""Decontamination against the real MMLU dev/val CSVs in ../shared/data/mmlu."""
import csv
import json

import pytest
from datasets import Dataset, DatasetDict

from wiki_qa.errors import UserError
from wiki_qa.quality import build_index, decontaminate
from wiki_qa.quality.config import DecontaminateConfig
from wiki_qa.quality.evalsets import load_eval_items


def mmlu_row(mmlu_dir, split, subject, i):
    with (mmlu_dir / split / f"{subject}_{split}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))[i]


def cfg(mmlu_dir, **kw):
    return DecontaminateConfig(evals=[str(mmlu_dir)], **kw)


@pytest.fixture(scope="module")
def alpaca(shared_data):
    data = json.loads((shared_data / "instruct" / "alpaca_5000.json").read_text(encoding="utf-8"))
    return data[:2000]


def test_mmlu_loader_reads_every_row_with_embedded_newlines(mmlu_dir):
    items = list(load_eval_items(cfg(mmlu_dir).evals[0]))
    by_split = {s: sum(1 for i, _ in items if i.startswith(f"mmlu:{s}/")) for s in ("dev", "val")}
    assert by_split == {"dev": 285, "val": 1542}
    # high_school_world_history questions quote multi-line passages: one item each, not one per line.
    hist = [t for i, t in items if i.startswith("mmlu:val/high_school_world_history/")]
    assert len(hist) == 26 and "\n" in hist[0][0]
    assert len(hist[0]) == 5  # question + four choices, the answer letter dropped


def test_planted_mmlu_questions_removed_unrelated_rows_survive(mmlu_dir, alpaca):
    long_q = mmlu_row(mmlu_dir, "dev", "astronomy", 2)[0]      # 34 words: matched by 13-grams
    short_q = mmlu_row(mmlu_dir, "val", "anatomy", 0)[0]       # 14 words
    history = mmlu_row(mmlu_dir, "val", "high_school_world_history", 0)[0]
    passage = " ".join(history.split()[20:60])                  # a 40-word slice of a quoted passage
    rows = [{"id": f"al{i}", "prompt": a["instruction"] + "\n" + a["input"], "completion": a["output"]}
            for i, a in enumerate(alpaca)]
    rows[10]["prompt"] = "Here is a good exam question. " + long_q.upper() + " Think step by step."
    rows[20]["completion"] = f"As the textbook asks: {short_q.replace('?', '')}!! The answer is homeostasis."
    rows[30]["prompt"] = "Summarize: " + passage
    dsd = DatasetDict({"train": Dataset.from_list(rows), "test": Dataset.from_list(rows[:40])})
    out, st = decontaminate(dsd, cfg(mmlu_dir))
    kept = set(out["train"]["id"])
    assert {"al10", "al20", "al30"}.isdisjoint(kept)
    assert len(kept) == len(rows) - 3                           # no real Alpaca row is a false positive
    assert len(out["test"]) == 40                               # only train is scrubbed by default
    assert st["removed"] == 3 and st["by_split"]["train"]["removed"] == 3
    assert st["eval_items"] == 1827 and st["evals"] == {"mmlu": 1827}
    matched = {m["row_id"]: m["eval_id"] for m in st["matches"]}
    assert matched == {"al10": "mmlu:dev/astronomy/2", "al20": "mmlu:val/anatomy/0",
                       "al30": "mmlu:val/high_school_world_history/0"}
    assert st["matched_eval_items"] == {"mmlu:dev/astronomy/2": 1, "mmlu:val/anatomy/0": 1,
                                        "mmlu:val/high_school_world_history/0": 1}


def test_ngram_length_is_the_boundary(mmlu_dir):
    q = mmlu_row(mmlu_dir, "dev", "astronomy", 2)[0]
    w = q.split()
    twelve, thirteen = " ".join(w[3:15]), " ".join(w[3:16])
    dsd = DatasetDict({"train": Dataset.from_dict({"id": ["a", "b"], "text": [
        f"Unrelated opening words. {twelve}. Unrelated closing words.",
        f"Unrelated opening words. {thirteen}. Unrelated closing words."]})})
    out, st = decontaminate(dsd, cfg(mmlu_dir))
    assert list(out["train"]["id"]) == ["a"]
    out8, _ = decontaminate(dsd, cfg(mmlu_dir, ngram=8, min_words=8))  # configurable: 8-grams catch both
    assert len(out8["train"]) == 0


def test_questions_shorter_than_ngram_match_as_whole_phrase(mmlu_dir):
    q = mmlu_row(mmlu_dir, "dev", "astronomy", 3)[0]           # "Why isn't there a planet where ...": 12 words
    assert 8 <= len(q.split()) < 13
    dsd = DatasetDict({"train": Dataset.from_dict({"id": ["a", "b"], "text": [
        f"Students often ask: {q} Nobody knows.", "Why is there a belt of asteroids at all?"]})})
    out, st = decontaminate(dsd, cfg(mmlu_dir))
    assert list(out["train"]["id"]) == ["b"] and st["matches"][0]["eval_id"] == "mmlu:dev/astronomy/3"
    out, _ = decontaminate(dsd, cfg(mmlu_dir, min_words=13))   # short phrases off: it survives
    assert len(out["train"]) == 2


def test_messages_column_and_subject_filter(mmlu_dir):
    q = mmlu_row(mmlu_dir, "val", "anatomy", 0)[0]
    msgs = [[{"role": "user", "content": q}, {"role": "assistant", "content": "Homeostasis."}],
            [{"role": "user", "content": "Kí ni orúkọ rẹ?"}, {"role": "assistant", "content": "Adé ni."}]]
    dsd = DatasetDict({"train": Dataset.from_dict({"id": ["m1", "m2"], "messages": msgs})})
    out, _ = decontaminate(dsd, cfg(mmlu_dir))
    assert list(out["train"]["id"]) == ["m2"]
    only_astro = DecontaminateConfig(evals=[{"path": str(mmlu_dir), "subjects": ["astronomy"], "splits": ["val"]}])
    out, st = decontaminate(dsd, only_astro)
    assert len(out["train"]) == 2 and st["eval_items"] == 16  # astronomy_val.csv rows


@pytest.mark.parametrize("kind", ["jsonl", "json", "csv", "parquet", "txt"])
def test_local_eval_files(tmp_path, kind):
    q = "Which ancient kingdom built the famous walls of Benin City long before the colonial era began"
    f = tmp_path / f"ev.{kind}"
    if kind == "jsonl":
        f.write_text(json.dumps({"id": "x1", "question": q, "answer": "Benin"}) + "\n", encoding="utf-8")
    elif kind == "json":
        f.write_text(json.dumps({"data": [{"id": "x1", "question": q}]}), encoding="utf-8")
    elif kind == "csv":
        f.write_text(f'id,question\nx1,"{q}"\n', encoding="utf-8")
    elif kind == "parquet":
        Dataset.from_dict({"id": ["x1"], "question": [q]}).to_parquet(str(f))
    else:
        f.write_text(q + "\n", encoding="utf-8")
    dsd = DatasetDict({"train": Dataset.from_dict({"id": ["a", "b"], "text": [
        "Trivia night: " + q.lower() + "?", "The walls of Benin City were earthworks."]})})
    out, st = decontaminate(dsd, DecontaminateConfig(evals=[str(f)]))
    assert list(out["train"]["id"]) == ["b"]
    expected = "ev:0" if kind == "txt" else "ev:x1"
    assert st["matches"][0]["eval_id"] == expected


def test_index_reuse_and_errors(tmp_path, mmlu_dir):
    c = cfg(mmlu_dir)
    idx = build_index(c)
    dsd = DatasetDict({"train": Dataset.from_dict({"id": ["a"], "text": ["nothing to see"]})})
    out, st = decontaminate(dsd, c, index=idx)
    assert len(out["train"]) == 1 and st["eval_items"] == 1827
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(UserError, match="line 1"):
        decontaminate(dsd, DecontaminateConfig(evals=[str(bad)]))
    with pytest.raises(UserError, match="test"):
        decontaminate(dsd, DecontaminateConfig(evals=[{"path": str(mmlu_dir), "splits": ["test"]}]))
