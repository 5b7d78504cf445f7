"""TruthfulQA (sylinrl/TruthfulQA's TruthfulQA.csv) -> prompt/completion examples.

The CSV has a header: Type, Category, Question, Best Answer, Correct Answers, Incorrect Answers, Source (the
2025 revision adds Best Incorrect Answer); the answer fields hold `;`-separated answers. Columns are read by
name. A file without those columns is a one-line UserError naming it; a record with the wrong number of fields
or no question is skipped as `malformed_row`, with its file and line in the report.

form: generation   prompt "{question}", completion "{best answer}"
form: mc1          prompt "{question}\nA. ..\nB. ..\n" (MMLU's plain layout, wiki_qa/choices.py); one choice is
                   the best answer; completion its text or letter; meta.answer its letter (as MMLU rows)
Both keep every correct and incorrect answer in meta, so an eval can score against all of them.
"""
from __future__ import annotations

import csv
import hashlib
import io as _io
import random
from typing import Iterator

from wiki_qa import io
from wiki_qa.builders.base import License, Source, SourceStats, csv_records, register
from wiki_qa.choices import LETTERS, format_choices
from wiki_qa.errors import UserError

from .config import TruthfulQAConfig

COLUMNS = ("Type", "Category", "Question", "Best Answer", "Correct Answers", "Incorrect Answers", "Source")
BEST_INCORRECT = "Best Incorrect Answer"  # only in the 2025 revision


def split_answers(field: str | None) -> list[str]:
    """"a; b;c" -> ["a", "b", "c"], without empty pieces or repeats."""
    out: list[str] = []
    for piece in (field or "").split(";"):
        piece = piece.strip()
        if piece and piece not in out:
            out.append(piece)
    return out


def _text(stream, path: str):
    # utf-8-sig: a copy saved by a spreadsheet starts with a byte-order mark, which would hide the first column
    return _io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def read_header(path: str) -> list[str]:
    """The column names of `path`; UserError when the file is not TruthfulQA's CSV layout."""
    with io.open_input(path, buffer_size=1 << 16) as inp:
        try:
            header = next(csv.reader(_text(inp.stream, path)), None)
        except (UnicodeDecodeError, csv.Error) as e:
            raise UserError(f"not a UTF-8 CSV file ({type(e).__name__}: {e})", path=path) from None
    if not header:
        raise UserError("empty file (expected TruthfulQA's CSV with a header line)", path=path)
    names = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        found = ", ".join(n[:40] for n in names[:10]) + (", ..." if len(names) > 10 else "")
        raise UserError(f"missing column {missing[0]!r}: not TruthfulQA's CSV layout ({', '.join(COLUMNS)}); "
                        f"found: {found}", path=path)
    return names


@register
class TruthfulQASource(Source):
    type = "truthfulqa"
    kind = "examples"
    Config = TruthfulQAConfig
    license = License("apache-2.0", "Apache-2.0", "TruthfulQA (Lin et al., 2021) is released under the Apache "
                      "License 2.0. It is an evaluation benchmark: training on it contaminates that evaluation.")
    task_categories = ("question-answering", "multiple-choice")

    def shards(self, parallel: int = 1) -> list[str]:
        paths = io.expand(self.config.path)
        if len(paths) != 1:  # doc_ids are record numbers, unique within one file
            raise UserError(f"give one TruthfulQA.csv file, not {len(paths)}", path=self.config.path)
        read_header(paths[0])  # a wrong file fails before any work
        return paths

    def read(self, shard: str, stats: SourceStats, limit: int | None = None) -> Iterator[dict]:
        names = read_header(shard)
        n, cut = 0, False
        with io.open_input(shard) as inp:
            reader = csv.reader(_text(inp.stream, shard))
            next(reader)
            record = 0
            try:
                for line, fields in csv_records(reader, shard, stats):
                    if limit is not None and n >= limit:
                        stats.truncated = cut = True
                        break
                    record += 1
                    stats.pages_seen += 1
                    row = self._row(dict(zip(names, fields)), len(fields) == len(names), record, line, shard, stats)
                    if row is not None:
                        n += 1
                        stats.documents += 1
                        yield row
            except UnicodeDecodeError as e:  # the file's encoding, not one record: the decoder cannot resume
                raise UserError(f"not UTF-8 after line {reader.line_num}: {e}", path=shard) from None
            # the digest of a file read to its end only (as MediaWiki's reader records it)
            stats.files.append({"path": shard, "sha256": None if cut else inp.sha256, "bytes": inp.size})

    def _row(self, rec: dict, complete: bool, record: int, line: int, shard: str, stats: SourceStats) -> dict | None:
        question, best = (rec.get("Question") or "").strip(), (rec.get("Best Answer") or "").strip()
        reason = None
        if not complete:
            reason = f"expected {len(COLUMNS)}+ fields in TruthfulQA's layout, found another count"
        elif not question or not best:
            reason = "no question or no best answer"
        if reason:
            stats.skip("malformed_row")
            stats.errors.append({"file": shard, "line": line, "reason": reason})
            return None
        correct = split_answers(rec.get("Correct Answers"))
        incorrect = split_answers(rec.get(BEST_INCORRECT)) + split_answers(rec.get("Incorrect Answers"))
        incorrect = [a for i, a in enumerate(incorrect) if a not in incorrect[:i] and a not in correct and a != best]
        doc_id = f"truthfulqa:{record}"
        meta = {"type": (rec.get("Type") or "").strip(), "category": (rec.get("Category") or "").strip(),
                "best_answer": best, "correct_answers": correct, "incorrect_answers": incorrect,
                "form": self.config.form, "line": line}
        prompt, completion = question, best
        if self.config.form == "mc1":
            if not incorrect:
                stats.skip("no_incorrect_answers")
                return None
            choices, answer = self._choices(doc_id, best, incorrect)
            prompt = format_choices(question, choices)
            completion = LETTERS[answer] if self.config.completion == "letter" else best
            meta["answer"] = LETTERS[answer]
        return {"doc_id": doc_id, "prompt": prompt, "completion": completion,
                "title": meta["category"] or "TruthfulQA", "url": (rec.get("Source") or "").strip(),
                "lang": self.config.lang, "source": "truthfulqa", "meta": meta}

    def _choices(self, doc_id: str, best: str, incorrect: list[str]) -> tuple[list[str], int]:
        """The best answer and the first incorrect ones, in an order drawn from (seed, doc_id): the same on every
        machine and run, and the answer's position spread over the letters."""
        keep = incorrect if self.config.max_choices is None else incorrect[: self.config.max_choices - 1]
        keep = keep[: len(LETTERS) - 1]
        choices = [best, *keep]
        seed = hashlib.sha256(f"{self.config.seed}\x00{doc_id}".encode()).digest()
        random.Random(seed).shuffle(choices)
        return choices, choices.index(best)
