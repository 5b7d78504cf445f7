"""Tolerant parsing and per-item validators: pure functions, no server."""
import json

import pytest

from wiki_qa.llm import parsing as P
from wiki_qa.llm.tasks.mcq import MCQ
from wiki_qa.llm.tasks.paraphrase import Paraphrase, paragraphs
from wiki_qa.llm.tasks.qa import QA

ROW = {"id": "d#0", "title": "Paris", "lang": "en", "meta": "{}", "source": "mediawiki:x",
       "text": "Paris\n\nParis is the capital of France. The Eiffel Tower was finished in 1889.\n\n"
               "The Seine river flows through the city centre of Paris from east to west."}
CFG = {}  # task fields (defaults)


def qa(**cfg):
    return QA(QA.Config(**cfg))


def mcq(**cfg):
    return MCQ(MCQ.Config(**cfg))


def paraphrase(**cfg):
    return Paraphrase(Paraphrase.Config(**cfg))


# Every qa/mcq item quotes its evidence from the passage (an item without one is dropped as ungrounded).
ITEMS = [{"question": "What is the capital of France?", "answer": "Paris is the capital",
          "quote": "Paris is the capital of France"},
         {"question": "When was the Eiffel Tower finished?", "answer": "1889", "quote": "finished in 1889"}]


@pytest.mark.parametrize("text", [
    json.dumps({"items": ITEMS}),
    "Sure!\n```json\n" + json.dumps({"items": ITEMS}) + "\n```\nHope it helps",
    "\n".join(json.dumps(i) for i in ITEMS),                 # JSONL
    ", ".join(json.dumps(i) for i in ITEMS),                 # comma-joined objects
    json.dumps(ITEMS),                                       # bare array
])
def test_tolerant_shapes_give_the_same_items(text):
    good, dropped = qa(**CFG).parse(ROW, text)
    assert [g["prompt"] for g in good] == [i["question"] for i in ITEMS] and dropped == []


def test_no_json_is_a_parse_error():
    with pytest.raises(P.ParseError):
        qa(**CFG).parse(ROW, "I cannot help with that.")


def test_arrays_and_numbers_coerced_to_strings():
    good, _ = qa(**CFG).parse(ROW, json.dumps({"items": [{"question": "When was the tower finished?", "answer": [1889],
                                                                 "quote": "finished in 1889"}]}))
    assert good[0]["completion"] == "1889"


def test_bad_items_dropped_with_reasons_good_ones_kept():
    items = ITEMS + [{"question": "What is it?", "answer": "..."},
                     {"question": "Who?", "answer": "[answer]"},
                     {"question": "What is the capital of France?", "answer": "Paris", "quote": "Paris"},  # duplicate
                     {"question": "Who painted the Mona Lisa?", "answer": "Leonardo da Vinci in Milan"},  # ungrounded
                     {"question": "", "answer": "Paris"}, "just a string"]
    good, dropped = qa(**CFG).parse(ROW, json.dumps({"items": items}))
    assert len(good) == 2
    assert sorted(dropped) == sorted(["placeholder_answer", "placeholder_answer", "duplicate_question",
                                      "ungrounded_answer", "empty_question", "not_an_object"])


def test_grounding_threshold_is_configurable():
    item = {"items": [{"question": "Who painted the Mona Lisa?", "answer": "Leonardo da Vinci of Paris",
                       "quote": "Paris"}]}
    assert qa(**CFG).parse(ROW, json.dumps(item))[0] == []
    loose = dict(validate={"grounding_threshold": 0.2})
    assert len(qa(**loose).parse(ROW, json.dumps(item))[0]) == 1


def test_mcq_letter_text_and_validation():
    item = {"question": "What is the capital of France?", "options": ["Lyon", "Paris", "Nice", "Lille"], "answer": "B",
            "quote": "Paris is the capital of France."}
    bad = {"question": "Which river?", "options": ["Seine", "Seine", "Loire", "Rhone"], "answer": "A"}
    good, dropped = mcq(**CFG).parse(ROW, json.dumps({"items": [item, bad]}))
    assert good[0]["completion"] == "B" and good[0]["prompt"].endswith("B. Paris\nC. Nice\nD. Lille\nAnswer:")
    assert dropped == ["options_not_4_distinct"]
    good, _ = mcq(mcq_answer="text", completion_leading_space=True).parse(
        ROW, json.dumps({"items": [dict(item, answer="Paris")]}))
    assert good[0]["completion"] == " Paris"


def test_paraphrase_validators_and_direction():
    paras = paragraphs(ROW)
    assert len(paras) == 2 and not paras[0].startswith("Paris\n")
    replies = ["### Paraphrased Text: Paris is France's capital city; the Eiffel Tower was done in 1889.",
               "The Seine river runs through central Paris,\n\nfrom the east to the west side."]
    good, dropped = paraphrase(**CFG).parse(ROW, json.dumps({"items": replies}))
    assert good == [] and dropped == ["banned_phrase", "not_single_paragraph"]
    ok = ["Paris is France's capital city, and the Eiffel Tower was completed in 1889.", "Too short."]
    good, dropped = paraphrase(**CFG).parse(ROW, json.dumps({"items": ok}))
    assert dropped == ["word_ratio"] and good[0]["completion"] == paras[0] and good[0]["prompt"] == ok[0]
    rev = dict(paraphrase_direction="original_to_synthetic")
    assert paraphrase(**rev).parse(ROW, json.dumps({"items": ok}))[0][0]["prompt"] == paras[0]


def test_prompt_language_context_and_instruction():
    row = dict(ROW, lang="yo", meta=json.dumps({"topic": "geography"}))
    cfg = dict(instructions={"geography": "Ask about places."}, include_context=True)
    user = qa(**cfg).prompt(row)[-1]["content"]
    assert "in Yoruba" in user and "Ask about places." in user and row["text"] in user
    assert "in Hausa" in qa(language="ha").prompt(row)[-1]["content"]
    good, _ = qa(**cfg).parse(row, json.dumps({"items": ITEMS[:1]}))
    assert good[0]["prompt"].startswith(row["text"]) and good[0]["prompt"].endswith(ITEMS[0]["question"])


def test_default_n_follows_chunk_length():
    assert qa(**CFG).n_items(dict(ROW, text="x" * 1200)) == 3
    assert qa(**CFG).n_items(dict(ROW, text="x" * 99999)) == 10
    assert qa(**CFG).schema(ROW)["properties"]["items"]["maxItems"] == 1
