"""The question-mix planner: deterministic per chunk, a spread within a chunk, the target shares overall."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from wiki_qa.llm.config import resolve
from wiki_qa.llm.tasks import mix

WEIGHTS = {"factoid": 0.4, "why": 0.2, "how": 0.2, "numeric": 0.1, "comparison": 0.1}


def test_same_seed_and_chunk_same_plan_other_seed_other_plans():
    a = [mix.plan(WEIGHTS, 5, f"doc:{i}#0", seed=1) for i in range(50)]
    assert a == [mix.plan(WEIGHTS, 5, f"doc:{i}#0", seed=1) for i in range(50)]
    assert a != [mix.plan(WEIGHTS, 5, f"doc:{i}#0", seed=2) for i in range(50)]


@pytest.mark.parametrize("n", range(1, 11))
def test_a_chunk_with_n_questions_gets_a_spread(n):
    for i in range(200):
        got = Counter(mix.plan(WEIGHTS, n, f"d:{i}#{n}"))
        assert sum(got.values()) == n
        for t, w in WEIGHTS.items():
            assert abs(got[t] - n * w) < 1 + 1e-9, (n, got)  # never more than one off the chunk's share


def test_over_many_chunks_the_shares_match_the_weights():
    got = Counter(t for i in range(4000) for t in mix.plan(WEIGHTS, 3, f"page:{i}#0", seed=7))
    total = sum(got.values())
    for t, w in WEIGHTS.items():
        assert abs(got[t] / total - w) < 0.01, (t, got[t] / total)
    # item 1 is not always the heaviest type
    firsts = Counter(mix.plan(WEIGHTS, 3, f"page:{i}#0", seed=7)[0] for i in range(1000))
    assert len(firsts) == len(WEIGHTS)


def test_difficulty_level_or_weights_and_the_prompt_plan():
    cfg = resolve({"task": "qa", "n": 4, "question_types": WEIGHTS, "difficulty": "hard"})[0]
    row = {"id": "x:1#0", "title": "Lagos", "text": "Lagos\n\nLagos is a port city. It grew fast.", "lang": "en",
           "meta": "{}"}
    plan = cfg.item_plan(row)
    assert [p["difficulty"] for p in plan] == ["hard"] * 4
    user = cfg.prompt(row)[-1]["content"]
    assert "Write the questions in this order:" in user
    for k, p in enumerate(plan, 1):
        assert f"{k}. {mix.TYPES[p['question_type']]}; {mix.LEVELS['hard']}" in user
    weighted = resolve({"task": "mcq", "n": 10, "difficulty": {"easy": 0.5, "hard": 0.5}})[0].item_plan(row)
    assert Counter(p["difficulty"] for p in weighted) == {"easy": 5, "hard": 5}
    assert "question_type" not in weighted[0]
    assert resolve({"task": "qa", "n": 3})[0].item_plan(row) == []  # no mix asked: no plan, prompt unchanged
    assert "in this order" not in resolve({"task": "qa", "n": 3})[0].prompt(row)[-1]["content"]


def test_kept_items_carry_their_planned_labels():
    task = resolve({"task": "qa", "n": 2, "question_types": WEIGHTS, "validate": {"grounding_threshold": 0}})[0]
    row = {"id": "x:2#0", "title": "Tea", "text": "Tea\n\nTea is a drink made from leaves. It grows on hills.",
           "lang": "en", "meta": json.dumps({"page_id": 2, "links": ["Kenya"]})}
    reply = {"items": [{"question": "What is tea made from?", "quote": "a drink made from leaves", "answer": "Leaves"},
                       {"question": "Where does tea grow?", "quote": "It grows on hills", "answer": "On hills"}]}
    examples, _ = task.parse(row, json.dumps(reply))
    plan = task.item_plan(row)
    assert [e["meta"]["question_type"] for e in examples] == [p["question_type"] for p in plan]
    task.hidden = True
    out = list(task.output_rows(row, examples, ["id", "meta"]))
    meta = json.loads(out[0]["meta"])
    assert meta["page_id"] == 2 and "links" not in meta and meta["question_type"] == plan[0]["question_type"]
    assert out[1]["_question"] == "Where does tea grow?" and out[1]["id"] == "x:2#0/qa/1"


def test_bad_weights_are_config_errors():
    from wiki_qa.errors import UserError

    with pytest.raises(UserError, match="question_types"):
        resolve({"task": "qa", "question_types": {"why": 0}})
    with pytest.raises(UserError, match="dedup_questions"):
        resolve({"task": "qa", "dedup_questions": 1.5})


@pytest.mark.parametrize("q,kind", [("Why did the capital move to Abuja?", "why"),
                                    ("How does chlorophyll absorb light?", "how"),
                                    ("How many people live in Lagos?", "numeric"),
                                    ("In what year did the move happen?", "numeric"),
                                    ("Is Kano older than Lagos?", "comparison"),
                                    ("Which city is the capital of Nigeria?", "factoid")])
def test_looks_like(q, kind):
    assert mix.looks_like(q) == kind
