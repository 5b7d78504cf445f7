import csv
import json
import unicodedata

import pytest
from datasets import Dataset, DatasetDict

from wiki_qa.cli import main
from wiki_qa.errors import UserError
from wiki_qa.quality import export_review, import_review
from wiki_qa.quality.review import ReviewError

from .conftest import meta_cols

YORUBA_Q = "Kí ni ìtumọ̀ ọ̀rọ̀ náà “ọmọlúàbí”?"
YORUBA_A = "Ọmọlúàbí ni ẹni tí ó ní ìwà rere, tí ó ń bọ̀wọ̀ fún àwọn ènìyàn."


def read_csv(path):
    with path.open(encoding="utf-8-sig", newline="") as fh:
        r = csv.DictReader(fh)
        return r.fieldnames, list(r)


def write_csv(path, header, rows):
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        w.writerows(rows)


def load(d):
    return DatasetDict.load_from_disk(str(d))


def test_csv_round_trip_edits_deletes_in_yoruba(messages_dir, tmp_path):
    f = tmp_path / "review.csv"
    out = export_review(messages_dir, f, split="train")
    assert out["rows"] == 3 and out["columns"][:4] == ["id", "split", "user", "assistant"]
    assert f.read_bytes().startswith(b"\xef\xbb\xbf")   # BOM: Excel opens it as UTF-8
    header, rows = read_csv(f)
    assert rows[1]["user"] == "Kí ni olú ìlú Nàìjíríà?"  # diacritics survive export
    rows[0]["user"], rows[0]["assistant"] = YORUBA_Q, YORUBA_A              # translated by a reviewer
    rows[1]["delete"] = "yes"
    rows[2]["user"] = rows[2]["assistant"] = ""                             # emptied: also a deletion
    write_csv(f, header, rows)
    rep = import_review(f, messages_dir)
    assert rep["edited"] == [{"id": "d1#0/qa/0", "split": "train", "fields": ["messages"]}]
    assert {d["id"]: d["reason"] for d in rep["deleted"]} == {"d1#0/qa/1": "delete column", "d2#0/qa/0": "emptied"}
    assert rep["splits"]["train"] == {"before": 3, "after": 1} and rep["written"]
    dsd = load(messages_dir)
    assert len(dsd["train"]) == 1 and len(dsd["val"]) == 1 and len(dsd["test"]) == 1
    m = dsd["train"][0]["messages"]
    assert m == [{"role": "user", "content": YORUBA_Q}, {"role": "assistant", "content": YORUBA_A}]
    assert dsd["train"][0]["title"] == "T" and dsd["train"].features == load(messages_dir)["val"].features
    # the folder's other files survive the atomic swap, and the review is recorded in the report
    assert (messages_dir / "README.md").read_text() == "card\n"
    assert json.loads((messages_dir / "build_report.json").read_text())["review"][0]["edited"] == 1
    assert {p.name for p in messages_dir.parent.iterdir()} == {"ds", "review.csv"}   # no .tmp-/.old- leftovers


