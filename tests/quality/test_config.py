import pytest
from pydantic import ValidationError

from wiki_qa.quality.config import CheckConfig, DecontaminateConfig, DedupConfig


def test_unknown_keys_are_errors():
    with pytest.raises(ValidationError):
        DedupConfig(treshold=0.5)
    with pytest.raises(ValidationError):
        CheckConfig(max_tokens=10)


def test_eval_strings_guess_their_type(tmp_path, mmlu_dir):
    f = tmp_path / "ev.jsonl"
    f.write_text('{"q": "x"}\n')
    cfg = DecontaminateConfig(evals=[str(mmlu_dir), str(f), "cais/mmlu"])
    assert [e.type for e in cfg.evals] == ["mmlu", "file", "hub"]
    with pytest.raises(ValidationError):
        DecontaminateConfig(evals=["./no/such/file.jsonl"])


def test_check_model_needs_a_price():
    with pytest.raises(ValidationError, match="no entry in prices"):
        CheckConfig(model="my-model")
    assert CheckConfig(model="my-model", prices={"my-model": 2.0}).prices == {"my-model": 2.0}


def test_min_words_cannot_exceed_ngram():
    with pytest.raises(ValidationError):
        DecontaminateConfig(ngram=5, min_words=8)
