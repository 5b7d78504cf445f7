"""The judge step against the fault-injecting fake server: threshold, annotations, cache reuse, another
endpoint, failures, the report / card / review views, and the same rows on the Ray engine."""
from __future__ import annotations

import csv
import json

import datasets
import pytest

from tests.llm.conftest import FakeServer
from wiki_qa.config import configs_dir, from_dict
from wiki_qa.errors import UserError
from wiki_qa.llm import parsing as P
from wiki_qa.llm.tasks.judge import Judge, JudgeConfig
from wiki_qa.orchestrator import dataset_dict, run
from wiki_qa.orchestrator.judging import threshold
from wiki_qa.quality import export_review
from wiki_qa.rows import SPLITS

WIKI = configs_dir() / "data" / "demowiki.xml"


def cfg_for(tmp_path, llm, judge, **more):
    tree = {"name": "judged", "source": {"type": "mediawiki", "path": str(WIKI)}, "chunk": {"max_tokens": 256},
            "generate": {"task": "qa", "n": 2, "question_types": {"factoid": 0.5, "why": 0.5}},
            "llm": dict(llm, cache=str(tmp_path / "llm.sqlite")), "judge": judge, "format": "completion",
            "output": {"dir": str(tmp_path / "out")}, **more}
    return from_dict(tree)


def rows(dsd):
    return [r for s in SPLITS for r in dsd[s]]


def build(cfg, tmp_path, name, **kw):
    return dataset_dict(cfg, cache_dir=str(tmp_path / name), with_report=True, **kw)


def test_threshold_drops_low_scores_keeps_order_and_a_rerun_sends_nothing(fake, llm, tmp_path):
    everything, r1 = build(cfg_for(tmp_path, llm, {"min_score": 1}), tmp_path, "a")
    chunks, requests = r1["chunks"], fake.stats()["chat"]
    judged = [r for r in rows(everything)]
    scores = {r["id"]: json.loads(r["meta"])["judge"]["score"] for r in judged}
    assert r1["judge"]["judged"] == r1["judge"]["kept"] == len(judged) == sum(r1["judge"]["histogram"].values())
    assert set(scores.values()) <= {1, 2, 3, 4, 5} and len(set(scores.values())) >= 3
    # one judge request per chunk that kept items, on top of one generation request per chunk
    assert r1["judge"]["llm"]["requests"] == len({i.rsplit("/", 2)[0] for i in scores}) and requests > chunks
    for r in judged:
        j = json.loads(r["meta"])["judge"]
        assert j["model"] == "fake-model" and j["reason"].startswith("Item ")

    fake.reset()
    strict, r3 = build(cfg_for(tmp_path, llm, {"min_score": 3}), tmp_path, "b")
    assert fake.stats()["chat"] == 0  # generation and judge both from the cache
    assert r3["llm"]["cache_hits"] == chunks and r3["judge"]["llm"]["requests"] == 0
    kept = [r["id"] for r in rows(strict)]
    assert kept == [i for i in (r["id"] for r in judged) if scores[i] >= 3]  # same order, same ids
    low = sum(1 for s in scores.values() if s < 3)
    assert r3["judge"]["dropped"] == {"judge_low": low, "judge_failed": 0} and r3["judge"]["kept"] == len(kept)
    assert r3["judge"]["histogram"] == r1["judge"]["histogram"]
    for s in SPLITS:
        assert r3["judge"]["by_split"][s]["kept"] == strict[s].num_rows
    assert "_judge_score" not in strict["train"].column_names and "_question" not in strict["train"].column_names


def test_judge_on_another_endpoint_and_model(fake, llm, tmp_path):
    other = FakeServer()
    try:
        other.reset()
        judge = {"min_score": 2, "llm": {"base_url": other.base_url, "model": "gpt-4o-mini"}}
        dsd, report = build(cfg_for(tmp_path, llm, judge), tmp_path, "c")
        assert other.stats()["chat"] == report["judge"]["llm"]["requests"] > 0
        assert fake.stats()["chat"] == report["llm"]["requests"]
        assert report["judge"]["model"] == "gpt-4o-mini"
        assert {json.loads(r["meta"])["judge"]["model"] for r in rows(dsd)} == {"gpt-4o-mini"}
    finally:
        other.stop()


