"""The preference step against the fake OpenAI server, on real Alpaca records: every planted bad pair is dropped
with its own reason and no good one is; the judge's shuffled positions map back right (a server that always
prefers position A); splits stay by document; dedup and decontamination read the rejected side."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.preference.conftest import pref_config, write_jsonl
from wiki_qa.errors import UserError
from wiki_qa.orchestrator import dataset_dict, run
from wiki_qa.preference.checks import language_check_available
from wiki_qa.rows import SPLITS

# marker in the good reply -> the reason its pair must be dropped for (fake_openai.py's misbehaviours)
PLANTED = {"PREF_SAME": "identical", "PREF_LONG": "length_ratio", "PREF_SHORT": "length_ratio",
           "PREF_FURNITURE": "furniture", "PREF_PARAS": "paragraphs", "PREF_CUT": "truncated", "PREF_TIE": "tie",
           "PREF_RAMBLE": "truncated"}   # cut by the length cap: finish_reason stop, but cut all the same
if language_check_available():  # the translate extra (heliport: Python >= 3.11), in the dev set
    PLANTED["PREF_LANG"] = "language"


def rows(dsd):
    return [r for s in SPLITS for r in dsd[s]]


def build(cfg, tmp_path, name="hf"):
    return dataset_dict(cfg, cache_dir=str(tmp_path / name), with_report=True)


def ids_of(path: str, n: int) -> list[str]:
    return [f"open_instruct:{Path(path).stem}:all:{i + 1}" for i in range(n)]


def test_every_planted_bad_pair_is_dropped_for_its_reason_and_no_good_one(fake, llm, tmp_path, alpaca):
    recs = [dict(r) for r in alpaca[:48]]
    planted: dict[int, str] = {}
    k = 0
    for marker, reason in PLANTED.items():
        for _ in range(3):   # three of each: PREF_FURNITURE covers '###', 'Paraphrased Text' and 'Note:' by hash
            recs[k]["answer"] += f" {marker}"
            planted[k] = reason
            k += 1
    recs[k]["answer"] = "Note: " + recs[k]["answer"]     # furniture on the chosen side is caught too
    planted[k] = "furniture"
    retried = [k + 1, k + 2]                            # identical at the first attempt, fine at the second
    for i in retried:
        recs[i]["answer"] += " PREF_RETRY"
    path = write_jsonl(tmp_path / "alpaca.jsonl", recs)
    cfg = pref_config(tmp_path, dict(llm, max_retries=1), path, {"strategy": "contrastive", "judge": True})
    dsd, report = build(cfg, tmp_path)
    ids = ids_of(path, len(recs))
    p = report["preference"]

    kept = {r["id"]: r for r in rows(dsd)}
    assert set(kept) == {ids[i] for i in range(len(recs)) if i not in planted}          # none of the good ones lost
    assert p["pairs_in"] == len(recs) and p["pairs"] == len(kept)
    assert p["dropped"] == dict(Counter(planted.values()))                               # 100% of the bad ones
    for i, reason in planted.items():
        assert ids[i] in p["dropped_ids"][reason], (i, reason, recs[i]["answer"][-30:])
    for i, rec in enumerate(recs):
        if i in planted:
            continue
        r = kept[ids[i]]
        assert r["chosen"] == rec["answer"] and r["prompt"] == rec["prompt"]
        assert r["rejected"].startswith("Perhaps ") and r["status"] == "confirmed"
        pref = json.loads(r["meta"])["preference"]
        assert pref["strategy"] == "contrastive" and pref["how"] == "vaguer"
        assert pref["attempt"] == (2 if i in retried else 1)
        assert 0.7 <= pref["temperature"] <= 1.0
        assert pref["judge"]["chosen"] > pref["judge"]["rejected"]
    temps = {json.loads(kept[ids[i]]["meta"])["preference"]["temperature"] for i in retried}
    assert len(temps) == 1 and temps != {json.loads(kept[ids[-1]]["meta"])["preference"]["temperature"]}
    # PREF_CUT: every reply cut off (finish_reason length): counted by the engine as well
    assert p["llm"]["failures"] == {"truncated": 3 * 3}   # 3 rows x 3 attempts
    assert p["status"] == {"confirmed": len(kept)}
    assert p["checks"]["min_word_ratio"] == 0.85 and p["checks"]["max_word_ratio"] == 2.5

    # a rerun reads every reply from the cache and gives the same pairs
    fake.reset()
    again, r2 = build(cfg, tmp_path, "hf2")
    assert fake.stats()["chat"] == 0 and rows(again) == rows(dsd) and r2["preference"]["dropped"] == p["dropped"]


def test_a_judge_that_always_prefers_position_a_is_unshuffled_right(fake, llm, tmp_path, alpaca):
    """sample_and_judge: the chosen reply must be the one the server saw at position A, and the rejected one
    the lowest-numbered candidate among the rest (all scored alike): a wrong un-shuffle (the inverse
    permutation, or none) picks other texts."""
    fake.configure(judge_prefers="first")
    path = write_jsonl(tmp_path / "alpaca.jsonl", alpaca[:30])
    cfg = pref_config(tmp_path, llm, path, {"strategy": "sample_and_judge", "sample_and_judge": {"n": 3}})
    dsd, report = build(cfg, tmp_path)
    seen = {r["request"]: r["shown"] for r in fake.stats()["ranked"]}
    out = rows(dsd)
    # a reply echoing the request and the record's own answer can differ in length beyond the band: dropped
    assert len(out) == report["preference"]["pairs"] >= 12
    assert set(report["preference"]["dropped"]) <= {"length_ratio"}
    positions = Counter()
    for r in out:
        pref = json.loads(r["meta"])["preference"]
        shown, server = pref["shown"], seen[r["prompt"]]
        assert len(shown) == len(server) == 4 and sorted(shown) == [0, 1, 2, 3]   # original + 3 samples
        assert r["chosen"] == server[0] and pref["chosen"] == shown[0]
        rest = min(range(1, 4), key=lambda pos: shown[pos])
        assert r["rejected"] == server[rest] and pref["rejected"] == shown[rest]
        assert pref["scores"][shown[0]] == 9 and sorted(pref["scores"]) == [2, 2, 2, 9]
        positions[shown[0]] += 1
    # the shuffle is real: the original (candidate 0) is not always the one shown first
    assert len(positions) >= 3 and positions[0] < len(out) * 0.7


def test_the_confirming_judge_swaps_when_it_prefers_the_rejected_side(fake, llm, tmp_path, alpaca):
    fake.configure(judge_prefers="first")
    recs = [dict(r, answer=r["answer"] + " Written in 1999 at Lagos by Ada.") for r in alpaca[:24]]
    path = write_jsonl(tmp_path / "alpaca.jsonl", recs)
    cfg = pref_config(tmp_path, llm, path, {"strategy": "corrupt", "corrupt": {"modes": ["swap", "truncate"]},
                                            "judge": {"on_swapped": "swap"}})
    dsd, report = build(cfg, tmp_path)
    seen = {r["request"]: r["shown"] for r in fake.stats()["ranked"]}
    original = {r["prompt"]: r["answer"] for r in recs}
    statuses = Counter()
    for r in rows(dsd):
        shown = seen[r["prompt"]]
        assert r["chosen"] == shown[0] and r["rejected"] == shown[1]     # the judge's preference, un-shuffled
        assert (r["status"] == "confirmed") == (r["chosen"] == original[r["prompt"]])
        judge = json.loads(r["meta"])["preference"]["judge"]
        assert (judge["chosen"], judge["rejected"]) == ((9, 2) if r["status"] == "confirmed" else (2, 9))
        statuses[r["status"]] += 1
    assert statuses["confirmed"] and statuses["swapped"] and report["preference"]["status"] == dict(statuses)

    cfg = pref_config(tmp_path, llm, path, {"strategy": "corrupt", "corrupt": {"modes": ["swap", "truncate"]},
                                            "judge": {"on_swapped": "drop"}})
    dropped, r2 = build(cfg, tmp_path, "hf2")
    assert {r["status"] for r in rows(dropped)} == {"confirmed"}
    assert r2["preference"]["dropped"].get("swapped") == statuses["swapped"]


def test_mixed_strategies_on_generated_qa_keep_documents_in_one_split(fake, llm, tmp_path):
    """qa on the demo wiki (real chunks), then each item's rejected side by one of the four strategies; the
    kto export keeps both rows of a pair, and every document, in one split."""
    from wiki_qa.config import configs_dir, from_dict

    other_model = {"model": "gpt-4o-mini"}
    tree = {"name": "mixed", "source": {"type": "mediawiki", "path": str(configs_dir() / "data" / "demowiki.xml")},
            "chunk": {"max_tokens": 256}, "generate": {"task": "qa", "n": 2},
            "llm": dict(llm, cache=str(tmp_path / "llm.sqlite")), "format": "kto",
            "preference": {"strategy": {"contrastive": 1, "weaker_model": 1, "corrupt": 1, "sample_and_judge": 1},
                           "weaker_model": {"llm": other_model}, "checks": {"max_word_ratio": 3.0},
                           "contrastive": {"worse": "wrong"}},
            "output": {"dir": str(tmp_path / "out")}}
    dsd, report = build(from_dict(tree), tmp_path)
    p = report["preference"]
    assert set(p["strategies"]) == {"contrastive", "weaker_model", "corrupt", "sample_and_judge"}
    for name, s in p["strategies"].items():
        assert s["rows"] > 3 and s["pairs"] > 0, (name, s)
    assert p["models"] == {"contrastive": "fake-model", "weaker_model": "gpt-4o-mini",
                           "sample_and_judge": "fake-model"}
    where: dict[str, set] = {}
    pairs: dict[str, list] = {}
    for s in SPLITS:
        for r in dsd[s]:
            where.setdefault(r["doc_id"], set()).add(s)
            pair_id, side = r["id"].rsplit("/", 1)
            pairs.setdefault(pair_id, []).append((s, side, r["label"]))
    assert all(len(v) == 1 for v in where.values())
    assert all(sorted(x[1:] for x in v) == [("chosen", True), ("rejected", False)] and v[0][0] == v[1][0]
               for v in pairs.values())
    assert len(pairs) == p["pairs"] == sum(dsd[s].num_rows for s in SPLITS) // 2
    hows = {json.loads(r["meta"])["preference"]["how"] for s in SPLITS for r in dsd[s]}
    assert {"wrong", "answer", "ranked"} <= hows and hows & {"swap", "vague", "truncate"}


def test_dedup_and_decontamination_read_the_rejected_side(fake, llm, tmp_path, alpaca):
    recs = [dict(r) for r in alpaca[:20]]
    recs[5]["answer"] = recs[4]["answer"]   # two prompts, one answer: the fake's worse reply is the same for both
    path = write_jsonl(tmp_path / "alpaca.jsonl", recs)
    ids = ids_of(path, len(recs))
    cfg = pref_config(tmp_path, llm, path, {"strategy": "contrastive"}, dedup={"enabled": True})
    dsd, report = build(cfg, tmp_path)
    p = report["preference"]
    assert p["dropped"] == {"duplicate_rejected": 1} and p["dedup_rejected"]["column"] == "rejected"
    kept = {r["id"]: r for r in rows(dsd)}
    assert (ids[4] in kept) != (ids[5] in kept) and len(kept) == 19

    # an eval set holding one pair's rejected text (and nothing of its prompt or chosen side) removes that pair
    train = {r["id"]: r for r in dsd["train"]}
    victim = next(iter(train.values()))
    (tmp_path / "eval.jsonl").write_text(json.dumps({"question": victim["rejected"]}) + "\n")
    cfg = pref_config(tmp_path, llm, path, {"strategy": "contrastive"},
                      decontaminate={"evals": [str(tmp_path / "eval.jsonl")], "ngram": 8, "min_words": 5})
    clean, r2 = build(cfg, tmp_path, "hf2")
    assert victim["id"] not in {r["id"] for r in clean["train"]}
    assert r2["decontaminate"]["removed"] >= 1
    assert victim["id"] in {m["row_id"] for m in r2["decontaminate"]["matches"]}


def test_config_errors_are_one_line_user_errors(fake, llm, tmp_path, alpaca):
    path = write_jsonl(tmp_path / "alpaca.jsonl", alpaca[:3])
    with pytest.raises(UserError, match="unknown strategy 'contrastiv'"):
        pref_config(tmp_path, llm, path, {"strategy": "contrastiv"})
    with pytest.raises(UserError, match="weaker_model needs weaker_model.llm"):
        pref_config(tmp_path, llm, path, {"strategy": "weaker_model"})
    with pytest.raises(UserError, match="set format: preference"):
        run(pref_config(tmp_path, llm, path, {"strategy": "corrupt"}, fmt="completion"))
    with pytest.raises(UserError, match="needs a preference: section"):
        run(pref_config(tmp_path, llm, path, None))
    with pytest.raises(UserError, match="preference.judge.llm"):
        run(pref_config(tmp_path, llm, path, {"strategy": "corrupt", "judge": {"llm": {"concurrency": 0}}}))
    with pytest.raises(UserError, match="did you mean 'preference.checks'"):
        pref_config(tmp_path, llm, path, {"strategy": "corrupt", "check": {}})


def test_dry_run_estimates_the_preference_requests_and_sends_none(fake, llm, tmp_path, alpaca):
    from wiki_qa.orchestrator import dry_run

    path = write_jsonl(tmp_path / "alpaca.jsonl", alpaca[:40])
    cfg = pref_config(tmp_path, llm, path, {"strategy": {"contrastive": 1, "sample_and_judge": 1, "corrupt": 1},
                                            "judge": True, "sample_and_judge": {"n": 2}})
    est = dry_run(cfg)["preference"]
    by = est["by_strategy"]
    assert sum(by.values()) == est["rows"] == 40 and all(by.values())
    # contrastive: 3 attempts; sample_and_judge: 2 samples + 1 ranking; the confirming judge: every pair
    assert est["requests"] == by["contrastive"] * 3 + by["sample_and_judge"] * 3 + 40
    assert est["prompt_tokens"] > 0 and est["completion_tokens_est"] > 0 and est["upper_bound"]
    assert fake.stats()["chat"] == 0


def test_a_preference_prompt_file_must_lie_in_the_configs_folder(tmp_path, alpaca):
    """prompt_file is sent to the LLM server: under preference: (and judge:) it is confined like generate:'s."""
    from wiki_qa.config import load_config

    outside = tmp_path / "elsewhere" / "secret.txt"
    outside.parent.mkdir()
    outside.write_text("not for the LLM server")
    folder = tmp_path / "cfg"
    folder.mkdir()
    path = write_jsonl(folder / "a.jsonl", alpaca[:3])
    for section in ({"preference": {"strategy": "contrastive", "contrastive": {"prompt_file": str(outside)}}},
                    {"preference": {"strategy": "corrupt"}, "judge": {"prompt_file": str(outside)}}):
        (folder / "p.yaml").write_text(json.dumps({"name": "p", "source": {"type": "open_instruct", "path": path},
                                                   "format": "preference", **section}))
        with pytest.raises(UserError, match="outside the config's folder"):
            load_config(str(folder / "p.yaml"))
    (folder / "mine.txt").write_text("Rewrite {chosen} to be {worse}.")
    (folder / "p.yaml").write_text(json.dumps({
        "name": "p", "source": {"type": "open_instruct", "path": path}, "format": "preference",
        "preference": {"strategy": "contrastive", "contrastive": {"prompt_file": "mine.txt"}}}))
    cfg = load_config(str(folder / "p.yaml"))
    assert cfg.preference.contrastive.prompt_file == str((folder / "mine.txt").resolve())


def test_weaker_model_answers_on_its_own_endpoint(fake, llm, tmp_path, alpaca):
    from tests.llm.conftest import FakeServer

    other = FakeServer()
    try:
        other.reset()
        path = write_jsonl(tmp_path / "alpaca.jsonl", alpaca[:12])
        cfg = pref_config(tmp_path, llm, path, {"strategy": "weaker_model", "weaker_model": {
            "llm": {"base_url": other.base_url, "model": "gpt-4o-mini"}, "attempts": 2}})
        dsd, report = build(cfg, tmp_path)
        p = report["preference"]
        assert fake.stats()["chat"] == 0 and other.stats()["chat"] == p["llm"]["requests"] >= 12
        assert p["models"] == {"weaker_model": "gpt-4o-mini"} and p["pairs"] > 0
        for r in rows(dsd):
            assert r["rejected"] == f"Surely {r['prompt']}"       # the other server's answer to the bare prompt
            assert json.loads(r["meta"])["preference"] == {"strategy": "weaker_model", "how": "answer",
                                                           "model": "gpt-4o-mini", "attempt": 1}
    finally:
        other.stop()
