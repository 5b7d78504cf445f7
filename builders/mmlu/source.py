"""MMLU -> prompt/completion examples.

prompt (template: plain):     "{question}\nA. {a}\nB. {b}\nC. {c}\nD. {d}\n"
prompt (template: standard):  "The following are multiple choice questions (with answers) about {subject}.\n\n"
                              + k dev examples "{question}\nA. ..\nD. ..\nAnswer: {X}\n\n" + the question + "Answer:"
completion: the correct choice's text (default) or its letter; with the standard
template it starts with a space, because the prompt ends in "Answer:" exactly as in the MMLU eval harness.
Input split -> output `split` column via `splits:` (auxiliary_train->train, val->val, test->test).
"""
from __future__ import annotations

from typing import Iterator

from wiki_qa.builders.base import License, Source, SourceStats, register
from wiki_qa.choices import format_choices
from wiki_qa.errors import UserError

from .config import MMLUConfig
from .reader import LETTERS, Item, Layout, open_layout


def pretty_subject(subject: str) -> str:
    return subject.replace("_", " ")


def format_question(item: Item) -> str:
    return format_choices(item.question, item.choices)  # the layout TruthfulQA MC1 and the eval export share


@register
class MMLUSource(Source):
    type = "mmlu"
    kind = "examples"
    Config = MMLUConfig
    license = License("mit", "MIT", "MMLU (Hendrycks et al.) is released under the MIT licence.")
    task_categories = ("multiple-choice", "question-answering")

    def __init__(self, config: MMLUConfig, clean=None):
        super().__init__(config, clean)
        self._dev_cache: dict[str, list[Item]] = {}

    def __getstate__(self):  # stays cheap to pickle: the dev cache is rebuilt in each worker
        return {"config": self.config, "clean": self.clean, "_dev_cache": {}}

    def _layout(self) -> Layout:
        layout = open_layout(self.config.path)
        if layout is None:
            raise UserError("not found (expected an MMLU folder, data.tar or cais/mmlu parquet folder)",
                            path=self.config.path)
        return layout

    def _selected(self, layout: Layout) -> list[tuple[str, str, str]]:
        wanted = set(self.config.subjects or [])
        files = layout.files()
        if wanted:
            known = {s for split, s, _ in files if split != "auxiliary_train"}
            unknown = sorted(wanted - known)
            if unknown:
                hint = ", ".join(sorted(known)[:10]) + (", ..." if len(known) > 10 else "")
                raise UserError(f"unknown subject {unknown[0]!r} (found: {hint})", path=self.config.path)
        # auxiliary_train is not per subject (its files are named after their origin: arc_easy, race...),
        # so `subjects:` does not filter it.
        return [
            (split, subj, shard)
            for split, subj, shard in files
            if split in self.config.splits and (not wanted or split == "auxiliary_train" or subj in wanted)
        ]

    def shards(self, parallel: int = 1) -> list[str]:
        layout = self._layout()
        files = self._selected(layout)
        if not files:
            found = sorted({split for split, _, _ in layout.files()})
            raise UserError(
                f"no MMLU files for splits {', '.join(self.config.splits)} "
                f"(found splits: {', '.join(found) or 'none'})",
                path=self.config.path,
            )
        if self.config.k_shot and not any(split == "dev" for split, _, _ in layout.files()):
            raise UserError("k_shot needs the dev split, which is not there", path=self.config.path)
        layout.check(files)
        return [shard for _, _, shard in files]

    def input_files(self) -> list[str]:
        return self._layout().input_files()

    def _dev(self, layout: Layout, subject: str) -> list[Item]:
        if subject not in self._dev_cache:
            items: list[Item] = []
            for split, subj, shard in layout.files():
                if split == "dev" and subj == subject:
                    items += layout.read(shard, split, subj, SourceStats())
            self._dev_cache[subject] = items
        return self._dev_cache[subject]

    def _answer(self, item: Item) -> str:
        text = item.answer if self.config.completion == "letter" else item.choices[LETTERS.index(item.answer)]
        return " " + text if self.config.template == "standard" else text

    def _prompt(self, layout: Layout, item: Item) -> str:
        if self.config.template == "plain":
            return format_question(item)
        header = f"The following are multiple choice questions (with answers) about {pretty_subject(item.subject)}.\n\n"
        shots = ""
        if self.config.k_shot:
            dev = [d for d in self._dev(layout, item.subject) if (d.file, d.line) != (item.file, item.line)]
            for d in dev[: self.config.k_shot]:
                shots += format_question(d) + f"Answer: {d.answer}\n\n"
        return header + shots + format_question(item) + "Answer:"

    def read(self, shard: str, stats: SourceStats, limit: int | None = None) -> Iterator[dict]:
        layout = self._layout()
        matches = [(split, subj) for split, subj, s in layout.files() if s == shard]
        if not matches:
            raise UserError("shard not found", path=shard)
        split, subject = matches[0]
        n = 0
        for item in layout.read(shard, split, subject, stats):
            if limit is not None and n >= limit:
                stats.truncated = True
                return
            n += 1
            stats.documents += 1
            yield {
                "doc_id": f"mmlu:{item.split}:{item.subject}:{item.line}",
                "prompt": self._prompt(layout, item),
                "completion": self._answer(item),
                "title": pretty_subject(item.subject),
                "url": "",
                "lang": self.config.lang,
                "source": "mmlu",
                "split": self.config.splits[item.split],
                "meta": {"subject": item.subject, "input_split": item.split, "answer": item.answer,
                         "file": item.file.rsplit("/", 1)[-1], "line": item.line},
            }