def test_failed_judging_is_dropped_or_kept_as_asked(fake, llm, tmp_path):
    _, r0 = build(cfg_for(tmp_path, llm, {"enabled": False}), tmp_path, "d")  # generation, cached
    assert "judge" not in r0
    n = r0["llm"]["examples"] - (r0.get("dedup_questions") or {}).get("near", 0) - \
        (r0.get("dedup_questions") or {}).get("exact", 0)
    fake.reset(faults={"invalid_json": 1.0}, fault_attempts=10 ** 6)
    llm_fast = dict(llm, max_retries=1)
    dsd, r1 = build(cfg_for(tmp_path, llm_fast, {"min_score": 1}), tmp_path, "e")
    assert r1["judge"]["unjudged"] == n and r1["judge"]["dropped"]["judge_failed"] == n
    assert sum(dsd[s].num_rows for s in SPLITS) == 0
    dsd, r2 = build(cfg_for(tmp_path, llm_fast, {"min_score": 1, "keep_unjudged": True}), tmp_path, "f")
    assert sum(dsd[s].num_rows for s in SPLITS) == n and r2["judge"]["dropped"]["judge_failed"] == 0
    assert all(json.loads(r["meta"])["judge"] == {"score": None, "reason": "judge_failed", "model": "fake-model"}
               for r in rows(dsd))


def test_build_folder_shows_the_judge_in_report_card_and_review(fake, llm, tmp_path):
    cfg = cfg_for(tmp_path, llm, True)  # `judge: true`: the llm: model, min_score 3
    report = run(cfg)
    out = tmp_path / "out"
    j = json.loads((out / "build_report.json").read_text())["judge"]
    assert j["min_score"] == 3 and j["model"] == "fake-model" and j == report["judge"]
    card = (out / "README.md").read_text()
    assert "### Judged" in card and "`fake-model`" in card and "under **3**" in card
    page = (out / "report" / "index.html").read_text()
    assert "<h2>Judge scores</h2>" in page and 'src="judge_scores.svg"' in page
    assert (out / "report" / "judge_scores.svg").read_text().startswith("<svg ")
    assert "<th>Judge</th>" in page and "Judge: rate limits" in page  # the judge's own LLM pass
    assert "<h2>Question mix and evidence</h2>" in page
    info = export_review(out, out.parent / "review.csv")
    assert info["columns"][-3:] == ["judge_score", "judge_reason", "delete"]
    with open(out.parent / "review.csv", encoding="utf-8-sig") as f:
        recs = list(csv.DictReader(f))
    assert recs and all(int(r["judge_score"]) >= 3 and r["judge_reason"] for r in recs)


def test_dry_run_estimates_the_judge(tmp_path):
    from wiki_qa.orchestrator import dry_run

    cfg = cfg_for(tmp_path, {"model": "gpt-4o-mini"}, {"min_score": 4})
    est = dry_run(cfg)
    assert est["judge"]["requests"] == sum(est["chunks"].values()) == est["llm"]["requests"]
    assert est["judge"]["items_est"] == est["llm"]["items_est"] and est["judge"]["min_score"] == 4
    # one request per chunk with the passage sent once: the judge is priced near the generation
    assert 0.3 < est["judge"]["cost_usd_est"] / est["llm"]["cost_usd_est"] < 1.1


def test_judge_config_errors_fail_before_any_request(tmp_path):
    with pytest.raises(UserError, match="judge.llm"):
        from wiki_qa.orchestrator.plan import plan

        plan(cfg_for(tmp_path, {"model": "m"}, {"llm": {"concurrency": 0}}))
    with pytest.raises(UserError, match="min_score"):
        cfg_for(tmp_path, {"model": "m"}, {"min_score": 6})


def test_threshold_and_parse_units():
    feats = datasets.Features({"id": datasets.Value("string"), "_judge_score": datasets.Value("int32")})
    dsd = datasets.DatasetDict({s: datasets.Dataset.from_dict({"id": [f"{s}{i}" for i in range(6)],
                                                                "_judge_score": [0, 1, 2, 3, 4, 5]}, features=feats)
                                for s in SPLITS})
    out, rep = threshold(dsd, 4, keep_unjudged=False)
    assert out["train"]["id"] == ["train4", "train5"] and rep["judge_low"] == 9 and rep["judge_failed"] == 3
    assert rep["histogram"] == {"1": 3, "2": 3, "3": 3, "4": 3, "5": 3} and rep["unjudged"] == 3
    out, rep = threshold(dsd, 1, keep_unjudged=True)
    assert out["val"].num_rows == 6 and rep["dropped"] == {"judge_low": 0, "judge_failed": 0}

    task = Judge(JudgeConfig(), None, "m")
    row = {"id": "c", "title": "T", "text": "passage", "_rows": [json.dumps({"prompt": "Q?", "completion": "A"})] * 3}
    got, _ = task.parse(row, '[{"score": "4", "reason": "ok"}, {"item": 3, "score": 5.0, "reason": "fine"},'
                             ' {"item": 2, "score": 9}]')
    assert got == [{"k": 0, "score": 4, "reason": "ok"}, {"k": 2, "score": 5, "reason": "fine"}]
    with pytest.raises(P.ParseError):
        task.parse(row, '{"items": [{"item": 1, "score": 0}]}')
    assert task.schema(row)["properties"]["items"]["minItems"] == 3
    assert "Item 3\nQuestion: Q?\nAnswer: A" in task.prompt(row)[-1]["content"]
