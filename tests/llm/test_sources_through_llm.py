"""BBC articles and plain text go through the same LLM step as MediaWiki chunks, in full builds
(source -> chunk -> split -> generate -> format -> save), against the fake OpenAI-compatible server."""
from __future__ import annotations

import json

from datasets import load_from_disk

from wiki_qa.config import load_config
from wiki_qa.orchestrator import run

SPLITS = ("train", "val", "test")


def test_bbc_yoruba_qa_config_builds_messages_from_saved_pages(tmp_path, fake, llm, shared_data):
    cfg = load_config("bbc-yoruba-qa", [
        f"source.html_dir={shared_data / 'bbc' / 'world-service-json-2019'}",
        f"llm.base_url={llm['base_url']}", "llm.model=fake-model", "generate.n=2",
        f"output.dir={tmp_path / 'out'}", "split.train=0.5", "split.val=0.25", "split.test=0.25"])
    report = run(cfg)
    dsd = load_from_disk(str(tmp_path / "out"))
    rows = [r for s in SPLITS for r in dsd[s]]
    assert rows and report["llm"]["requests"] == report["chunks"] > 0
    assert all([m["role"] for m in r["messages"]] == ["user", "assistant"] for r in rows)
    assert {r["source"].split(":")[0] for r in rows} == {"bbc"}
    assert len({r["id"] for r in rows}) == len(rows)
    owner = {}
    for s in SPLITS:  # no article spans two splits, after the LLM step too
        for r in dsd[s]:
            assert owner.setdefault(r["doc_id"], s) == s
    assert "sk-test-SECRET-123" not in json.dumps(report)


def test_text_paraphrase_config(tmp_path, fake, llm):
    (tmp_path / "book").mkdir()
    para = ("The river ran past the old mill, and every morning the miller walked along its bank to check "
            "the wheel before the first carts arrived from the villages up the valley.")
    (tmp_path / "book" / "ch1.txt").write_text(f"{para}\n\n{para.replace('river', 'stream')}\n\nToo short.\n")
    cfg = load_config("text-paraphrase", [f"source.path={tmp_path / 'book' / '*.txt'}",
                                           f"llm.base_url={llm['base_url']}", "llm.model=fake-model",
                                           f"output.dir={tmp_path / 'out'}", "split.train=1", "split.val=0",
                                           "split.test=0"])
    report = run(cfg)
    rows = list(load_from_disk(str(tmp_path / "out"))["train"])
    assert report["llm"]["outcomes"]["failed"] == 0
    assert rows and all(r["prompt"] and r["completion"] for r in rows)
