"""translate in whole builds (source -> translate -> format -> save, report and card) against the fake
server: MMLU from ../shared/data keeps its answers; the Alpaca config builds from the real Alpaca data."""
from __future__ import annotations

import json

import yaml
from datasets import load_from_disk

from tests.llm import translating
from wiki_qa.config import load_config
from wiki_qa.orchestrator import run

SPLITS = ("train", "val", "test")
LETTERS = "ABCD"


def test_translated_mmlu_keeps_letters_order_and_answer(tmp_path, fake, llm, shared_data):
    # MMLU has no Yoruba reference: the server tags each sentence "[yo] " (a stand-in translation that keeps
    # every token), so this test checks structure, and the language checks are off for it
    translating.configure(fake, [], fallback="tag")
    cfg_path = tmp_path / "mmlu-yo.yaml"
    cfg_path.write_text(yaml.safe_dump({
        "name": "mmlu-yo",
        "source": {"type": "mmlu", "path": str(shared_data / "mmlu" / "data"), "template": "plain",
                   "completion": "text", "subjects": ["high_school_physics", "college_mathematics", "virology"],
                   "splits": {"dev": "test", "val": "val", "auxiliary_train": None, "test": None}},
        "generate": {"task": "translate", "target_lang": "yo", "check_language": False},
        "llm": {"model": "fake-model", "base_url": llm["base_url"]},
        "format": "completion", "output": {"dir": str(tmp_path / "out")}}))
    report = run(load_config(str(cfg_path)))
    dsd = load_from_disk(str(tmp_path / "out"))
    rows = [r for s in SPLITS for r in dsd[s]]
    tr = report["llm"]["translate"]
    assert rows and tr["rows_out"] == len(rows) == tr["rows_in"] and not tr["dropped"]
    for r in rows:
        meta = json.loads(r["meta"])
        orig = meta["translation"]["orig"]
        lines, orig_lines = r["prompt"].split("\n"), orig["prompt"].split("\n")
        assert len(lines) == len(orig_lines) and r["prompt"].endswith("\n")  # line structure, trailing newline
        options = [line for line in lines if line[:3] in ("A. ", "B. ", "C. ", "D. ")]
        assert [o[0] for o in options] == list(LETTERS)  # letters kept, in order
        for o, oo in zip(options, [x for x in orig_lines if x[:3] in ("A. ", "B. ", "C. ", "D. ")]):
            assert o == oo[:3] + "[yo] " + oo[3:] or o == oo  # each option translated in place
        k = LETTERS.index(meta["answer"])  # the source's answer letter, unchanged
        assert orig["completion"] == orig_lines[[x[:3] for x in orig_lines].index(f"{LETTERS[k]}. ")][3:]
        assert r["completion"] == options[k][3:]  # the completion is the translated correct option
        assert r["lang"] == "yo" and r["id"].endswith("/yo")
    card = (tmp_path / "out" / "README.md").read_text()
    assert "### Translation" in card and "into yo by the model `fake-model`" in card


def test_alpaca_translate_config_builds(tmp_path, fake, llm, shared_data):
    translating.configure(fake, [], fallback="tag")
    records = json.loads((shared_data / "instruct" / "alpaca_5000.json").read_text())
    # rows with links and code among them: what protection must carry through untouched
    chosen = [r for r in records if "http" in r["input"] + r["output"]][:4] + records[:8]
    (tmp_path / "alpaca.json").write_text(json.dumps(chosen))
    cfg = load_config("alpaca-translate-yo", [f"source.path={tmp_path / 'alpaca.json'}",
                                              f"llm.base_url={llm['base_url']}", "llm.model=fake-model",
                                              "generate.check_language=false", f"output.dir={tmp_path / 'out'}",
                                              "split.train=1", "split.val=0", "split.test=0"])
    report = run(cfg)
    rows = list(load_from_disk(str(tmp_path / "out"))["train"])
    tr = report["llm"]["translate"]
    assert tr["rows_in"] == len(chosen) and tr["rows_out"] == len(rows) == len(chosen)
    for r in rows:
        user, assistant = r["messages"][0]["content"], r["messages"][1]["content"]
        orig = json.loads(r["meta"])["translation"]["orig"]
        assert "[yo] " in user and assistant.count("[yo] ") >= 1
        for url in [w for w in (orig["prompt"] + " " + orig["completion"]).split() if w.startswith("http")]:
            assert url in user + " " + assistant  # links pass through exactly
    assert report["llm"]["requests"] == len(chosen)  # a short row is one request
    assert "sk-test-SECRET-123" not in json.dumps(report)


def test_dry_run_estimates_the_translation_requests(tmp_path, shared_data):
    from wiki_qa.orchestrator.estimate import dry_run

    records = json.loads((shared_data / "instruct" / "alpaca_5000.json").read_text())[:20]
    (tmp_path / "alpaca.json").write_text(json.dumps(records))
    cfg = load_config("alpaca-translate-yo", [f"source.path={tmp_path / 'alpaca.json'}",
                                              "generate.back_translate=true", "split.train=1", "split.val=0",
                                              "split.test=0"])
    est = dry_run(cfg)["llm"]
    assert est["task"] == "translate" and est["requests"] == 40  # a unit per row, and its round trip
    assert est["prompt_tokens"] > 20 * 150 and est["cost_usd_est"] > 0


def test_requests_the_engine_gives_up_on_are_dropped_rows(fake, llm, shared_data):
    import datasets

    from wiki_qa.llm.config import resolve
    from wiki_qa.llm.stats import LLMStats
    from wiki_qa.llm.step import map_rows

    translating.configure(fake, [], fallback="tag")
    fake.configure(faults={"length": 1.0})  # every reply cut off
    records = json.loads((shared_data / "instruct" / "alpaca_5000.json").read_text())[:3]
    rows = [{"id": f"r{i}", "title": "", "text": r["instruction"], "lang": "en"} for i, r in enumerate(records)]
    task, cfg = resolve({"task": "translate", "target_lang": "yo", "check_language": False},
                        {**llm, "max_retries": 1})
    stats = LLMStats()
    out, report = task.map_splits(datasets.DatasetDict({"train": datasets.Dataset.from_list(rows)}),
                                  lambda d: datasets.DatasetDict({s: map_rows(d[s], task, cfg, stats=stats)
                                                                  for s in d}), cfg.model)
    assert out["train"].num_rows == 0 and report["dropped"] == {"request_failed": 3}
    assert stats.failures == {"truncated": 3}  # the engine's own reason, in llm.failures
