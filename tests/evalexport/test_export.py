"""`wiki-qa export-eval` on real builds: MMLU (../shared/data), TruthfulQA (the real CSV) and the `qa` task's
output; every exported item checked against its source record, and every folder loaded by lm-eval's own task
loader, which builds the harness's requests from it."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from wiki_qa.choices import format_choices
from wiki_qa.evalexport import export_eval

from .conftest import DEMO_WIKI, MMLU_AS_EVAL, TRUTHFULQA


def read_jsonl(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()   # as strict as readers get: U+2028 breaks lines too
    return [json.loads(line) for line in lines if line.strip()]


def mmlu_records(root: Path) -> dict[str, list[str]]:
    """doc_id (mmlu:SPLIT:SUBJECT:LINE, LINE where the record starts) -> the CSV record."""
    out = {}
    for path in sorted((root / "data").glob("*/*.csv")):
        split = path.parent.name
        subject = path.name[: -len(f"_{split}.csv")]
        with open(path, encoding="utf-8", newline="") as f:
            reader, start = csv.reader(f), 1
            for rec in reader:
                out[f"mmlu:{split}:{subject}:{start}"] = rec
                start = reader.line_num + 1
    return out


def cli(capsys, *args) -> tuple[int, str, str]:
    """`wiki-qa ARGS` in this process: (exit code, stdout, stderr)."""
    from wiki_qa.cli import main

    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_mmlu_export_keeps_every_question_its_choices_and_its_answer(build_dir, data_dir, tmp_path, lm_eval_tasks):
    build = build_dir("mmlu-letters", {"source": {"type": "mmlu", "path": str(data_dir / "mmlu"),
                                                  "splits": MMLU_AS_EVAL, "completion": "letter"},
                                       "format": "completion"})
    done = export_eval(str(build), str(tmp_path / "mmlu-eval"))
    assert (done["kind"], done["answer_style"], done["splits"], done["skipped"]) == \
        ("mc", "letter", {"test": 1542, "val": 285}, {})
    assert done["tasks"] == ["wiki_qa_mmlu_letters", "wiki_qa_mmlu_letters_gen"]
    records = mmlu_records(data_dir / "mmlu")
    for split, n in (("test", 1542), ("val", 285)):
        items = read_jsonl(tmp_path / "mmlu-eval" / "data" / f"{split}.jsonl")
        assert len(items) == n
        for it in items:
            q, *choices, letter = records[it["id"]]
            assert (it["question"], it["choices"], it["answer"]) == (q, choices, "ABCD".index(letter))
            assert it["prompt"] == format_choices(q, choices) + "Answer:"
            assert it["options"] == list("ABCD") and it["target"] == letter
    assert {it["id"].split(":")[1] for it in read_jsonl(tmp_path / "mmlu-eval" / "data" / "test.jsonl")} == {"val"}

    tasks = lm_eval_tasks(tmp_path / "mmlu-eval")
    mc, gen = tasks["wiki_qa_mmlu_letters"], tasks["wiki_qa_mmlu_letters_gen"]
    docs = list(mc.test_docs())
    assert len(docs) == 1542 and len(list(mc.fewshot_docs())) == 285
    mc.set_config(key="num_fewshot", value=2)
    mc.build_all_requests(limit=3)
    first = [i for i in mc.instances if i.doc_id == 0]
    assert [i.arguments[1] for i in first] == [" A", " B", " C", " D"]          # the options, as continuations
    context = first[0].arguments[0]
    assert context.endswith(docs[0]["prompt"]) and context.count("\nAnswer: ") == 2  # two shots from val
    assert mc.doc_to_target(docs[0]) == docs[0]["answer"]
    assert gen.process_results(docs[0], [f" {docs[0]['target']}. because"]) == {"exact_match": 1.0}
    wrong = "ABCD"[(docs[0]["answer"] + 1) % 4]
    assert gen.process_results(docs[0], [f" {wrong}"]) == {"exact_match": 0.0}
    assert gen.process_results(docs[0], [" The answer"]) == {"exact_match": 0.0}  # "T" of "The" is no letter


def test_choice_texts_and_the_standard_template(build_dir, data_dir, tmp_path, lm_eval_tasks):
    subjects = ["anatomy", "astronomy", "virology"]
    build = build_dir("mmlu-standard", {"source": {"type": "mmlu", "path": str(data_dir / "mmlu"),
                                                   "splits": MMLU_AS_EVAL, "subjects": subjects,
                                                   "template": "standard", "k_shot": 2},
                                        "format": "messages"})
    done = export_eval(str(build), str(tmp_path / "std"), name="std")
    assert done["kind"] == "mc" and done["answer_style"] == "text" and not done["skipped"]
    records = mmlu_records(data_dir / "mmlu")
    items = read_jsonl(tmp_path / "std" / "data" / "test.jsonl")
    assert len(items) == done["splits"]["test"] == sum(k.split(":")[1:3] in (["val", s] for s in subjects)
                                                       for k in records)
    for it in items:
        q, *choices, letter = records[it["id"]]
        assert it["choices"] == choices and it["target"] == choices["ABCD".index(letter)] == it["options"][it["answer"]]
        assert it["question"].startswith("The following are multiple choice questions") and it["question"].endswith(q)
        assert it["prompt"].endswith("\nAnswer:") and it["prompt"].count("\nAnswer:") == 3  # its own 2 shots + cue
    gen = lm_eval_tasks(tmp_path / "std")["std_gen"]
    doc = next(iter(gen.test_docs()))
    assert gen.process_results(doc, [" " + doc["target"].upper() + "."]) == {"exact_match": 1.0}


def test_truthfulqa_mc1_and_generation(build_dir, tmp_path, lm_eval_tasks):
    with open(TRUTHFULQA, encoding="utf-8", newline="") as f:
        records = {f"truthfulqa:{n}": rec for n, rec in enumerate(csv.DictReader(f), 1)}
    split = {"train": 0.0, "val": 0.1, "test": 0.9}
    mc1 = build_dir("tq-mc1", {"source": {"type": "truthfulqa", "path": str(TRUTHFULQA), "form": "mc1"},
                               "format": "completion", "split": split})
    done = export_eval(str(mc1), str(tmp_path / "mc1"))
    assert done["kind"] == "mc" and sum(done["splits"].values()) == 817 and not done["skipped"]
    for it in read_jsonl(tmp_path / "mc1" / "data" / "test.jsonl"):
        assert it["choices"][it["answer"]] == records[it["id"]]["Best Answer"].strip() == it["target"]
        assert it["question"] == records[it["id"]]["Question"].strip()

    gen = build_dir("tq-gen", {"source": {"type": "truthfulqa", "path": str(TRUTHFULQA)}, "format": "completion",
                               "split": split})
    done = export_eval(str(gen), str(tmp_path / "gen"))
    assert done["kind"] == "qa" and done["tasks"] == ["wiki_qa_tq_gen"] and sum(done["splits"].values()) == 817
    items = read_jsonl(tmp_path / "gen" / "data" / "test.jsonl")
    for it in items:
        rec = records[it["id"]]
        assert it["answers"][0] == it["target"] == rec["Best Answer"].strip()
        assert {a.strip() for a in rec["Correct Answers"].split(";") if a.strip()} <= set(it["answers"])
        assert it["prompt"] == f"{rec['Question'].strip()}\nAnswer:"
    task = lm_eval_tasks(tmp_path / "gen")["wiki_qa_tq_gen"]
    doc = next(d for d in [*task.test_docs(), *task.fewshot_docs()] if d["id"] == "truthfulqa:1")
    assert task.process_results(doc, [" Nothing happens."]) == {"exact_match": 1.0, "f1": 1.0}  # another correct one
    partial = task.process_results(doc, [" The seeds pass through you"])
    assert partial["exact_match"] == 0.0 and 0.4 < partial["f1"] < 1.0


def test_qa_task_output_exports_as_generative_qa(build_dir, tmp_path, llm, lm_eval_tasks):
    build = build_dir("demo-qa", {"source": {"type": "mediawiki", "path": str(DEMO_WIKI), "namespaces": [0]},
                                  "chunk": {"max_tokens": 96, "min_words": 10},
                                  "generate": {"task": "qa", "n": 1}, "llm": llm, "format": "messages",
                                  "split": {"train": 0.4, "val": 0.2, "test": 0.4}})
    from datasets import load_from_disk

    rows = load_from_disk(str(build))["test"]
    done = export_eval(str(build), str(tmp_path / "qa"))
    assert done["kind"] == "qa" and done["splits"]["test"] == rows.num_rows > 5 and not done["skipped"]
    items = read_jsonl(tmp_path / "qa" / "data" / "test.jsonl")
    for row, it in zip(rows, items):
        user, assistant = row["messages"][-2]["content"], row["messages"][-1]["content"]
        assert (it["id"], it["question"], it["answers"]) == (row["id"], user.strip(), [assistant.strip()])
    task = lm_eval_tasks(tmp_path / "qa")["wiki_qa_demo_qa"]
    task.set_config(key="num_fewshot", value=1)
    task.build_all_requests(limit=2)
    context, gen_kwargs = task.instances[0].arguments
    assert context.endswith(items[0]["prompt"]) and context.count("\nAnswer:") == 2       # one shot from val
    val = read_jsonl(tmp_path / "qa" / "data" / "val.jsonl")
    multiline = any("\n" in a for it in items + val for a in it["answers"])
    assert gen_kwargs["until"] == (["\n\n"] if multiline else ["\n"])
    assert task.process_results(next(iter(task.test_docs())), [items[0]["answers"][0].upper()])["exact_match"] == 1.0


def test_scores_compare_multilingual_answers_without_dropping_tone_marks(tmp_path):
    from wiki_qa.evalexport import harness_task as H

    assert H.normalize("Ọjọ́ Àìkú, ni!") == "ọjọ́ àìkú ni"
    doc = {"answers": ["Ọjọ́ Àìkú"]}
    assert H.score_answer(doc, [" ọjọ́ àìkú."]) == {"exact_match": 1.0, "f1": 1.0}
    assert H.score_answer(doc, ["Ojo Aiku"]) == {"exact_match": 0.0, "f1": 0.0}   # other words, not the same
    precision, recall = 2 / 3, 2 / 4                                               # "a b" of "a b x" / "a b c d"
    f1 = H.score_answer({"answers": ["a b c d"]}, ["a b x"])["f1"]
    assert f1 == pytest.approx(2 * precision * recall / (precision + recall))


def test_bad_input_exits_2_with_one_line(build_dir, tmp_path, capsys):
    text = build_dir("tq-text", {"source": {"type": "truthfulqa", "path": str(TRUTHFULQA)}, "format": "text"})
    no_test = build_dir("tq-no-test", {"source": {"type": "truthfulqa", "path": str(TRUTHFULQA)},
                                       "format": "completion", "split": {"train": 0.9, "val": 0.1, "test": 0.0}})
    qa = build_dir("tq-qa", {"source": {"type": "truthfulqa", "path": str(TRUTHFULQA)}, "format": "completion"})
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    cases = [((tmp_path,), "not a build folder"),
             ((text,), "format text has no question and answer"),
             ((no_test,), "the build has no test rows"),
             ((qa, "--kind", "mc"), "no test row is a multiple-choice item"),
             ((qa, "--output", tmp_path / "taken"), "is not an earlier eval export")]
    for args, message in cases:
        code, _, err = cli(capsys, "export-eval", *args)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and message in lines[0], (args, err)
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine" and not (tmp_path / "tq-qa-lm-eval").exists()
    code, out, err = cli(capsys, "export-eval", qa)                    # default: DIR-lm-eval beside DIR
    assert code == 0 and "qa; tasks wiki_qa_tq_qa" in out, err
    first = read_jsonl(tmp_path / "tq-qa-lm-eval" / "data" / "test.jsonl")
    code, _, err = cli(capsys, "export-eval", qa, "--name", "again")   # an earlier export is replaced whole
    assert code == 0, err
    assert sorted(x.name for x in (tmp_path / "tq-qa-lm-eval").glob("*.yaml")) == ["again.yaml"]
    assert read_jsonl(tmp_path / "tq-qa-lm-eval" / "data" / "test.jsonl") == first
    assert not list(tmp_path.glob(".tq-qa-lm-eval.*"))                  # no temporary folder left behind


def test_hostile_text_in_a_build_stays_data(build_dir, tmp_path, lm_eval_tasks):
    """A build folder from someone else (pulled from S3 or the Hub): its rows and name reach the task folder as
    data only. Prompts go to JSONL and are read by column name (lm-eval renders no template over them), the
    name is dumped as a quoted YAML string, and the only code is wiki_qa_task.py, byte for byte the package's."""
    import wiki_qa.evalexport.harness_task as shipped

    csv_path = tmp_path / "TruthfulQA.csv"
    with open(TRUTHFULQA, encoding="utf-8", newline="") as f, open(csv_path, "w", encoding="utf-8", newline="") as o:
        w = csv.writer(o)
        for n, rec in enumerate(csv.reader(f)):
            w.writerow(rec if n == 0 else [rec[0], rec[1], rec[2] + " {{ 7*7 }} {% for x in range(3) %}x{% endfor %}",
                                           *rec[3:]])
    build = build_dir("tq-hostile", {"source": {"type": "truthfulqa", "path": str(csv_path)}, "format": "completion"})
    report = json.loads((build / "build_report.json").read_text())
    hostile = "x\ntask: evil\ncustom_dataset: !function os.system"
    (build / "build_report.json").write_text(json.dumps({**report, "name": hostile}))
    done = export_eval(str(build), str(tmp_path / "out"))
    assert done["tasks"] == ["wiki_qa_x_task_evil_custom_dataset_function_os_system"]
    task = lm_eval_tasks(tmp_path / "out")[done["tasks"][0]]
    assert task.config.metadata["wiki_qa"]["build"] == hostile and task.config.custom_dataset.__name__ == "load"
    doc = next(iter(task.test_docs()))
    assert task.doc_to_text(doc) == doc["prompt"] and "{{ 7*7 }} {% for x in range(3) %}x{% endfor %}" in doc["prompt"]
    assert (tmp_path / "out" / "wiki_qa_task.py").read_bytes() == Path(shipped.__file__).read_bytes()
    assert sorted(p.name for p in (tmp_path / "out").rglob("*.py")) == ["wiki_qa_task.py"]


