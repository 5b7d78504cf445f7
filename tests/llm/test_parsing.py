"""Tolerant parsing and per-item validators: pure functions, no server."""
import json

import pytest

from wiki_qa.llm import parsing as P
from wiki_qa.llm.config import GenerateConfig
from wiki_qa.llm.tasks import mcq, paraphrase, qa

ROW = {"id": "d#0", "title": "Paris", "lang": "en", "meta": "{}", "source": "mediawiki:x",
       "text": "Paris\n\nParis is the capital of France. The Eiffel Tower was finished in 1889.\n\n"
               "The Seine river flows through the city centre of Paris from east to west."}
CFG = GenerateConfig()
ITEMS = [{"question": "What is the capital of France?", "answer": "Paris is the capital"},
         {"question": "When was the Eiffel Tower finished?", "answer": "1889"}]


@pytest.mark.parametrize("text", [
    json.dumps({"items": ITEMS}),
    "Sure!\n```json\n" + json.dumps({"items": ITEMS}) + "\n```\nHope it helps",
    "\n".join(json.dumps(i) for i in ITEMS),                 # JSONL
    ", ".join(json.dumps(i) for i in ITEMS),                 # comma-joined objects
    json.dumps(ITEMS),                                       # bare array
])
def test_tolerant_shapes_give_the_same_items(text):
    good, dropped = qa.parse(ROW, text, CFG)
    assert [g["prompt"] for g in good] == [i["question"] for i in ITEMS] and dropped == []


def test_no_json_is_a_parse_error():
    with pytest.raises(P.ParseError):
        qa.parse(ROW, "I cannot help with that.", CFG)


def test_arrays_and_numbers_coerced_to_strings():
    good, _ = qa.parse(ROW, json.dumps({"items": [{"question": "When was the tower finished?", "answer": [1889]}]}), CFG)
    assert good[0]["completion"] == "1889"


def test_bad_items_dropped_with_reasons_good_ones_kept():
    items = ITEMS + [{"question": "What is it?", "answer": "..."},
                     {"question": "Who?", "answer": "[answer]"},
                     {"question": "What is the capital of France?", "answer": "Paris"},       # duplicate
                     {"question": "Who painted it?", "answer": "Leonardo da Vinci in Milan"},  # ungrounded
                     {"question": "", "answer": "Paris"}, "just a string"]
    good, dropped = qa.parse(ROW, json.dumps({"items": items}), CFG)
    assert len(good) == 2
    assert sorted(dropped) == sorted(["placeholder_answer", "placeholder_answer", "duplicate_question",
                                      "ungrounded_answer", "empty_question", "not_an_object"])


def test_grounding_threshold_is_configurable():
    item = {"items": [{"question": "Who painted it?", "answer": "Leonardo da Vinci of Paris"}]}
    assert qa.parse(ROW, json.dumps(item), CFG)[0] == []
    loose = GenerateConfig(validate={"grounding_threshold": 0.2})
    assert len(qa.parse(ROW, json.dumps(item), loose)[0]) == 1


def test_mcq_letter_text_and_validation():
    item = {"question": "What is the capital of France?", "options": ["Lyon", "Paris", "Nice", "Lille"], "answer": "B"}
    bad = {"question": "Which river?", "options": ["Seine", "Seine", "Loire", "Rhone"], "answer": "A"}
    good, dropped = mcq.parse(ROW, json.dumps({"items": [item, bad]}), CFG)
    assert good[0]["completion"] == "B" and good[0]["prompt"].endswith("B. Paris\nC. Nice\nD. Lille\nAnswer:")
    assert dropped == ["options_not_4_distinct"]
    good, _ = mcq.parse(ROW, json.dumps({"items": [dict(item, answer="Paris")]}),
                        GenerateConfig(mcq_answer="text", completion_leading_space=True))
    assert good[0]["completion"] == " Paris"


def test_paraphrase_validators_and_direction():
    paras = paraphrase.paragraphs(ROW)
    assert len(paras) == 2 and not paras[0].startswith("Paris\n")
    replies = ["### Paraphrased Text: Paris is France's capital city; the Eiffel Tower was done in 1889.",
               "The Seine river runs through central Paris,\n\nfrom the east to the west side."]
    good, dropped = paraphrase.parse(ROW, json.dumps({"items": replies}), CFG)
    assert good == [] and dropped == ["banned_phrase", "not_single_paragraph"]
    ok = ["Paris is France's capital city, and the Eiffel Tower was completed in 1889.", "Too short."]
    good, dropped = paraphrase.parse(ROW, json.dumps({"items": ok}), CFG)
    assert dropped == ["word_ratio"] and good[0]["completion"] == paras[0] and good[0]["prompt"] == ok[0]
    rev = GenerateConfig(paraphrase_direction="original_to_synthetic")
    assert paraphrase.parse(ROW, json.dumps({"items": ok}), rev)[0][0]["prompt"] == paras[0]


def test_prompt_language_context_and_instruction():
    row = dict(ROW, lang="yo", meta=json.dumps({"topic": "geography"}))
    cfg = GenerateConfig(instructions={"geography": "Ask about places."}, include_context=True)
    user = qa.prompt(row, cfg)[-1]["content"]
    assert "in Yoruba" in user and "Ask about places." in user and row["text"] in user
    assert "in Hausa" in qa.prompt(row, GenerateConfig(language="ha"))[-1]["content"]
    good, _ = qa.parse(row, json.dumps({"items": ITEMS[:1]}), cfg)
    assert good[0]["prompt"].startswith(row["text"]) and good[0]["prompt"].endswith(ITEMS[0]["question"])


def test_default_n_follows_chunk_length():
    assert qa.n_items(dict(ROW, text="x" * 1200), CFG) == 3
    assert qa.n_items(dict(ROW, text="x" * 99999), CFG) == 10
    assert qa.schema(ROW, CFG)["properties"]["items"]["maxItems"] == 1
