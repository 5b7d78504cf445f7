"""The dataset card written into every build folder, and secret masking for echoes and messages."""
from __future__ import annotations

import json

import pytest
import yaml

from wiki_qa.publish.card import render_card, size_category, write_card
from wiki_qa.publish.hub import merge_body, merge_metadata
from wiki_qa.secrets import MASK, mask_secrets, redact

from .conftest import SECRET, make_build, make_report


def _split(text):
    _, head, body = text.split("---", 2)
    return yaml.safe_load(head), body


def test_card_has_metadata_provenance_generation_and_yaml(build_dir):
    text = (build_dir / "README.md").read_text()
    meta, body = _split(text)
    assert meta["license"] == "cc-by-sa-4.0"
    assert meta["language"] == ["yo"]  # from the rows' lang column and source.lang
    assert meta["task_categories"] == ["question-answering", "text-generation"]
    assert meta["size_categories"] == ["n<1K"]
    assert "ab" * 32 in body and "`dumps/yowiki.xml.bz2`" in body  # source file (relative) + sha256
    assert "| train | 6 |" in body and "| total | 10 |" in body
    assert "| source: redirect | 7 |" in body and "| generation: unparseable_json | 1 |" in body
    assert "gpt-4o-mini" in body and "Write one question about:" in body and '"temperature": 0.2' in body
    assert "CC BY-SA" in body and "terms of the model" in body
    yaml_block = body.split("```yaml\n", 1)[1].split("```", 1)[0]
    echoed = yaml.safe_load(yaml_block)
    assert echoed["source"]["type"] == "mediawiki" and echoed["generate"]["api_key"] == MASK
    assert SECRET not in text


@pytest.mark.parametrize("stype, license_id, caveat", [
    ("mediawiki", "cc-by-sa-4.0", "CC BY-SA"), ("bbc", "other", "(c) BBC"), ("mmlu", "mit", "MIT"),
    ("open_instruct", "cc-by-nc-4.0", "non-commercial"), ("alpaca", "cc-by-nc-4.0", "non-commercial"),
    ("text", "unknown", "whatever the input files carry"),
])
def test_licence_follows_the_source(stype, license_id, caveat):
    report = make_report("x", source_type=stype, generate=False)
    meta, body = _split(render_card(report, "name: x\n"))
    assert meta["license"] == license_id and caveat in body
    assert "terms of the model" not in body  # no generation, no model caveat


def test_secret_in_config_yaml_text_is_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    d = make_build(tmp_path / "b", card=False)
    text = write_card(d, json.loads((d / "build_report.json").read_text()), f"generate:\n  api_key: {SECRET}\n")
    assert SECRET not in text and (d / "README.md").read_text() == text


def test_size_categories():
    assert [size_category(n) for n in (0, 999, 1000, 250_000, 5_000_000)] == [
        "n<1K", "n<1K", "1K<n<10K", "100K<n<1M", "1M<n<10M"]


def test_mask_secrets_keys_interpolation_and_urls():
    raw = {"generate": {"model": "m", "base_url": "${LLM_URL}", "api_key": "${OPENAI_API_KEY}",
                        "headers": ["${H}", "plain"]},
           "chunk": {"max_tokens": 1024, "encoding": "cl100k_base"}}
    cfg = {"generate": {"model": "m", "base_url": "http://internal:8000", "api_key": SECRET,
                        "headers": ["Bearer " + SECRET, "plain"]},
           "chunk": {"max_tokens": 1024, "encoding": "cl100k_base"},
           "output": {"s3": "s3://b/x.tar.gz", "hf_token": "hf_abc", "secretAccessKey": "k", "password": None},
           "source": {"url": f"https://user:{SECRET}@host/x"}}
    out = mask_secrets(cfg, raw)
    assert out["generate"] == {"model": "m", "base_url": MASK, "api_key": MASK, "headers": [MASK, "plain"]}
    assert out["chunk"] == {"max_tokens": 1024, "encoding": "cl100k_base"}  # not secrets despite "token"
    assert out["output"] == {"s3": "s3://b/x.tar.gz", "hf_token": MASK, "secretAccessKey": MASK, "password": None}
    assert out["source"]["url"] == f"https://{MASK}@host/x"
    assert SECRET not in json.dumps(out) and cfg["generate"]["api_key"] == SECRET  # input untouched


def test_redact_env_values(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_" + SECRET)
    assert redact(f"401 for token hf_{SECRET} at https://u:p@x/") == f"401 for token {MASK} at https://{MASK}@x/"


def test_hub_card_merge_keeps_datasets_keys_and_replaces_sections_in_place():
    hub = {"configs": [{"config_name": "a"}], "dataset_info": [{"config_name": "a"}], "license": "mit",
           "language": ["en"], "size_categories": ["1K<n<10K"]}
    local = {"license": "mit", "language": ["yo"], "size_categories": ["n<1K"], "task_categories": ["x"]}
    m = merge_metadata(hub, local)
    assert m["configs"] == hub["configs"] and m["dataset_info"] == hub["dataset_info"]
    assert m["license"] == "mit" and m["language"] == ["en", "yo"] and m["size_categories"] == ["1K<n<10K"]
    assert merge_metadata(hub, {"license": "cc-by-sa-4.0"})["license"] == "other"

    body = merge_body("", "org/r", "a", "## Config `a` v1")
    body = merge_body(body, "org/r", "b", "## Config `b`")
    again = merge_body(body, "org/r", "a", "## Config `a` v2")
    assert again.index("v2") < again.index("Config `b`") and "v1" not in again
    assert again.count("wiki_qa:begin a") == 1 and again.startswith("# org/r")
