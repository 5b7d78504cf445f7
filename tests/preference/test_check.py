"""`wiki-qa check` reads preference and kto builds (both styles) as TRL's layouts: format errors per pair, tokens
of the prompt and both answers, and a planted identical pair or a label that is not a boolean is reported."""
from __future__ import annotations

import datasets
import pytest

from tests.preference.conftest import write_jsonl
from tests.preference.test_trl import tree
from wiki_qa.config import from_dict
from wiki_qa.orchestrator import run
from wiki_qa.quality.check import check_dir, count_tokens
from wiki_qa.tokens import get_encoding


@pytest.mark.parametrize("fmt", ["preference", "kto"])
@pytest.mark.parametrize("style", ["standard", "conversational"])
def test_check_reads_a_preference_build(tmp_path, alpaca, fmt, style):
    path = write_jsonl(tmp_path / "alpaca.jsonl", alpaca)
    cfg = from_dict(tree(tmp_path, path, {"type": fmt, "style": style}, "p"), tmp_path / "p.yaml")
    run(cfg, publish=False)
    report = check_dir(tmp_path / "p")
    assert report["ok"] and report["format"] == fmt, report["errors"]
    train = datasets.load_from_disk(str(tmp_path / "p"))["train"]
    enc = get_encoding("cl100k_base")
    row = train[0]
    total, answers = count_tokens(row, fmt, enc)
    sides = ("chosen", "rejected") if fmt == "preference" else ("completion",)

    def tokens(v):  # a string, or a conversational side's messages
        return len(enc.encode(v)) if isinstance(v, str) else sum(len(enc.encode(m["content"])) for m in v)

    assert answers == sum(tokens(row[k]) for k in sides) > 0
    assert total == answers + tokens(row["prompt"])
    assert report["splits"]["train"]["rows"] == train.num_rows

    # plant what a broken export would hold: the pair's two sides equal, a label that is not a boolean
    broken = train.to_list()[:3]
    if fmt == "preference":
        broken[0]["rejected"] = broken[0]["chosen"]
        code = "identical_pair"
    else:
        broken = [{**r, "label": str(r["label"])} for r in broken]
        code = "invalid_label"
    datasets.DatasetDict({s: datasets.Dataset.from_list(broken) for s in ("train", "val", "test")}) \
        .save_to_disk(str(tmp_path / "broken"))
    bad = check_dir(tmp_path / "broken")
    assert not bad["ok"] and bad["splits"]["train"]["format_errors"].get(code), bad["splits"]["train"]
