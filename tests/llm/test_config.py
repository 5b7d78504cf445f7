"""The `generate:` (task) and `llm:` (engine) sections, the legacy flat shape, and one map for all splits."""
from __future__ import annotations

import logging

import datasets
import pytest

from wiki_qa.config import from_dict, shipped_configs
from wiki_qa.errors import UserError
from wiki_qa.executor import local
from wiki_qa.llm import LLMConfig, LLMStats, generate
from wiki_qa.llm.config import migrate_legacy, resolve
from wiki_qa.llm.tasks import TASKS
from wiki_qa.llm.tasks.mcq import MCQ
from wiki_qa.llm.tasks.qa import QA

SRC = {"type": "text", "path": "x.txt"}


def test_new_shape_task_config_by_task_and_engine_defaults():
    cfg = from_dict({"name": "x", "source": SRC, "generate": {"task": "mcq", "n": 2, "mcq_answer": "text"},
                     "llm": {"model": "m", "concurrency": 4}})
    assert isinstance(cfg.generate, MCQ.Config) and cfg.generate.n == 2 and cfg.generate.mcq_answer == "text"
    assert cfg.llm.model == "m" and cfg.llm.concurrency == 4 and cfg.llm.max_retries == 5
    echo = cfg.echo()
    assert echo["generate"]["mcq_answer"] == "text" and echo["llm"]["model"] == "m"
    # no task: qa; no llm: all defaults
    cfg = from_dict({"name": "x", "source": SRC, "generate": {"n": 3}})
    assert isinstance(cfg.generate, QA.Config) and cfg.llm == LLMConfig()


def test_legacy_flat_generate_is_migrated_with_a_warning(caplog, monkeypatch):
    monkeypatch.setenv("LLM_URL", "http://internal-gpu:8000/v1")
    tree = {"name": "x", "source": SRC, "generate": {
        "task": "qa", "model": "gpt-4o", "base_url": "${LLM_URL}", "concurrency": 7, "n": 2,
        "validate": {"grounding_threshold": 0.1}}}
    with caplog.at_level(logging.WARNING, logger="wiki_qa"):
        cfg = from_dict(tree)
    assert "base_url, concurrency, model" in caplog.text and "llm:" in caplog.text
    assert cfg.generate.n == 2 and cfg.generate.validate_.grounding_threshold == 0.1
    assert (cfg.llm.model, cfg.llm.base_url, cfg.llm.concurrency) == ("gpt-4o", "http://internal-gpu:8000/v1", 7)
    echo = cfg.echo()  # the interpolated URL is still masked after the move
    assert echo["llm"]["base_url"] == "***" and "internal-gpu" not in str(echo)


def test_migrate_legacy_in_place_and_generate_wins_over_llm():
    tree = {"generate": {"task": "qa", "model": "a", "n": 1}, "llm": {"model": "b", "concurrency": 3}}
    assert migrate_legacy(tree) == ["model"]
    assert tree == {"generate": {"task": "qa", "n": 1}, "llm": {"model": "a", "concurrency": 3}}
    assert migrate_legacy({"name": "no-llm-step"}) == []


def test_shipped_configs_use_the_new_shape():
    import yaml

    for name, path in shipped_configs().items():
        tree = yaml.safe_load(path.read_text())
        if "generate" in tree:
            assert migrate_legacy(dict(tree, generate=dict(tree["generate"]))) == [], name


@pytest.mark.parametrize("gen, msg", [
    ({"task": "nope"}, "generate: unknown task 'nope'"),
    ({"task": "qa", "nn": 2}, "'generate.nn'"),
    ({"task": "qa", "mcq_answer": "text"}, "'generate.mcq_answer'"),   # another task's field
    ({"task": "custom"}, "custom needs prompt_template"),
    ({"task": "mcq", "n": 0}, "generate.n"),
])
def test_bad_generate_sections_are_one_line_user_errors(gen, msg):
    with pytest.raises(UserError) as e:
        from_dict({"name": "x", "source": SRC, "generate": gen})
    assert msg in str(e.value) and "\n" not in str(e.value)


def test_resolve_accepts_names_dicts_configs_and_legacy_flat_dicts():
    t, llm = resolve("mcq", {"model": "m", "n": 4})
    assert t.name == "mcq" and t.cfg.n == 4 and llm.model == "m"
    t, _ = resolve(QA.Config(n=1), {"n": 2, "model": "m"})
    assert t.cfg.n == 2
    t, _ = resolve(None, {"task": "paraphrase"})
    assert t.name == "paraphrase" and set(TASKS) >= {"qa", "mcq", "paraphrase", "custom"}
    with pytest.raises(UserError, match="llm.concurrency"):
        resolve("qa", {"concurrency": 0})


def _split_dict(rows):
    by = {s: [r for r in rows if r["split"] == s] for s in ("train", "val", "test")}
    by["test"] = []  # an empty split goes through too
    feats = datasets.Dataset.from_list(rows).features
    return datasets.DatasetDict({s: datasets.Dataset.from_dict({c: [r[c] for r in v] for c in feats}, features=feats)
                                 for s, v in by.items()})


def test_local_executor_maps_all_splits_in_one_run(real_chunks, fake, llm, tmp_path):
    rows = [dict(r, split="val" if i % 3 == 0 else "train") for i, r in enumerate(real_chunks[:12])]
    dsd = _split_dict(rows)
    per_split = {s: generate(dsd[s], "qa", dict(llm, cache=str(tmp_path / "a.sqlite"))).to_list()
                 for s in ("train", "val")}
    fake.reset()
    st = LLMStats()
    out = local.generate(dsd, {"task": "qa"}, dict(llm, cache=str(tmp_path / "b.sqlite")), stats=st)
    s = fake.stats()
    assert s["requests"] - s["chat"] == 1  # one preflight: one engine (one local server) for all splits
    assert s["chat"] == len(rows) == st.outcomes["ok"]
    assert out["train"].to_list() == per_split["train"] and out["val"].to_list() == per_split["val"]
    assert out["test"].num_rows == 0 and out["test"].column_names == out["train"].column_names
    assert "_split" not in out["train"].column_names


def test_llm_section_errors_name_the_key():
    with pytest.raises(UserError, match="no Batch API"):
        from_dict({"name": "x", "source": SRC, "generate": {}, "llm": {"provider": "local", "batch": True}})
    with pytest.raises(UserError, match="llm.tpm"):
        from_dict({"name": "x", "source": SRC, "generate": {}, "llm": {"tpm": -1}})
    cfg = from_dict({"name": "x", "source": SRC, "generate": {}, "llm": {"batch": True, "endpoints": [
        {"base_url": "http://a/v1", "tpm": 1000, "rpm": 10}]}})
    assert cfg.llm.batch.price_factor == 0.5 and cfg.llm.endpoints[0].limits() == {"rpm": 10, "tpm": 1000}
