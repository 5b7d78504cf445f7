"""Instruction datasets -> prompt/completion examples.

Presets map known column sets (open-instruct, Alpaca, Dolly, prompt/answer) to the prompt and completion;
`fields:` overrides any role. A missing column is a UserError naming it and listing the columns found; a
malformed line (bad JSON, wrong CSV field count) is counted with its file and line and the build goes on.
"""
from __future__ import annotations

import os
import re
from typing import Iterator

from wiki_qa import io
from wiki_qa.builders.base import License, Source, SourceStats, register
from wiki_qa.errors import UserError

from .config import OpenInstructConfig
from .files import HUB_PREFIX, iter_records, list_inputs, peek_columns

# preset -> role -> column; the first entry of a list that exists wins.
PRESETS: dict[str, dict[str, list[str]]] = {
    "open_instruct": {"prompt": ["alpaca_prompt"], "completion": ["response"]},
    "alpaca": {"instruction": ["instruction"], "input": ["input"], "completion": ["output"]},
    "dolly": {"instruction": ["instruction"], "input": ["context"], "completion": ["response"]},
    "prompt_answer": {"prompt": ["prompt"], "completion": ["answer", "completion", "response"]},
}
OPTIONAL_ROLES = {"input"}
# Extra columns kept in meta when present (open-instruct's provenance, Dolly's category...).
META_COLUMNS = ("source", "task_name", "template_type", "category", "id")
_TEST_FILE = re.compile(r"(^|[/_.-])test([/_.-]|$)")


def resolve_fields(preset: str, overrides: dict[str, str], columns: list[str], where: str) -> dict[str, str]:
    """role -> column for these columns; raises UserError naming the missing column."""
    cols = set(columns)
    candidates = [preset] if preset != "auto" else list(PRESETS)
    for name in candidates:
        spec = PRESETS[name]
        mapping, missing = {}, None
        for role, options in spec.items():
            if role in overrides:
                continue
            found = next((c for c in options if c in cols), None)
            if found is None and role not in OPTIONAL_ROLES:
                missing = missing or options[0]
            elif found:
                mapping[role] = found
        mapping.update(overrides)
        missing = missing or next((c for r, c in overrides.items() if c not in cols and r not in OPTIONAL_ROLES), None)
        if missing is None and "completion" in mapping and ("prompt" in mapping or "instruction" in mapping):
            return mapping
        if preset != "auto":
            raise UserError(f"missing column {missing!r} (found: {', '.join(columns)})", path=where)
    raise UserError(
        "no known instruction columns (alpaca_prompt/response, instruction/input/output, instruction/context/response,"
        f" prompt/answer); set source.fields (found: {', '.join(columns)})",
        path=where,
    )


@register
class OpenInstructSource(Source):
    type = "open_instruct"
    kind = "examples"
    Config = OpenInstructConfig
    license = License("cc-by-nc-4.0", "CC BY-NC 4.0",
                      "Instruction data such as Alpaca is CC BY-NC 4.0 (non-commercial) and was itself generated "
                      "with an OpenAI model whose terms restrict training competing models.")

    def shards(self, parallel: int = 1) -> list[str]:
        shards = list_inputs(self.config.path, self.config.format)
        if not shards:
            raise UserError("no input files found (jsonl, json, parquet or csv, or a Hub dataset id)",
                            path=self.config.path)
        if not shards[0].startswith(HUB_PREFIX):
            for shard in shards:  # fail before any work when a file lacks a needed column
                resolve_fields(self.config.preset, self.config.fields, peek_columns(shard, self.config.format), shard)
        return shards

    def input_files(self) -> list[str]:
        return list_inputs(self.config.path, self.config.format)

    def identity(self) -> list[dict]:
        # A Hub dataset id has no file to stat; its name is its identity.
        return [{"path": f} if f.startswith(HUB_PREFIX) else io.identity(f) for f in self.input_files()]

    def _name(self, shard: str) -> str:
        if self.config.name:
            return self.config.name
        if shard.startswith(HUB_PREFIX):
            return shard[len(HUB_PREFIX):].split("/")[-1]
        return os.path.splitext(os.path.basename(shard.removesuffix(".gz")))[0]

    def _prompt(self, rec: dict, fields: dict[str, str]) -> str:
        if "prompt" in fields:
            return str(rec.get(fields["prompt"]) or "").strip()
        instruction = str(rec.get(fields["instruction"]) or "").strip()
        inp = str(rec.get(fields.get("input", ""), "") or "").strip() if "input" in fields else ""
        if not instruction:
            return ""
        if inp:
            return self.config.template.format(instruction=instruction, input=inp)
        return self.config.template_no_input.format(instruction=instruction)

    def read(self, shard: str, stats: SourceStats, limit: int | None = None) -> Iterator[dict]:
        fields: dict[str, str] | None = None
        name = self._name(shard)
        file_is_test = bool(_TEST_FILE.search(os.path.basename(shard))) and not shard.startswith(HUB_PREFIX)
        n = 0
        for line, rec, input_split in iter_records(shard, self.config.format, stats):
            if fields is None:
                fields = resolve_fields(self.config.preset, self.config.fields, list(rec), shard)
            if limit is not None and n >= limit:
                stats.truncated = True
                return
            stats.pages_seen += 1
            prompt, completion = self._prompt(rec, fields), str(rec.get(fields["completion"]) or "").strip()
            if not prompt or not completion:
                stats.skip("empty")
                continue
            n += 1
            stats.documents += 1
            meta = {k: rec[k] for k in META_COLUMNS if rec.get(k) not in (None, "") and k not in fields.values()}
            origin = meta.get("source")
            row = {
                "doc_id": f"open_instruct:{name}:{input_split or 'all'}:{line}",
                "prompt": prompt,
                "completion": completion,
                "title": str(meta.get("task_name") or origin or name),
                "url": "",
                "lang": self.config.lang,
                "source": f"open_instruct:{origin}" if origin else f"open_instruct:{name}",
                "meta": meta | {"file": os.path.basename(shard), "line": line},
            }
            split_value = str(rec.get(self.config.split_column, "") or input_split or "").lower()
            if file_is_test or split_value == "test":
                row["split"] = "test"
            yield row
