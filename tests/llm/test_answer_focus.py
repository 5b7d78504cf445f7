"""focus: answer (issue 23): the planner picks answer spans from the passage without a model, the model
writes only the question, and the evidence is the span's sentence by construction."""
from __future__ import annotations

import json

import pytest

from wiki_qa.config import configs_dir, from_dict
from wiki_qa.llm.tasks import answers
from wiki_qa.llm.tasks.mcq import LETTERS
from wiki_qa.orchestrator import dataset_dict
from wiki_qa.rows import SPLITS

WIKI = configs_dir() / "data" / "demowiki.xml"
LAGOS = ("Lagos\n\nLagos is the largest city in Nigeria and one of the fastest growing cities in Africa. It sits on "
         "a chain of islands and lagoons along the coast of the Gulf of Guinea, and its port handles much of the "
         "country's trade.\n\nHistory\n\nThe name Lagos comes from the Portuguese word for lakes. From 1914 the city "
         "was the capital of colonial Nigeria, and it remained the federal capital until the government moved to "
         "Abuja in 1991. Large estates are found in China, India, Sri Lanka and Kenya.")


def spans(text, title):
    return [text[slice(*c["answer"])] for c in answers.candidates(text, title)]


def test_candidates_are_numbers_names_and_terms_but_never_give_the_question_away():
    got = spans(LAGOS, "Lagos")
    assert {"Nigeria", "Gulf of Guinea", "1914", "1991", "Abuja"} <= set(got)
    assert "Lagos" not in got                   # the title: the question names it, so it would name the answer
    assert "Portuguese" not in got              # an adjective ("the Portuguese word"), not a thing to ask for
    assert not {"China", "India", "Sri Lanka", "Kenya"} & set(got)   # one of a list is no single answer
    assert "History" not in got and "The" not in got                 # a heading, a sentence opener
    term = "Light is captured by a green pigment called chlorophyll, found in small bodies in the leaf."
    assert spans(f"Photosynthesis\n\n{term}", "Photosynthesis") == ["chlorophyll"]
    assert spans("Mercury\n\nOnly two spacecraft have visited Mercury: Mariner 10 in the 1970s.", "x") == \
        ["Mercury", "Mariner", "1970s"]          # "10" belongs to the name "Mariner 10"


def test_plan_is_deterministic_spread_and_each_answer_lies_inside_its_sentence():
    p1 = answers.plan(LAGOS, "Lagos", 3, "wiki:1#0", seed=7)
    assert p1 == answers.plan(LAGOS, "Lagos", 3, "wiki:1#0", seed=7) and len(p1) == 3
    assert len({p["sentence"] for p in p1}) == 3                     # one item per sentence
    for p in p1:
        (a, b), (s, e) = p["sentence"], p["answer"]
        assert a <= s < e <= b
    assert [p["kind"] for p in answers.plan(LAGOS, "Lagos", 9, "k")].count("number") == 1  # numbers first
    assert answers.plan("Title\n\nshort line", "Title", 3, "k") == []


def test_draft_asks_the_sentence_back_about_its_answer():
    text = LAGOS
    item = next(p for p in answers.candidates(text, "Lagos") if text[slice(*p["answer"])] == "Gulf of Guinea")
    assert answers.draft(text, item, "Lagos") == \
        "Lagos sits on a chain of islands and lagoons along the coast of which gulf?"
    item = next(p for p in answers.candidates(text, "Lagos") if text[slice(*p["answer"])] == "1991")
    assert answers.draft(text, item, "Lagos").endswith("the government moved to Abuja in which year?")
    draft = "Lagos sits on a chain of islands and lagoons along the coast of which gulf?"
    assert answers.faithful("Which gulf is Lagos on the coast of, with its islands and lagoons?", draft, "Gulf")
    assert not answers.faithful("What is the capital of Lagos?", draft, "Gulf of Guinea")
    assert answers.gives_away("Is Lagos on the Gulf of Guinea?", "the Gulf of Guinea")
    # no draft outside English: the question must still keep the sentence's names (here it asks about nothing
    # the sentence says; issue 23's labelled demo builds had two such items)
    yoruba = "Èdè Yorùbá jẹ́ ọ̀kan lára àwọn èdè tí wọ́n ń sọ ní ilẹ̀ Nàìjíríà, Bẹ̀nẹ̀ àti Tógò."
    assert not answers.reads_english(yoruba) and answers.reads_english(LAGOS)
    assert not answers.faithful("What is the name of the most populous city in the world?", yoruba, "Tógò")


def build(tmp_path, llm, task: str, name: str):
    cfg = from_dict({"name": name, "source": {"type": "mediawiki", "path": str(WIKI)}, "chunk": {"max_tokens": 96},
                     "generate": {"task": task, "focus": "answer", "n": 2},
                     "llm": dict(llm, cache=str(tmp_path / "llm.sqlite")), "format": "completion",
                     "output": {"dir": str(tmp_path / name)}})
    return dataset_dict(cfg, cache_dir=str(tmp_path / f"hf-{name}"), with_report=True)


@pytest.mark.parametrize("task", ["qa", "mcq"])
def test_answer_focus_items_answer_with_their_span_and_quote_its_sentence(fake, llm, tmp_path, task):
    dsd, report = build(tmp_path, llm, task, task)
    got = [r for s in SPLITS for r in dsd[s]]
    assert len(got) >= 40
    # chunks with no answer span (headings only, Yoruba prose) are not sent at all
    assert report["llm"]["requests"] < report["chunks"]
    for r in got:
        meta = json.loads(r["meta"])
        (ev,), span = meta["evidence"], meta["answer_span"]
        assert ev["quote"][span["start"] - ev["start"]:span["end"] - ev["start"]] == span["quote"]  # inside
        answer = span["quote"]
        if task == "qa":
            assert r["completion"] == answer
        else:
            opts = r["prompt"].split("\n")[1:5]
            assert [o[:3] for o in opts] == [f"{L}. " for L in LETTERS]
            assert opts[LETTERS.index(r["completion"])][3:] == answer
            assert len({o[3:] for o in opts}) == 4
        assert r["prompt"].split("\n")[0].endswith("?") and meta["question_from"] in ("model", "draft")
    assert report["items"]["evidence"]["round_trip_share"] == 1.0
    assert report["items"]["evidence"]["answer_in_quote_share"] == 1.0   # by construction
