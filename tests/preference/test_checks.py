"""The pair checks, the corrupt strategies on real Wikipedia passages, and the judge's position shuffle."""
from __future__ import annotations

import difflib
import random
import re

import pytest

from tests.llm.conftest import real_chunks  # noqa: F401  (fixture)
from wiki_qa.llm.tasks import preference as T
from wiki_qa.preference import checks as C
from wiki_qa.preference.config import ChecksConfig, PreferenceConfig
from wiki_qa.preference.corrupt import corrupt, names, swap, truncate, vague

CHECKS = ChecksConfig()
GOOD = "Abuja replaced Lagos as the capital of Nigeria in December 1991, after years of planning."


@pytest.mark.parametrize("rejected,reason", [
    ("abuja REPLACED lagos as the capital of nigeria in december 1991 -- after years of planning!", "identical"),
    ("Lagos was the capital.", "length_ratio"),
    (" ".join([GOOD] * 3), "length_ratio"),
    ("### A worse answer: Lagos replaced Abuja in 1991, after planning.", "furniture"),
    ("Paraphrased text: Lagos replaced Abuja in 1991 after years of planning.", "furniture"),
    ("Lagos replaced Abuja in 1991 after years of planning. NOTE: this is wrong.", "furniture"),
    ("Lagos replaced Abuja as the capital in 1991.\n\nIt took years of planning.", "paragraphs"),
    ("   ", "empty"),
    ("Lagos replaced Abuja as the capital of Nigeria in December 1991, after years of planning.", None),
])
def test_check_pair_names_the_first_failing_check(rejected, reason):
    assert C.check_pair(GOOD, rejected, "en", CHECKS) == reason


def test_the_length_band_is_inclusive_and_configurable():
    chosen, band = " ".join(["w"] * 20), ChecksConfig(language=False)   # "w w w" is no language
    assert C.check_pair(chosen, " ".join(["x"] * 17), "en", band) is None      # 0.85
    assert C.check_pair(chosen, " ".join(["x"] * 16), "en", band) == "length_ratio"
    assert C.check_pair(chosen, " ".join(["x"] * 50), "en", band) is None      # 2.5
    assert C.check_pair(chosen, " ".join(["x"] * 51), "en", band) == "length_ratio"
    wide = ChecksConfig(min_word_ratio=0.5, max_word_ratio=4, language=False)
    assert C.check_pair(chosen, " ".join(["x"] * 10), "en", wide) is None
    assert C.check_pair("Note: fine", "also fine here", "en", ChecksConfig(furniture=[], min_word_ratio=0.1)) is None
    with pytest.raises(ValueError, match="min_word_ratio is above"):
        ChecksConfig(min_word_ratio=3)


# Sentences of the demo wiki (written for wiki_qa): Yoruba and Hausa pages.
YORUBA = "Èdè Yorùbá jẹ́ ọ̀kan lára àwọn èdè tí wọ́n ń sọ ní ilẹ̀ Nàìjíríà, Bẹ̀nẹ̀ àti Tógò."
HAUSA = "Kano birni ne a arewacin Najeriya, kuma yana daya daga cikin tsofaffin birane a yammacin Afirka."
ENGLISH = "Kano is a city in northern Nigeria and one of the oldest cities in West Africa."
needs_langid = pytest.mark.skipif(not C.language_check_available(),
                                  reason="language ID needs the translate extra (heliport: Python >= 3.11)")


@needs_langid
def test_the_language_check_drops_a_side_in_another_language_with_wiki_qa_langid():
    wide = ChecksConfig(min_word_ratio=0.5, max_word_ratio=3)
    assert C.check_pair(ENGLISH, YORUBA, "en", wide) == "language"
    assert C.check_pair(ENGLISH, HAUSA, "simple", wide) == "language"       # simplewiki rows are English
    assert C.check_pair(HAUSA, ENGLISH, "ha", wide) == "language"           # the chosen side is checked too
    assert C.check_pair(HAUSA, "Kano birni ne mai tarihi a arewacin Najeriya, inda ake rini a Kofar Mata.",
                        "ha", wide) is None
    assert C.check_side(YORUBA, "yo", wide) is None and C.check_side(YORUBA, "en", wide) == "language"
    # what cannot be told is not dropped: too few words, an unknown language, the check turned off
    assert C.check_side("Ẹ kú àárọ̀", "en", wide) is None
    assert C.check_pair(ENGLISH, YORUBA, "und", wide) is None
    assert C.check_pair(ENGLISH, YORUBA, "en", ChecksConfig(language=False, min_word_ratio=0.5)) is None


