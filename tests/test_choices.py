"""The lettered multiple-choice layout (wiki_qa/choices.py) on the prompts wiki_qa writes and on what a translator
returns; the MMLU and TruthfulQA round trips on real data are in tests/builders and tests/evalexport."""
from __future__ import annotations

import pytest

from wiki_qa.choices import answer_index, format_choices, parse_choices


def test_round_trip_keeps_every_character_of_the_choices():
    choices = ["x = 1\nprint(x)", "trailing space ", "B. looks like a marker", "Ọ̀rọ̀ Yorùbá"]
    assert parse_choices(format_choices("Which?\nRead carefully.", choices)) == \
        ("Which?\nRead carefully.", choices, "")


def test_the_cue_line_translated_or_not_and_the_last_question_of_worked_examples():
    shots = format_choices("2+2?", ["3", "4"]) + "Answer: B\n\n"
    assert parse_choices(shots + format_choices("3+3?", ["6", "5", "7"]) + "Answer:") == \
        (shots + "3+3?", ["6", "5", "7"], "Answer:")
    assert parse_choices("Kí ni orúkọ olú ìlú Nàìjíríà?\nA. Èkó\nB. Àbújá\nÌdáhùn:") == \
        ("Kí ni orúkọ olú ìlú Nàìjíríà?", ["Èkó", "Àbújá"], "Ìdáhùn:")


@pytest.mark.parametrize("prompt", ["Just a question?", "Q?\nA. only one option\n", "\nA. x\nB. y\n",
                                    "Q?\nA. x\nC. skipped B\n", "Q?\nA. \nB. y\n"])
def test_prompts_that_are_not_multiple_choice(prompt):
    assert parse_choices(prompt) is None


def test_answer_index_from_a_letter_an_index_or_the_text():
    choices = ["Paris", "Lagos", "Abuja"]
    assert [answer_index(a, choices) for a in ("C", " (b) ", 0, "abuja", "D", 3, "Kano", True)] == \
        [2, 1, 0, 2, None, None, None, None]
    with pytest.raises(ValueError):
        format_choices("Q", [str(i) for i in range(27)])
