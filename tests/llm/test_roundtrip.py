"""The round trip and the judge that admits when it cannot judge (issue 23), against the fake server:
a planted wrong-answer item is dropped by the round trip while right ones are kept; a constant judge is
flagged as carrying no signal in the report and the card, a varying one is not."""
from __future__ import annotations

import json

import pytest

from wiki_qa.config import configs_dir, from_dict
from wiki_qa.llm.tasks.roundtrip import f1
from wiki_qa.orchestrator import dataset_dict, run
from wiki_qa.orchestrator.judging import copied_from, signal
from wiki_qa.rows import SPLITS

WIKI = configs_dir() / "data" / "demowiki.xml"

RIGHT = ("Kettle lakes form where blocks of ice were left behind by a retreating glacier and later melted away. "
         "Their round basins often fill with rain water and stay without an outlet for thousands of years.")
WRONG = ("Oxbow lakes begin as wide loops of a slow river meandering across its flat flood plain for centuries. "
         "A flood can cut through the narrow neck of a loop and leave the old channel behind FAULT_WRONG_ANSWER.")


def rows(dsd):
    return [r for s in SPLITS for r in dsd[s]]


def text_cfg(tmp_path, llm, roundtrip: bool):
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "kettle.txt").write_text(RIGHT + "\n")
    (docs / "oxbow.txt").write_text(WRONG + "\n")
    return from_dict({
        "name": "rt", "source": {"type": "text", "path": str(docs)}, "chunk": {"max_tokens": 256, "min_words": 5},
        "generate": {"task": "qa", "n": 1, "validate": {"roundtrip": roundtrip}},
        "llm": dict(llm, cache=str(tmp_path / "llm.sqlite")), "format": "completion",
        "split": {"train": 1.0, "val": 0.0, "test": 0.0}, "output": {"dir": str(tmp_path / "out")}})


def test_round_trip_drops_a_planted_wrong_answer_and_keeps_a_right_one(fake, llm, tmp_path):
    # Without the round trip both items pass every other check: the planted one's answer is the quote it
    # gives, so the evidence check is satisfied; only answering the question again shows it is wrong.
    plain, r0 = dataset_dict(text_cfg(tmp_path, llm, False), cache_dir=str(tmp_path / "a"), with_report=True)
    assert "roundtrip" not in r0
    assert sorted(r["title"] for r in rows(plain)) == ["kettle", "oxbow"]
    wrong = next(r for r in rows(plain) if r["title"] == "oxbow")
    assert "flood can cut" in wrong["completion"] and "Oxbow lakes begin" in wrong["prompt"]

    checked, r1 = dataset_dict(text_cfg(tmp_path, llm, True), cache_dir=str(tmp_path / "b"), with_report=True)
    rt = r1["roundtrip"]
    assert [r["title"] for r in rows(checked)] == ["kettle"]
    assert rt["checked"] == 2 and rt["kept"] == 1 and rt["dropped"] == {"roundtrip_mismatch": 1, "roundtrip_failed": 0}
    assert rt["model"] == "fake-model" and rt["llm"]["requests"] == 2   # one request per chunk
    kept = json.loads(rows(checked)[0]["meta"])["roundtrip"]
    assert kept["f1"] == 1.0 and "Kettle lakes form" in kept["answer"]
    assert "_roundtrip_f1" not in checked["train"].column_names and "_answer" not in checked["train"].column_names
    assert r1["llm"]["cache_hits"] == r0["llm"]["requests"]   # generation came from the cache
    assert rt["vs_generation"] is None   # nothing was paid for the generation in this run: no ratio to give


def test_round_trip_cost_is_reported_against_the_generation(fake, llm, tmp_path):
    _, report = dataset_dict(text_cfg(tmp_path, llm, True), cache_dir=str(tmp_path / "a"), with_report=True)
    gen, rt = report["llm"], report["roundtrip"]
    assert gen["requests"] == rt["llm"]["requests"] == 2 and rt["llm"]["prompt_tokens"] > 0
    tokens = lambda x: x["prompt_tokens"] + x["completion_tokens"]  # noqa: E731
    want = tokens(rt["llm"]) / tokens(gen)
    assert rt["vs_generation"]["tokens"] == round(want, 3) and rt["vs_generation"]["cost"] is None  # fake: unpriced


