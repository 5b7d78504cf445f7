"""Instruction data: Alpaca JSON through the Alpaca template, the VMware/open-instruct columns, Dolly and
prompt/answer relatives in jsonl/csv/parquet, test-split keeping, and bad input."""
from __future__ import annotations

import csv
import json

import pytest

from wiki_qa.builders.open_instruct.config import ALPACA_INPUT, ALPACA_NO_INPUT, OpenInstructConfig
from wiki_qa.builders.open_instruct.source import OpenInstructSource
from wiki_qa.errors import UserError


def src(path, **kw):
    return OpenInstructSource(OpenInstructConfig(path=str(path), **kw))


@pytest.fixture(scope="module")
def alpaca(data_dir):
    return json.loads((data_dir / "instruct/alpaca_5000.json").read_text(encoding="utf-8"))


def test_alpaca_json_through_template(data_dir, alpaca, read_all):
    rows, stats = read_all(src(data_dir / "instruct/alpaca_5000.json"))
    empty = sum(1 for r in alpaca if not r["output"].strip() or not r["instruction"].strip())
    assert len(rows) == 5000 - empty and stats.skipped["empty"] == empty
    with_input = next(i for i, r in enumerate(alpaca) if r["input"].strip())
    without = next(i for i, r in enumerate(alpaca) if not r["input"].strip())
    by_line = {r["meta"]["line"]: r for r in rows}
    rec = alpaca[with_input]
    assert by_line[with_input + 1]["prompt"] == ALPACA_INPUT.format(instruction=rec["instruction"].strip(),
                                                                    input=rec["input"].strip())
    assert by_line[without + 1]["prompt"] == ALPACA_NO_INPUT.format(instruction=alpaca[without]["instruction"].strip())
    assert by_line[with_input + 1]["completion"] == rec["output"].strip()
    assert "split" not in by_line[1]  # no input split: the shared seeded hash splitter decides


def test_open_instruct_columns_jsonl_and_test_split(alpaca, tmp_path, read_all):
    """VMware/open-instruct rows (alpaca_prompt, response, instruction, source, task_name, template_type),
    written from the real Alpaca records; a *test* file keeps split=test."""
    def vm(rec):
        return {"alpaca_prompt": "\n" + ALPACA_NO_INPUT.format(instruction=rec["instruction"]) + "  ",
                "response": rec["output"] + "\n", "instruction": rec["instruction"], "source": "alpaca",
                "task_name": "alpaca_general", "template_type": "alpaca"}
    recs = [vm(r) for r in alpaca[:300] if r["output"].strip()]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs[:250]) + "{not json\n")
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs[250:]))
    rows, stats = read_all(src(tmp_path))
    assert len(rows) == len(recs)
    first = next(r for r in rows if r["meta"]["file"] == "train.jsonl" and r["meta"]["line"] == 1)
    assert first["prompt"] == recs[0]["alpaca_prompt"].strip() and first["completion"] == recs[0]["response"].strip()
    assert first["source"] == "open_instruct:alpaca" and first["meta"]["task_name"] == "alpaca_general"
    assert "split" not in first
    assert sum(r.get("split") == "test" for r in rows) == len(recs) - 250
    assert stats.errors == [{"file": str(tmp_path / "train.jsonl"), "line": 251, "reason": stats.errors[0]["reason"]}]
    assert stats.errors[0]["reason"].startswith("invalid JSON")
    assert len({r["doc_id"] for r in rows}) == len(rows)


def test_dolly_csv_with_malformed_row(alpaca, tmp_path, read_all):
    path = tmp_path / "dolly.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["instruction", "context", "response", "category"])
        for r in alpaca[:20]:
            w.writerow([r["instruction"], r["input"], r["output"], "open_qa"])  # outputs hold newlines
        f.write("just,two\n")
    rows, stats = read_all(src(path))
    assert len(rows) == sum(1 for r in alpaca[:20] if r["output"].strip())
    assert rows[0]["meta"]["category"] == "open_qa"
    assert "### Input:\n" + alpaca[0]["input"].strip() in rows[0]["prompt"]
    assert stats.skipped["malformed_row"] == 1
    expected_line = path.read_text(encoding="utf-8").count("\n")  # the bad row is the last line
    assert stats.errors[0]["line"] == expected_line and "found 2" in stats.errors[0]["reason"]


def test_prompt_answer_parquet_and_field_overrides(alpaca, tmp_path, read_all):
    import pyarrow as pa
    import pyarrow.parquet as pq

    recs = alpaca[:50]
    pq.write_table(pa.table({"prompt": [r["instruction"] for r in recs], "answer": [r["output"] for r in recs]}),
                   tmp_path / "pa.parquet")
    rows, _ = read_all(src(tmp_path / "pa.parquet"))
    assert rows[0]["prompt"] == recs[0]["instruction"].strip() and rows[0]["completion"] == recs[0]["output"].strip()
    pq.write_table(pa.table({"question": [r["instruction"] for r in recs], "best": [r["output"] for r in recs]}),
                   tmp_path / "qa.parquet")
    rows, _ = read_all(src(tmp_path / "qa.parquet", fields={"prompt": "question", "completion": "best"}))
    assert rows[1]["completion"] == recs[1]["output"].strip()


def test_missing_column_names_it_and_lists_found(alpaca, tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"alpaca_prompt": "p", "resp": "r"}) + "\n")
    with pytest.raises(UserError, match=r"x.jsonl: missing column 'response' \(found: alpaca_prompt, resp\)"):
        src(path, preset="open_instruct").shards()
    with pytest.raises(UserError, match=r"no known instruction columns.*found: alpaca_prompt, resp"):
        src(path).shards()
    with pytest.raises(UserError, match="no input files"):
        src(tmp_path / "missing.jsonl").shards()
