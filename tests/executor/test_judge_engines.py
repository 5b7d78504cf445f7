"""The judge, the round trip and qa_multihop give the same rows, ids and order on the local and the Ray
engine."""
from __future__ import annotations

import pytest

from tests.llm.test_judge import WIKI
from wiki_qa.config import from_dict
from wiki_qa.orchestrator import dataset_dict
from wiki_qa.rows import SPLITS


@pytest.mark.parametrize("task", ["qa", "qa_multihop"])
def test_same_rows_on_both_engines(ray_local, fake_servers, tmp_path, monkeypatch, task):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    good = fake_servers["good"]
    good.reset()
    llm = {"model": "fake-model", "base_url": good.base_url, "concurrency": 8, "max_retries": 5, "timeout_s": 2.0}
    tree = {"name": "eng", "source": {"type": "mediawiki", "path": str(WIKI)}, "chunk": {"max_tokens": 256},
            "generate": {"task": task, "n": 2, "question_types": {"factoid": 0.5, "how": 0.5},
                         "validate": {"roundtrip": True}},
            "llm": dict(llm, cache=str(tmp_path / "llm.sqlite")), "judge": {"min_score": 3},
            "format": "completion"}
    out = {}
    for engine in ("local", "ray"):
        cfg = from_dict({**tree, "engine": engine})
        out[engine] = dataset_dict(cfg, cache_dir=str(tmp_path / engine), with_report=True)
    (a, ra), (b, rb) = out["local"], out["ray"]
    assert sum(a[s].num_rows for s in SPLITS) > 0 and ra["judge"]["kept"] == sum(a[s].num_rows for s in SPLITS)
    for s in SPLITS:
        assert a[s].to_list() == b[s].to_list(), s
    for key in ("judge", "items", "roundtrip"):
        assert same(ra[key]) == same(rb[key]), key
    assert ra["roundtrip"]["checked"] >= ra["roundtrip"]["kept"] > 0
    assert rb["judge"]["llm"]["cache_hits"] == ra["judge"]["llm"]["requests"]  # Ray reused the local answers


def same(section: dict) -> dict:
    """A report section without its LLM counters (the Ray run is served from the local run's cache)."""
    return {k: v for k, v in section.items() if k not in ("llm", "vs_generation")}