def test_untouched_file_changes_nothing_even_with_crlf_and_nfd(messages_dir, tmp_path):
    f = tmp_path / "review.csv"
    export_review(messages_dir, f)
    header, rows = read_csv(f)
    for r in rows:  # what some editors do on save: decomposed accents, Windows line endings
        r["user"] = unicodedata.normalize("NFD", r["user"])
    write_csv(f, header, rows)
    f.write_bytes(f.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    rep = import_review(f, messages_dir)
    assert rep["edited"] == [] and rep["deleted"] == [] and rep["unchanged"] == 3 and not rep["written"]


def test_jsonl_round_trip_keeps_nested_messages(messages_dir, tmp_path):
    f = tmp_path / "review.jsonl"
    export_review(messages_dir, f, split="val")
    recs = [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines()]
    assert recs[0]["messages"][0] == {"role": "user", "content": "What river flows through Lokoja?"}
    assert YORUBA_A not in f.read_text(encoding="utf-8")
    recs[0]["messages"][1]["content"] = YORUBA_A
    f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    rep = import_review(f, messages_dir)
    assert [c["id"] for c in rep["edited"]] == ["d3#0/qa/0"]
    assert load(messages_dir)["val"][0]["messages"][1]["content"] == YORUBA_A


def test_invalid_file_lists_every_problem_and_writes_nothing(messages_dir, tmp_path):
    f = tmp_path / "review.csv"
    export_review(messages_dir, f)
    header, rows = read_csv(f)
    rows[0]["id"] = "no-such-id"
    rows[1]["assistant"] = ""                     # half-emptied: ambiguous, so an error, not a deletion
    rows[2]["delete"] = "maybe"
    rows.append(dict(rows[2], delete=""))         # duplicate id
    write_csv(f, header, rows)
    before = (messages_dir / "train").stat().st_mtime_ns
    with pytest.raises(ReviewError) as ei:
        import_review(f, messages_dir)
    errs = ei.value.errors
    assert len(errs) == 4 and all("\n" not in e for e in errs)
    assert "unknown id 'no-such-id'" in errs[0]
    assert "missing_content" in errs[1] and "delete" in errs[1]
    assert "'maybe' is not yes/no" in errs[2] and "appears twice" in errs[3]
    assert (messages_dir / "train").stat().st_mtime_ns == before and len(load(messages_dir)["train"]) == 3


def test_generic_columns_for_mixed_conversations_and_role_typos(tmp_path):
    msgs = [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q1"},
             {"role": "assistant", "content": "A1"}],
            [{"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2"}]]
    d = tmp_path / "mixed"
    DatasetDict({"train": Dataset.from_dict({"messages": msgs, **meta_cols(["a", "b"])})}).save_to_disk(str(d))
    f = tmp_path / "r.csv"
    out = export_review(d, f)
    assert "m1_role" in out["columns"] and "m3_content" in out["columns"]
    header, rows = read_csv(f)
    rows[1]["m2_content"] = "Ìdáhùn kejì"
    write_csv(f, header, rows)
    import_review(f, d)
    assert load(d)["train"][1]["messages"][1]["content"] == "Ìdáhùn kejì"
    assert load(d)["train"][0]["messages"][0]["content"] == "Be brief."
    rows[0]["m3_role"] = "asistant"
    write_csv(f, header, rows)
    with pytest.raises(ReviewError, match="unrecognized_role"):
        import_review(f, d)


def test_completion_format_and_cli(tmp_path, capsys):
    d = tmp_path / "comp"
    ds = Dataset.from_dict({"prompt": ["P1", "P2"], "completion": ["C1", "C2"], **meta_cols(["x", "y"])})
    # an empty split needs one explicit shard on datasets 5.2 (zero shards cannot be loaded back)
    DatasetDict({"train": ds, "val": ds.select([])}).save_to_disk(str(d), num_shards={"val": 1})
    f = tmp_path / "r.csv"
    assert main(["review", "export", str(d), "--split", "train", "--to", str(f)]) == 0
    header, rows = read_csv(f)
    assert header[:4] == ["id", "split", "prompt", "completion"]
    rows[0]["completion"] = "Ọ̀rọ̀ tuntun"
    rows[1]["delete"] = "1"
    write_csv(f, header, rows)
    assert main(["review", "import", str(f), str(d), "--dry-run"]) == 0
    assert "would change" in capsys.readouterr().out and len(load(d)["train"]) == 2
    assert main(["review", "import", str(f), str(d)]) == 0
    out = capsys.readouterr().out
    assert "edited  train x: completion" in out and "deleted train y" in out
    assert load(d)["train"]["completion"] == ["Ọ̀rọ̀ tuntun"]
    rows[0]["id"] = "ghost"
    write_csv(f, header, rows[:1])
    assert main(["review", "import", str(f), str(d)]) == 2
    assert capsys.readouterr().err.strip().endswith("line 2: unknown id 'ghost'")
    assert main(["review", "export", str(tmp_path / "none"), "--to", str(f)]) == 2
    assert main(["review", "export", str(d), "--to", str(tmp_path / "r.xlsx")]) == 2
    with pytest.raises(UserError, match="no split 'dev'"):
        export_review(d, f, split="dev")


def test_deleting_a_whole_split_leaves_a_loadable_dataset(messages_dir, tmp_path):
    f = tmp_path / "r.jsonl"
    export_review(messages_dir, f, split="test")
    recs = [dict(json.loads(line), delete=True) for line in f.read_text(encoding="utf-8").splitlines()]
    f.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    rep = import_review(f, messages_dir)
    assert rep["splits"]["test"] == {"before": 1, "after": 0}
    dsd = load(messages_dir)
    assert len(dsd["test"]) == 0 and len(dsd["train"]) == 3
