"""TRL's own data utilities (the real package, trl.data_utils) take wiki_qa's preference and kto output as it is,
in both styles, and a kto export round-trips: through save_to_disk/load_from_disk and load_dataset("wiki_qa"),
and against TRL's unpair_preference_dataset of the same build's pairs.

TRL is installed without its declared dependencies (requirements/dev-nodeps.in: accelerate pulls torch);
trl.data_utils needs only transformers, which needs no torch. The tokenizer is a real transformers fast tokenizer
(byte-level BPE trained here on the rows, with a ChatML template written for this test): no download.
"""
from __future__ import annotations

import json
from collections import Counter

import datasets
import pytest
import yaml

from tests.preference.conftest import write_jsonl
from wiki_qa.config import from_dict
from wiki_qa.orchestrator import run
from wiki_qa.rows import SPLITS

trl_data = pytest.importorskip("trl.data_utils", reason="trl is in the dev set (requirements/dev-nodeps.in)")

CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
PREFERENCE = {"strategy": "corrupt", "corrupt": {"modes": ["swap", "vague", "truncate"]}}


def tree(tmp_path, path, fmt: dict, name: str) -> dict:
    return {"name": name, "source": {"type": "open_instruct", "path": path, "preset": "prompt_answer"},
            "preference": PREFERENCE, "format": fmt, "split": {"train": 0.6, "val": 0.2, "test": 0.2, "seed": 3},
            "output": {"dir": str(tmp_path / name)}}


@pytest.fixture(scope="module")
def builds(tmp_path_factory, alpaca):
    """One corrupt-strategy build (no LLM needed) of 60 real Alpaca records in each format and style."""
    tmp = tmp_path_factory.mktemp("trl")
    path = write_jsonl(tmp / "alpaca.jsonl", alpaca)
    out = {}
    for fmt in ("preference", "kto"):
        for style in ("standard", "conversational"):
            name = f"{fmt}-{style}"
            cfg = from_dict(tree(tmp, path, {"type": fmt, "style": style, "system": "Be brief."}, name),
                            tmp / f"{name}.yaml")
            out[name] = (run(cfg, publish=False), datasets.load_from_disk(str(tmp / name)), tmp)
    return out


@pytest.fixture(scope="module")
def tokenizer(alpaca):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1500, special_tokens=["<unk>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([r["prompt"] + "\n" + r["answer"] for r in alpaca], trainer)
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<|im_end|>")
    hf.chat_template = CHATML
    return hf


def rows(dsd):
    return [r for s in SPLITS for r in dsd[s]]


def test_standard_pairs_are_trls_standard_preference_type_unchanged(builds):
    report, dsd, tmp = builds["preference-standard"]
    assert report["preference"]["pairs"] == sum(dsd[s].num_rows for s in SPLITS) > 40
    card = (tmp / "preference-standard" / "README.md").read_text()   # the card says how rejected was made
    assert "### Preference pairs" in card and "| corrupt | no LLM: a name or number swapped" in card
    for r in rows(dsd):
        assert not trl_data.is_conversational(r)
        assert trl_data.maybe_extract_prompt(r) is r            # an explicit prompt: nothing to extract
        assert trl_data.maybe_apply_chat_template(r, None) is r  # strings: no template applies
        assert all(isinstance(r[k], str) and r[k] for k in ("prompt", "chosen", "rejected"))
        assert r["chosen"] != r["rejected"]


def test_conversational_pairs_render_through_trls_chat_template_helpers(builds, tokenizer):
    _, dsd, _ = builds["preference-conversational"]
    rendered = dsd.map(trl_data.maybe_apply_chat_template, fn_kwargs={"processing_class": tokenizer})
    for r, t in zip(rows(dsd), rows(rendered)):
        assert trl_data.is_conversational(r) and trl_data.maybe_extract_prompt(r) is r
        assert [m["role"] for m in r["prompt"]] == ["system", "user"]
        assert r["chosen"][0]["role"] == r["rejected"][0]["role"] == "assistant"
        # TRL's prompt ends in the generation prompt; chosen/rejected are exactly the assistant turns
        assert t["prompt"] == tokenizer.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True)
        assert t["chosen"] == r["chosen"][0]["content"] + "<|im_end|>\n"
        assert t["rejected"] == r["rejected"][0]["content"] + "<|im_end|>\n"
        # what DPOTrainer._prepare_dataset does next: the tokenized prompt is a clean prefix of prompt + answer
        p = trl_data._tokenize(tokenizer, r["prompt"], add_generation_prompt=True)["input_ids"]
        for side in ("chosen", "rejected"):
            full = trl_data._tokenize(tokenizer, r["prompt"] + r[side])["input_ids"]
            assert trl_data.common_prefix_length(p, full) == len(p) < len(full)


