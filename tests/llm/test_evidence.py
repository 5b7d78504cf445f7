"""Evidence spans on real chunks (enwiki and a Yoruba dump from ../shared/data): quotes as a model retypes
them align back to the chunk, every span round-trips (chunk[start:end] == quote), and quotes that are not in
the chunk do not align."""
from __future__ import annotations

import json
import random
import re

import pytest

from tests.llm.conftest import chunk_rows, read_pages
from wiki_qa.llm.tasks import evidence, focus
from wiki_qa.llm.tasks.qa import QA


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if 8 <= len(s.split()) <= 40]


@pytest.fixture(scope="module")
def yo_chunks(mediawiki_dir):
    return chunk_rows(read_pages(mediawiki_dir / "dbpedia-minidump-yo.xml.bz2", "yo", 10))


def retyped(s: str, rng: random.Random) -> list[str]:
    """What models do to a quote: case, curly quotes and dashes, spacing, a dropped or changed word."""
    words = s.split()
    k = rng.randrange(1, len(words) - 1)
    return [s.lower(), s.replace("'", "\u2019").replace('"', "\u201c").replace("-", "\u2013"),
            "  ".join(words), " ".join(words[:k] + words[k + 1:]), " ".join(words[:k] + ["thing"] + words[k + 1:]),
            f"\"{s}\""]


def test_exact_and_retyped_quotes_align_and_round_trip(real_chunks, yo_chunks):
    rng = random.Random(13)
    tried = found = 0
    for row in real_chunks + yo_chunks:
        text = row["text"]
        for s in sentences(text)[:3]:
            start = text.index(s)
            for q in [s] + retyped(s, rng):
                tried += 1
                hit = evidence.align(q, text)
                assert hit is not None, (row["id"], q)
                a, b = hit
                sp = evidence.span(text, a, b, chunk=row["id"])
                assert evidence.round_trips([sp], {row["id"]: text})
                # the span is the sentence's place in the chunk (give or take an edge word)
                assert a < start + len(s) and b > start and abs((b - a) - len(s)) <= 0.25 * len(s), (q, sp)
                found += 1
    assert tried == found and tried > 200


def test_quotes_from_elsewhere_do_not_align(real_chunks):
    rows = real_chunks
    misses = 0
    for i, row in enumerate(rows):
        other = rows[(i + 7) % len(rows)]
        if other["doc_id"] == row["doc_id"]:
            continue
        for s in sentences(other["text"])[:2]:
            if s in row["text"]:
                continue
            assert evidence.align(s, row["text"]) is None, (row["id"], s)
            misses += 1
    assert misses > 20
    assert evidence.align("", rows[0]["text"]) is None and evidence.align("...", rows[0]["text"]) is None


def test_qa_items_keep_spans_in_meta_and_ungrounded_ones_are_dropped(real_chunks):
    row = real_chunks[0]
    good = sentences(row["text"])[0]
    foreign = sentences(real_chunks[5]["text"])[0]
    reply = {"items": [{"question": f"What does {row['title']} say first?", "quote": good.lower(), "answer": good},
                       {"question": "What is said elsewhere?", "quote": foreign, "answer": good}]}
    task = QA(QA.Config(validate={"grounding_threshold": 0}))
    examples, dropped = task.parse(row, json.dumps(reply))
    assert dropped == ["ungrounded"] and len(examples) == 1
    (sp,) = examples[0]["meta"]["evidence"]
    assert sp["chunk"] == row["id"] and row["text"][sp["start"]:sp["end"]] == sp["quote"] == good.rstrip(".")
    lax = QA(QA.Config(validate={"grounding_threshold": 0, "require_evidence": False}))
    examples, dropped = lax.parse(row, json.dumps(reply))
    assert dropped == [] and len(examples) == 2 and "evidence" not in examples[1]["meta"]


def test_cite_evidence_builds_citation_completions(real_chunks):
    row = real_chunks[1]
    s = sentences(row["text"])[0]
    reply = {"items": [{"question": f"What does {row['title']} say?", "quote": s, "answer": s}]}
    task = QA(QA.Config(include_context=True, cite_evidence=True, validate={"grounding_threshold": 0}))
    (ex,), _ = task.parse(row, json.dumps(reply))
    assert ex["prompt"].startswith(row["text"]) and ex["completion"] == f'{s}\n\nEvidence: "{s.rstrip(".")}"'
    with pytest.raises(ValueError, match="include_context"):
        QA.Config(cite_evidence=True)


def test_sentence_focus_plans_distinct_sentences_whose_spans_round_trip(real_chunks, yo_chunks):
    task = QA(QA.Config(n=3, focus="sentence", question_types={"factoid": 1, "why": 1},
                        validate={"grounding_threshold": 0}))
    planned = 0
    for row in real_chunks + yo_chunks:
        spans = task.focus_spans(row)
        assert spans == task.focus_spans(row) and len(set(spans)) == len(spans) <= 3
        assert spans == sorted(spans) and all(a >= row["text"].find("\n") for a, _ in spans)  # not the title
        prompt = task.prompt(row)[-1]["content"]
        for k, (a, b) in enumerate(spans, 1):
            assert len(row["text"][a:b].split()) >= 6 and f'{k}. ' in prompt and f'"{row["text"][a:b]}"' in prompt
        reply = {"items": [{"question": f"Which fact about {row['title']} is number {k}?", "answer": row["text"][a:b]}
                           for k, (a, b) in enumerate(spans, 1)] + [{"question": "One item too many?", "answer": "x"}]}
        examples, dropped = task.parse(row, json.dumps(reply))
        assert len(examples) == len(spans) and dropped == ["ungrounded"]   # the extra item has no sentence
        for ex, (a, b) in zip(examples, spans):
            (sp,) = ex["meta"]["evidence"]
            assert (sp["start"], sp["end"]) == (a, b) and evidence.round_trips([sp], {row["id"]: row["text"]})
            assert ex["meta"]["question_type"] in ("factoid", "why")
        planned += len(spans)
    assert planned >= 2 * len(real_chunks + yo_chunks)
    other = QA(QA.Config(n=3, focus="sentence", seed=1, validate={"grounding_threshold": 0}))
    assert any(other.focus_spans(r) != task.focus_spans(r) for r in real_chunks if len(focus.sentences(r["text"])) > 3)
    assert '"quote"' not in json.dumps(task.schema(real_chunks[0])) and task.n_items(real_chunks[0]) <= 3


@pytest.mark.parametrize("question, reason", [
    ("Which country is it?", "vague_question"), ("What does the passage say about tea?", "vague_question"),
    ("Why do honey bees dance?", "copied_example"),   # the worked example of prompts/qa_sentence.txt
    ("Which city is the commercial centre of Nigeria?", None), ("Why is it important that tea is dried?", None)])
def test_vague_and_copied_questions_are_dropped(real_chunks, question, reason):
    row = real_chunks[2]
    task = QA(QA.Config(n=1, focus="sentence", validate={"grounding_threshold": 0}))
    examples, dropped = task.parse(row, json.dumps({"items": [{"question": question, "answer": "An answer."}]}))
    assert (dropped, len(examples)) == (([reason], 0) if reason else ([], 1))