def test_without_language_id_installed_the_check_is_skipped_and_says_so(monkeypatch):
    monkeypatch.setattr(C, "LANGID_PACKAGES", ("no_such_package_for_wiki_qa",))
    assert not C.language_check_available()
    assert C.check_pair(ENGLISH, YORUBA, "en", ChecksConfig(min_word_ratio=0.5)) is None


def test_swap_replaces_one_name_or_number_with_another_from_the_same_passage(real_chunks):  # noqa: F811
    swapped = 0
    for row in real_chunks:
        passage = row["text"]
        for sentence in re.split(r"(?<=[.!?])\s+", passage)[1:6]:
            if len(sentence.split()) < 8:
                continue
            out = swap(sentence, passage, row["id"])
            if out is None:
                continue
            swapped += 1
            ops = [op for op in difflib.SequenceMatcher(None, sentence, out, autojunk=False).get_opcodes()
                   if op[0] != "equal"]
            start, end = ops[0][3], ops[-1][4]      # the changed stretch of the output: one replaced span
            assert out != sentence and out[start:end] in passage
            assert sentence[:ops[0][1]] == out[:start] and sentence[ops[-1][2]:] == out[end:]
            assert C.n_words(out) / C.n_words(sentence) >= 0.5
    assert swapped >= 20


def test_vague_and_truncate_match_the_answer_length(real_chunks):  # noqa: F811
    for row in real_chunks[:12]:
        answer = re.split(r"(?<=[.!?])\s+", row["text"])[1]
        v, t = vague(answer, row["title"], row["id"], CHECKS), truncate(answer, CHECKS)
        if v is not None:
            assert 0.85 <= C.n_words(v) / C.n_words(answer) <= 2.5 and v != answer
        if C.n_words(answer) >= 7:
            assert t is not None and answer.startswith(t.rstrip(".,;:!?…")[:-1])
            assert 0.85 <= C.n_words(t) / C.n_words(answer) < 1
        else:
            assert t is None
    assert truncate("Too short to cut.", CHECKS) is None


def test_corrupt_is_deterministic_and_falls_back_to_another_mode():
    passage = "Lagos was the capital of Nigeria until 1991, when Abuja replaced it. The north has Kano and Zaria."
    answer = "Abuja replaced Lagos as the capital of Nigeria in 1991."
    got = {corrupt(answer, passage, "Lagos", "en", str(k), ["swap", "vague", "truncate"], CHECKS) for k in range(30)}
    assert {how for _, how in got} == {"swap", "vague", "truncate"}
    assert corrupt(answer, passage, "Lagos", "en", "7", ["swap"], CHECKS) == \
        corrupt(answer, passage, "Lagos", "en", "7", ["swap"], CHECKS)
    assert corrupt(answer, "no other names here", "x", "en", "1", ["swap"], CHECKS) == (None, "not_corruptible")
    assert corrupt("Yes.", "Yes.", "x", "en", "1", ["truncate"], CHECKS) == (None, "not_corruptible")
    assert [n for _, _, n in names("In 1991 Abuja replaced Lagos. Kano grew.")] == ["Abuja", "Lagos"]


def test_the_shown_order_is_a_seeded_permutation_and_unshuffle_inverts_it():
    rng = random.Random(0)
    orders = set()
    for k in range(200):
        n = rng.randint(2, 6)
        shown = T.shown_order(3, f"row-{k}", n)
        assert sorted(shown) == list(range(n)) and shown == T.shown_order(3, f"row-{k}", n)
        by_position = [rng.randint(1, 10) for _ in range(n)]
        per_candidate = T.unshuffle(by_position, shown)
        assert [per_candidate[c] for c in shown] == by_position
        orders.add(tuple(shown))
    assert len(orders) > 50
    assert sum(T.shown_order(4, f"row-{k}", 5) != T.shown_order(3, f"row-{k}", 5) for k in range(20)) > 10


def test_strategy_weights_and_names_are_validated():
    assert PreferenceConfig(strategy={"corrupt": 2, "contrastive": 0}).strategies() == ["corrupt"]
    with pytest.raises(ValueError, match="unknown strategy"):
        PreferenceConfig(strategy="worse")
    with pytest.raises(ValueError, match="weights must be positive"):
        PreferenceConfig(strategy={"corrupt": -1, "contrastive": 1})