def _key(r: dict) -> str:
    return json.dumps({k: v for k, v in r.items() if k != "id"}, sort_keys=True)


@pytest.mark.parametrize("style", ["standard", "conversational"])
def test_kto_export_is_trls_unpairing_of_the_same_pairs_and_round_trips(builds, tokenizer, style):
    _, pairs, tmp = builds[f"preference-{style}"]
    report, kto, _ = builds[f"kto-{style}"]
    for s in SPLITS:
        unpaired = trl_data.unpair_preference_dataset(pairs[s])
        assert Counter(map(_key, unpaired)) == Counter(map(_key, kto[s]))   # the same rows, ids aside
        assert trl_data.maybe_unpair_preference_dataset(kto[s]) is kto[s]    # already unpaired: left alone
    by_pair: dict[str, dict] = {}
    for r in rows(kto):
        pair, side = r["id"].rsplit("/", 1)
        by_pair.setdefault(pair, {})[side] = r
        assert trl_data.is_conversational(r) == (style == "conversational")
        t = trl_data.maybe_apply_chat_template(r, tokenizer)
        assert t["label"] is r["label"] and set(t) >= {"prompt", "completion", "label"}
    # paired again, the kto rows are the preference rows
    again = {p: (v["chosen"]["prompt"], v["chosen"]["completion"], v["rejected"]["completion"])
             for p, v in by_pair.items() if v["chosen"]["label"] and not v["rejected"]["label"]}
    assert again == {r["id"]: (r["prompt"], r["chosen"], r["rejected"]) for r in rows(pairs)}
    assert report["splits"] == {s: kto[s].num_rows for s in SPLITS}
    # load_dataset("wiki_qa", yaml) builds the same rows with the same features (message lists too)
    if style == "conversational":
        import wiki_qa  # noqa: F401  (registers the builder)

        cfg_path = tmp / "kto-conversational.yaml"
        t = tree(tmp, str(tmp / "alpaca.jsonl"), {"type": "kto", "style": style, "system": "Be brief."}, "kto-ld")
        cfg_path.write_text(yaml.safe_dump(t))
        loaded = datasets.load_dataset("wiki_qa", str(cfg_path))
        for s in SPLITS:
            assert loaded[s].features == kto[s].features and loaded[s].to_list() == kto[s].to_list()


def test_a_template_gives_the_seeds_instruction_input_chosen_rejected_layout(tmp_path, alpaca):
    path = write_jsonl(tmp_path / "alpaca.jsonl", alpaca[:20])
    layout = {"instruction": "Answer the request.", "input": "{prompt}", "chosen": "{chosen}",
              "rejected": "{rejected}"}
    cfg = from_dict(tree(tmp_path, path, {"type": "preference", "columns": layout}, "seed-layout"))
    run(cfg, publish=False)
    dsd = datasets.load_from_disk(str(tmp_path / "seed-layout"))
    prompts = {r["prompt"] for r in alpaca[:20]}
    for r in rows(dsd):
        assert list(r)[:5] == ["instruction", "input", "chosen", "rejected", "status"]
        assert r["instruction"] == "Answer the request." and r["input"] in prompts
        assert trl_data.maybe_extract_prompt({"prompt": r["input"], "chosen": r["chosen"], "rejected": r["rejected"]})