def test_a_build_without_val_exports_a_zero_shot_task(build_dir, tmp_path, lm_eval_tasks):
    build = build_dir("tq-test-only", {"source": {"type": "truthfulqa", "path": str(TRUTHFULQA), "form": "mc1"},
                                       "format": "completion", "split": {"train": 0.0, "val": 0.0, "test": 1.0}})
    done = export_eval(str(build), str(tmp_path / "out"), name="zero")
    assert done["splits"] == {"test": 817, "val": 0}
    assert "fewshot_split" not in (tmp_path / "out" / "zero.yaml").read_text()
    task = lm_eval_tasks(tmp_path / "out")["zero"]
    assert len(list(task.test_docs())) == 817 and not task.has_validation_docs()


def test_translated_mmlu_exports_its_translated_options_and_the_same_answers(build_dir, data_dir, tmp_path, fake,
                                                                             llm):
    untag = lambda text: re.sub(r"\[[A-Za-z]+\] ", "", text)  # noqa: E731 - the tag before each sentence
    # MMLU has no Yoruba reference: the fake translator tags each sentence "[Yoruba] " and keeps every protected
    # token, so this checks structure (the language check is off, as in the translate task's own MMLU test)
    fake.configure(translator={"pairs": [], "fallback": "tag"})
    source = {"type": "mmlu", "path": str(data_dir / "mmlu"), "splits": MMLU_AS_EVAL, "subjects": ["virology"]}
    build = build_dir("mmlu-yo", {"source": source, "generate": {"task": "translate", "target_lang": "yo",
                                                                 "check_language": False},
                                  "llm": llm, "format": "completion"})
    done = export_eval(str(build), str(tmp_path / "out"))
    assert (done["kind"], done["answer_style"], done["langs"], done["skipped"]) == ("mc", "text", ["yo"], {})
    records = mmlu_records(data_dir / "mmlu")
    items = read_jsonl(tmp_path / "out" / "data" / "test.jsonl")
    assert len(items) == done["splits"]["test"] == sum(k.startswith("mmlu:val:virology:") for k in records)
    for it in items:
        q, *choices, letter = records[it["id"].removesuffix("/yo")]
        assert [untag(c) for c in it["choices"]] == choices and it["choices"] != choices
        assert it["answer"] == "ABCD".index(letter) and it["target"] == it["choices"][it["answer"]]
        assert untag(it["question"]) == q and it["lang"] == "yo"
