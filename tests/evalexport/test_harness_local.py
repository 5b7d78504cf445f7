"""lm-evaluation-harness itself runs exported folders against the bundled local model (llama.cpp's
OpenAI-compatible server, SmolLM2-135M): 20 rows of a multiple-choice task (real MMLU) and 20 of a generative
QA task (the `qa` task's output). Structure only: a 135M model's scores say nothing about the data.

The multiple-choice task is run in its `_gen` form: log-likelihood scoring needs the prompt's log-probabilities
(`echo` in /v1/completions), which llama.cpp's server does not return; the harness's request building for
that form is checked in test_export.py."""
from __future__ import annotations

import json

import pytest

from wiki_qa.evalexport import export_eval
from wiki_qa.llm import local_server

from .conftest import DEMO_WIKI, MMLU_AS_EVAL

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def test_lm_eval_scores_the_bundled_model_on_an_mc_and_a_qa_export(build_dir, data_dir, tmp_path, llm, monkeypatch):
    try:
        local_server.model_path()
    except Exception as e:  # noqa: BLE001 - the model is an optional install
        pytest.skip(f"bundled model not installed: {e}")
    import lm_eval
    from lm_eval.tasks import TaskManager

    mmlu = build_dir("mmlu", {"source": {"type": "mmlu", "path": str(data_dir / "mmlu"), "splits": MMLU_AS_EVAL,
                                         "subjects": ["anatomy", "astronomy"], "completion": "letter"},
                              "format": "completion"})
    qa = build_dir("wiki-qa", {"source": {"type": "mediawiki", "path": str(DEMO_WIKI), "namespaces": [0]},
                               "chunk": {"max_tokens": 96, "min_words": 10}, "generate": {"task": "qa", "n": 1},
                               "llm": llm, "format": "completion", "split": {"train": 0.2, "val": 0.2, "test": 0.6}})
    mc_task = export_eval(str(mmlu), str(tmp_path / "mc"))["tasks"][1]
    qa_task = export_eval(str(qa), str(tmp_path / "qa"))["tasks"][0]
    assert (mc_task, qa_task) == ("wiki_qa_mmlu_gen", "wiki_qa_wiki_qa")

    tm = TaskManager(include_path=[str(tmp_path / "mc"), str(tmp_path / "qa")], include_defaults=False)
    monkeypatch.setenv("WIKI_QA_LLM_THREADS", "1")      # the shared 2-core machine (the server reads it at start)
    with local_server.serve(parallel=2) as (url, key):
        monkeypatch.setenv("OPENAI_API_KEY", key)  # the harness's local-completions sends it; the server asks for it
        res = lm_eval.simple_evaluate(
            model="local-completions", tasks=[mc_task, qa_task], task_manager=tm, num_fewshot=1, limit=20,
            model_args={"model": local_server.DEFAULT_MODEL, "base_url": f"{url}/completions",
                        "tokenizer_backend": "none", "tokenized_requests": False, "num_concurrent": 2,
                        "max_retries": 2},
            gen_kwargs={"max_gen_toks": 32}, log_samples=True)

    for task, metrics in ((mc_task, ["exact_match"]), (qa_task, ["exact_match", "f1"])):
        result, samples = res["results"][task], res["samples"][task]
        assert result["sample_len"] == len(samples) == 20
        for metric in metrics:
            per_row = [s[metric] for s in samples]
            assert all(0.0 <= v <= 1.0 for v in per_row)
            assert result[f"{metric},none"] == pytest.approx(sum(per_row) / 20)   # the harness's mean of ours
        replies = [s["resps"][0][0] for s in samples]
        assert sum(bool(r.strip()) for r in replies) >= 15, replies            # the model did answer
        assert all(s["arguments"][0][0].endswith("\nAnswer:") for s in samples)
    print(json.dumps({t: res["results"][t] for t in (mc_task, qa_task)}))          # shown with -s
