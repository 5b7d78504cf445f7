"""The translate task's parts on real text: masking (protect.py), sentence pieces (pieces.py), the checks of
one unit, and language ID (wiki_qa.langid) on BBC World Service news."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from wiki_qa import langid
from wiki_qa.llm.tasks import pieces as Q
from wiki_qa.llm.tasks import protect
from wiki_qa.llm.tasks.translate import TranslateConfig, check_unit
from wiki_qa.tokens import count_tokens

ROOT = Path(__file__).resolve().parents[2]
MAFAND = Path(__file__).parent / "data" / "mafand"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_langid", ROOT / "bench" / "langid.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def alpaca(shared_data):
    return json.loads((shared_data / "instruct" / "alpaca_5000.json").read_text())


# -- protect ------------------------------------------------------------------------------------------------
def test_masking_round_trips_real_instruction_data(alpaca):
    texts = [r["instruction"] + "\n\n" + r["input"] + "\n" + r["output"] for r in alpaca[:2000]]
    masked_any = 0
    for t in texts:
        m = protect.mask(t)
        masked_any += bool(m.originals)
        assert protect.TOKEN.findall(m.text) == [str(i) for i in range(1, len(m.originals) + 1)]  # text order
        back = protect.restore(m.text, m)
        assert back.ok and back.text == t
    assert masked_any > 500  # numbers, links, code and list markers are common in it


def test_masking_what_must_not_be_translated():
    t = ("Hello {name}! Run `pip install x` and see https://example.org/a?b=1 by 3:30 on 12/05.\n"
         "1. first item\n- second item\n```python\nprint('hi')\n```\nA. Paris")
    m = protect.mask(t)
    assert m.originals == ["{name}", "`pip install x`", "https://example.org/a?b=1", "3:30", "12/05", "1. ", "- ",
                           "```python\nprint('hi')\n```", "A. "]
    assert m.lines == 5  # the code block is one masked line
    reordered = m.text.replace("Hello ⟦1⟧!", "⟦1⟧, hello!")
    assert protect.restore(reordered, m).text.startswith("{name}, hello!")  # restored where it was put


@pytest.mark.parametrize("edit, problem", [
    (lambda s: s.replace("⟦3⟧", ""), "lost 'https://example.org'"),
    (lambda s: s.replace("⟦3⟧", "⟦3⟧ ⟦3⟧"), "repeated 'https://example.org'"),
    (lambda s: s + " ⟦9⟧", "invented '⟦9⟧'"),
    (lambda s: s.replace(" and ", "\nand "), "3 lines instead of 2"),
])
def test_restore_names_what_was_lost(edit, problem):
    m = protect.mask("Dear {name}, your order 1234 is at https://example.org and ready.\nThanks!")
    r = protect.restore(edit(m.text), m)
    assert not r.ok and problem in r.problem()


# -- pieces -------------------------------------------------------------------------------------------------
def test_pieces_break_between_sentences_within_the_budget(shared_data):
    import bz2
    import re

    xml = bz2.decompress((shared_data / "mediawiki" / "enwiki-206pages.xml.bz2").read_bytes()).decode()
    text = re.sub(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]|\{\{[^{}]*\}\}|<[^>]+>|'{2,}", r"\1", xml[200_000:260_000])
    whole = Q.sentences(text)
    for budget in (64, 300):
        ps = Q.split(text, budget)
        assert Q.join(ps, [p.text for p in ps]) == text  # nothing lost, layout kept
        # every piece is whole sentences: the pieces' sentences are exactly the text's
        assert [s for p in ps for s in Q.sentences(p.text)] == whole
        for p in ps:
            n = count_tokens(p.text)
            assert n <= budget or len(Q.sentences(p.text)) == 1  # over budget only as one long sentence
        spans = [sp for p in ps for sp in Q.spans(p.text)]
        assert "".join(a + b + c for p in ps for a, b, c in Q.spans(p.text + p.sep)) == text
        assert all("\n" not in s for _, s, _ in spans)


def test_sentences_skip_abbreviations_and_keep_lines():
    assert Q.sentences("Dr. Ade said e.g. the U.S. team won. It rained!\nA. Paris") == [
        "Dr. Ade said e.g. the U.S. team won.", "It rained!", "A. Paris"]


# -- the checks of one unit -----------------------------------------------------------------------------------
def _unit(src: list[str], tgt: str) -> dict:
    return {"src": "en", "tgt": tgt, "segments": [{"text": s} for s in src]}


def _pairs(lang):
    rows = [json.loads(x) for x in (MAFAND / f"en-{lang}.jsonl").read_text(encoding="utf-8").splitlines()]
    return [(e, t) for r in rows for e, t in zip(r["en"], r[lang])]


def test_checks_on_real_sentences():
    cfg = TranslateConfig(target_lang="yo")
    yo, ha = _pairs("yo"), _pairs("ha")
    en, good = [e for e, _ in yo[:3]], [t for _, t in yo[:3]]
    masked = [protect.mask(e) for e in en]

    def like(texts):  # a translation with the source's tokens in place, as a model returns it
        out = []
        for m, t in zip(masked, texts):
            for i, o in enumerate(m.originals, 1):
                t = t.replace(o, m.token(i), 1)
            out.append(t)
        return out

    assert check_unit(_unit(en, "yo"), like(good), cfg) == {"reason": None, "translations": good}
    assert check_unit(_unit(en, "yo"), [m.text for m in masked], cfg)["reason"] == "untranslated"
    wrong = check_unit(_unit(en, "yo"), [t for _, t in ha[:3]], cfg)  # Hausa, tokens and all missing
    assert wrong["reason"] == "wrong_language" and wrong["detected"] == "ha"
    assert check_unit(_unit(en, "yo"), like(good)[:2], cfg)["reason"] == "truncated"
    assert check_unit(_unit(en, "yo"), like(good)[:1] + [""] + like(good)[2:], cfg)["reason"] == "truncated"
    short = like(good)
    short[1] = short[1][: len(short[1]) // 4]
    assert check_unit(_unit(en, "yo"), short, cfg)["reason"] == "length_ratio"


def test_pidgin_target_accepts_english_looking_pidgin_but_not_an_echo():
    cfg = TranslateConfig(target_lang="pcm")
    en, pcm = _pairs("pcm")[5]
    assert langid.detect(pcm).lang in ("pcm", "en")
    m = protect.mask(en)
    assert check_unit(_unit([en], "pcm"), [m.text], cfg)["reason"] == "untranslated"


# -- language ID ----------------------------------------------------------------------------------------------
def test_langid_api():
    assert langid.detect("2019 — 3:30, 42").lang == langid.UNDETERMINED
    assert langid.normalize("yor") == "yo" and langid.normalize("hau") == "ha" and langid.normalize("en-GB") == "en"
    ds = langid.detect_many(["Wetin dey happen for di market today, my people? Dem say di price don go up.",
                             "The president said the government will raise taxes next year."])
    assert [d.lang for d in ds] == ["pcm", "en"] and all(0 < d.score <= 1 for d in ds)
    assert langid.is_lang("Gwamnatin Najeriya ta ce za ta kara kudin man fetur a wannan shekara", "hau")
    assert not langid.is_lang("The president said the government will raise taxes.", "pcm")


def test_langid_on_bbc_news_paragraphs(shared_data):
    """The bench's target on its paragraph sets, here as a regression test (English from BBC pages only)."""
    bench = _bench()
    sets = {lang: bench.world_service(lang, bench.PARAGRAPH_FIELDS) for lang in ("yo", "ha", "ig", "pcm")}
    sets["en"] = bench.english_bbc()
    for lang, texts in sets.items():
        assert len(texts) >= 40
        acc = sum(d.lang == lang for d in langid.detect_many(texts)) / len(texts)
        assert acc >= 0.95, (lang, acc)