def judge_cfg(tmp_path, llm):
    return from_dict({
        "name": "judged", "source": {"type": "mediawiki", "path": str(WIKI)}, "chunk": {"max_tokens": 256},
        "generate": {"task": "qa", "n": 2}, "llm": dict(llm, cache=str(tmp_path / "llm.sqlite")),
        "judge": {"min_score": 3}, "format": "completion", "output": {"dir": str(tmp_path / "out")}})


def test_a_constant_judge_is_flagged_and_the_card_says_its_scores_carry_no_signal(fake, llm, tmp_path):
    fake.reset(judge_constant=4)
    report = run(judge_cfg(tmp_path, llm))
    sig = report["judge"]["signal"]
    assert sig["degenerate"] is True and sig["top_score"] == 4 and sig["top_score_share"] == 1.0
    assert sig["copied_reason_share"] == 1.0 and len(sig["problems"]) == 2 and sig["items"] >= 10
    card = (tmp_path / "out" / "README.md").read_text()
    assert "carry no signal" in card and "one score (4) for 100% of the items" in card
    assert "### Judged" not in card and "scored from 1 to 5 against its source passage by" not in card
    saved = json.loads((tmp_path / "out" / "build_report.json").read_text())["judge"]["signal"]
    assert saved == sig


def test_a_judge_whose_scores_vary_passes_the_test(fake, llm, tmp_path):
    report = run(judge_cfg(tmp_path, llm))
    sig = report["judge"]["signal"]
    assert sig["degenerate"] is False and sig["problems"] == [] and sig["top_score_share"] < 0.9
    card = (tmp_path / "out" / "README.md").read_text()
    assert "### Judged" in card and "carry no signal" not in card


@pytest.mark.parametrize("scores, reasons, degenerate", [
    ([4] * 9 + [3], ["fine"] * 10, True),                       # 90% one score
    ([4] * 8 + [3, 2], ["fine"] * 10, False),                   # 80%: discriminates a little
    ([1, 2, 3, 4, 5] * 2, ["one short sentence"] * 10, True),   # varied scores, reasons from the prompt
    ([4] * 5, ["ok"] * 5, None),                                # too few items to tell
])
def test_signal_lines(scores, reasons, degenerate):
    prompt = 'Reply with JSON only: {"items": [{"item": 1, "reason": "one short sentence", "score": 4}]}'
    assert signal(scores, reasons, prompt)["degenerate"] is degenerate


def test_copied_reasons_and_answer_f1():
    prompt = 'Reply: {"reason": "one short sentence", "score": 4}'
    assert copied_from("One short sentence.", prompt) and not copied_from("The answer names the wrong city.", prompt)
    assert not copied_from("", prompt)
    assert f1("the Gulf of Guinea", "Gulf of Guinea") == 1.0
    assert f1("about 4,180 kilometres", "4,180 kilometres") == pytest.approx(0.8)
    assert f1("Lagos", "Abuja") == 0.0 and f1("", "") == 1.0


def test_dry_run_prices_the_round_trip_like_the_judge(tmp_path):
    from wiki_qa.orchestrator import dry_run

    cfg = from_dict({"name": "rt", "source": {"type": "mediawiki", "path": str(WIKI)}, "chunk": {"max_tokens": 96},
                     "generate": {"task": "qa", "focus": "answer", "n": 2, "validate": {"roundtrip": True}},
                     "llm": {"model": "gpt-4o-mini"}, "format": "completion"})
    est = dry_run(cfg)
    # one request per chunk with an answer span, for the generation and again for the round trip
    assert est["roundtrip"]["requests"] == est["llm"]["requests"] < sum(est["chunks"].values())
    assert est["roundtrip"]["items_est"] == est["llm"]["items_est"] and est["roundtrip"]["min_f1"] == 0.5
    assert 0.3 < est["roundtrip"]["cost_usd_est"] / est["llm"]["cost_usd_est"] < 1.5
