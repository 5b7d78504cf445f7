"""Human review round trip: export a split to CSV/JSONL, let people edit it (in any language), import it back.

Rows are matched by `id`. An import is all-or-nothing: every problem in the file is listed (one line each) and
nothing is written unless the whole file is valid. The dataset folder is rewritten atomically: saved next to
it, then swapped in by rename, so a crash never leaves a half-written dataset.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wiki_qa.errors import UserError
from wiki_qa.quality.check import FORMAT_KEYS as FORMAT
from wiki_qa.quality.check import ROLES, _present, detect_format, validate_example

READ_ONLY = ("split", "title", "url", "lang")   # exported as context for the reviewer, ignored on import
TRUE = {"1", "true", "yes", "y", "x", "delete", "del"}
FALSE = {"", "0", "false", "no", "n"}
_GENERIC = re.compile(r"^m(\d+)_(role|content)$")
_ROLE_COL = re.compile(r"^(%s)(?:_(\d+))?$" % "|".join(sorted(ROLES)))


class ReviewError(UserError):
    """An invalid review file. `errors` holds one line per problem; str() is the first plus a count."""

    def __init__(self, errors: list[str], path: str):
        self.errors = errors
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(errors[0] + more, path=path)


def _load(path: str | Path):
    import datasets

    p = Path(path)
    if not p.is_dir():
        raise UserError("dataset folder not found", path=str(p))
    try:
        dsd = datasets.load_from_disk(str(p))
    except Exception as e:
        raise UserError(f"not a saved dataset folder ({type(e).__name__})", path=str(p)) from None
    if isinstance(dsd, datasets.Dataset):
        raise UserError("expected a DatasetDict folder (train/val/test), found a single Dataset", path=str(p))
    return dsd


def _format_of(dsd) -> str:
    fmts = {detect_format(ds.column_names) for ds in dsd.values()}
    if len(fmts) != 1 or None in fmts:
        raise UserError(f"cannot tell the dataset format from its columns ({sorted(map(str, fmts))})")
    return fmts.pop()


# ------------------------------------------------------------------------------------------------------ export

def _role_columns(role_seqs: set[tuple[str, ...]]) -> list[str] | None:
    """Column names like system,user,assistant when every row has the same role sequence (the usual case),
    which is far easier to edit in a spreadsheet than m1_role/m1_content pairs."""
    if len(role_seqs) != 1:
        return None
    (seq,) = role_seqs
    if not seq or any(r not in ROLES for r in seq):
        return None
    cols, seen = [], Counter()
    for r in seq:
        seen[r] += 1
        cols.append(r if seen[r] == 1 else f"{r}_{seen[r]}")
    return cols


def export_review(path: str | Path, to: str | Path, *, split: str = "train") -> dict[str, Any]:
    """Write `split` of the dataset at `path` to `to` (.csv or .jsonl). Returns {rows, file, format, columns}."""
    dsd = _load(path)
    if split not in dsd:
        raise UserError(f"no split {split!r} (splits: {list(dsd)})", path=str(path))
    fmt = _format_of(dsd)
    ds = dsd[split]
    if "id" not in ds.column_names:
        raise UserError("dataset has no 'id' column; review matches rows by id", path=str(path))
    to = Path(to)
    kind = to.suffix.lower()
    if kind not in (".csv", ".jsonl"):
        raise UserError("review file must end in .csv or .jsonl", path=str(to))
    rows = ds.to_list()
    context = [c for c in READ_ONLY if c in ds.column_names and c != "split"]
    judged = _judge_columns(rows)
    context += list(judged[0]) if judged else []
    for r, j in zip(rows, judged):
        r.update(j)
    base = {"split": split}
    to.parent.mkdir(parents=True, exist_ok=True)
    if kind == ".jsonl":
        content = sorted(FORMAT[fmt])
        with to.open("w", encoding="utf-8") as fh:
            for r in rows:
                rec = {"id": r["id"], **base}
                for c in content:
                    rec[c] = [_present(m) for m in r[c]] if c == "messages" else r[c]
                rec.update({c: r[c] for c in context})
                rec["delete"] = False
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        columns = ["id", "split", *content, *context, "delete"]
    else:
        if fmt == "messages":
            named = _role_columns({tuple(m["role"] for m in r["messages"]) for r in rows})
            width = max((len(r["messages"]) for r in rows), default=0)
            content = named or [f"m{i}_{k}" for i in range(1, width + 1) for k in ("role", "content")]
        else:
            content = ["prompt", "completion"] if fmt == "completion" else ["text"]
        columns = ["id", "split", *content, *context, "delete"]
        # utf-8-sig: the BOM makes Excel open the file as UTF-8, so Yoruba diacritics survive a round trip.
        with to.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=columns)
            w.writeheader()
            for r in rows:
                rec = {"id": r["id"], **base, "delete": ""}
                rec.update({c: r[c] for c in context})
                if fmt != "messages":
                    rec.update({c: r[c] for c in content})
                elif named:
                    rec.update({col: m["content"] for col, m in zip(content, r["messages"])})
                else:
                    for i, m in enumerate(r["messages"], 1):
                        rec[f"m{i}_role"], rec[f"m{i}_content"] = m["role"], m["content"]
                w.writerow(rec)
    return {"rows": len(rows), "file": str(to), "format": fmt, "split": split, "columns": columns}



def _judge_columns(rows: list[dict]) -> list[dict]:
    """judge_score / judge_reason per row from meta.judge (a build with `judge:`), so a reviewer can see what
    the judge thought and calibrate judge.min_score; [] when no row was judged. Read-only on import."""
    out, any_judged = [], False
    for r in rows:
        try:
            j = (json.loads(r.get("meta") or "{}") or {}).get("judge") or {}
        except (ValueError, AttributeError):
            j = {}
        any_judged = any_judged or bool(j)
        out.append({"judge_score": j.get("score"), "judge_reason": j.get("reason")})
    return out if any_judged else []


# ------------------------------------------------------------------------------------------------------ import

def _clean(s: Any) -> Any:
    """Editors differ in line endings and Unicode composition (NFC vs NFD for tone marks); neither is an edit."""
    if isinstance(s, str):
        return unicodedata.normalize("NFC", s.replace("\r\n", "\n").replace("\r", "\n"))
    return s


def _read_file(file: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    """(header, [(line number, record)]) from a review CSV or JSONL."""
    if not file.is_file():
        raise UserError("review file not found", path=str(file))
    try:
        if file.suffix.lower() == ".jsonl":
            recs, keys = [], []
            with file.open(encoding="utf-8-sig") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError as e:
                        raise ReviewError([f"line {n}: invalid JSON ({e.msg})"], str(file)) from None
                    if not isinstance(rec, dict):
                        raise ReviewError([f"line {n}: expected a JSON object"], str(file))
                    keys += [k for k in rec if k not in keys]
                    recs.append((n, rec))
            return keys, recs
        if file.suffix.lower() == ".csv":
            with file.open(encoding="utf-8-sig", newline="") as fh:
                reader = csv.DictReader(fh)
                # line_num after a record is its last physical line; quoted fields may span several lines.
                recs = [(reader.line_num, rec) for rec in reader]
                return list(reader.fieldnames or []), recs
    except UnicodeDecodeError:
        raise UserError("not UTF-8 text (save it as 'CSV UTF-8')", path=str(file)) from None
    raise UserError("review file must end in .csv or .jsonl", path=str(file))


def _truthy(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if v is None:
        return False
    s = str(v).strip().lower()
    return True if s in TRUE else False if s in FALSE else None


def _proposed(rec: dict, header: list[str], fmt: str) -> tuple[dict | None, str | None]:
    """The row's content fields as the reviewer left them, or (None, error)."""
    if fmt != "messages":
        return {c: _clean(rec.get(c) or "") for c in FORMAT[fmt]}, None
    if "messages" in rec:  # JSONL keeps the list as is
        msgs = rec["messages"]
        if not isinstance(msgs, list) or not all(isinstance(m, dict) for m in msgs):
            return None, "'messages' must be a list of {role, content} objects"
        return {"messages": [{k: _clean(v) for k, v in m.items()} for m in msgs]}, None
    generic = sorted({int(m.group(1)) for c in header if (m := _GENERIC.match(c))})
    if generic:
        msgs = []
        for i in generic:
            role, content = rec.get(f"m{i}_role") or "", _clean(rec.get(f"m{i}_content") or "")
            if role or content:
                msgs.append({"role": role.strip(), "content": content})
        return {"messages": msgs}, None
    cols = [c for c in header if _ROLE_COL.match(c)]
    return {"messages": [{"role": _ROLE_COL.match(c).group(1), "content": _clean(rec.get(c) or "")}
                         for c in cols]}, None


def _contents(fields: dict) -> list[str]:
    if "messages" in fields:
        return [m.get("content") or "" for m in fields["messages"]]
    return list(fields.values())


def _required_columns(header: list[str], fmt: str) -> str | None:
    if "id" not in header:
        return "header has no 'id' column"
    if fmt == "messages":
        if "messages" in header or any(_GENERIC.match(c) or _ROLE_COL.match(c) for c in header):
            return None
        return "no messages columns (messages, or user/assistant, or m1_role/m1_content ...)"
    missing = [c for c in sorted(FORMAT[fmt]) if c not in header]
    return f"header lacks {missing}" if missing else None


@dataclass
class ReviewPlan:
    fmt: str
    edits: dict[str, dict[str, dict]] = field(default_factory=dict)      # split -> id -> new fields
    deletes: dict[str, dict[str, str]] = field(default_factory=dict)     # split -> id -> reason
    changed: list[dict] = field(default_factory=list)
    deleted: list[dict] = field(default_factory=list)
    unchanged: int = 0
    rows_in_file: int = 0


def plan_import(file: str | Path, dsd) -> ReviewPlan:
    """Validate a review file against the dataset; raise ReviewError listing every problem."""
    file = Path(file)
    fmt = _format_of(dsd)
    header, recs = _read_file(file)
    problem = _required_columns(header, fmt)
    if problem:
        raise ReviewError([problem], str(file))
    where: dict[str, tuple[str, int]] = {}
    for split, ds in dsd.items():
        if "id" not in ds.column_names:
            raise UserError(f"split {split!r} has no 'id' column")
        for i, rid in enumerate(ds["id"]):
            where.setdefault(rid, (split, i))
    plan = ReviewPlan(fmt=fmt, rows_in_file=len(recs))
    errors: list[str] = []
    seen: set[str] = set()
    fields_of = sorted(FORMAT[fmt])
    for n, rec in recs:
        if None in rec:  # csv.DictReader puts surplus cells under the key None
            errors.append(f"line {n}: more cells than header columns (an unquoted comma?)")
            continue
        rid = (rec.get("id") or "").strip() if isinstance(rec.get("id"), str) else rec.get("id")
        if not rid:
            errors.append(f"line {n}: empty id")
            continue
        if rid not in where:
            errors.append(f"line {n}: unknown id {rid!r}")
            continue
        if rid in seen:
            errors.append(f"line {n}: id {rid!r} appears twice")
            continue
        seen.add(rid)
        split, idx = where[rid]
        delete = _truthy(rec.get("delete"))
        if delete is None:
            errors.append(f"line {n}: id {rid!r}: delete={rec.get('delete')!r} is not yes/no")
            continue
        if delete:
            plan.deletes.setdefault(split, {})[rid] = "delete column"
            continue
        new, err = _proposed(rec, header, fmt)
        if err:
            errors.append(f"line {n}: id {rid!r}: {err}")
            continue
        texts = _contents(new)
        if not any(isinstance(t, str) and t.strip() for t in texts):
            plan.deletes.setdefault(split, {})[rid] = "emptied"
            continue
        bad = validate_example(new, fmt)
        if bad:
            code, detail = bad[0]
            hint = " (set delete to 1 to drop the row)" if code == "missing_content" else ""
            errors.append(f"line {n}: id {rid!r}: {code}: {detail}{hint}")
            continue
        old = dsd[split][idx]
        old_fields = {c: ([_clean_msg(m) for m in old[c]] if c == "messages" else _clean(old[c])) for c in fields_of}
        new_fields = {c: ([_clean_msg(m) for m in new[c]] if c == "messages" else new[c]) for c in fields_of}
        diff = [c for c in fields_of if old_fields[c] != new_fields[c]]
        if diff:
            plan.edits.setdefault(split, {})[rid] = new_fields
            plan.changed.append({"id": rid, "split": split, "fields": diff})
        else:
            plan.unchanged += 1
    if errors:
        raise ReviewError(errors, str(file))
    plan.deleted = [{"id": rid, "split": s, "reason": why} for s, d in plan.deletes.items() for rid, why in d.items()]
    return plan


def _clean_msg(m: dict) -> dict:
    return {"role": m.get("role"), "content": _clean(m.get("content"))}


def _apply(ds, edits: dict[str, dict], deletes: dict[str, str]):
    # keep_in_memory: a map/filter over a dataset loaded from disk would otherwise write cache files
    # into the very folder we are about to replace.
    if edits:
        def fix(batch):
            for j, rid in enumerate(batch["id"]):
                for col, value in edits.get(rid, {}).items():
                    if col == "messages":  # keep the Arrow struct's other keys (as None) for a stable schema
                        keys = list(batch[col][j][0].keys()) if batch[col][j] else ["role", "content"]
                        value = [{k: m.get(k) for k in keys} for m in value]
                    batch[col][j] = value
            return batch
        ds = ds.map(fix, batched=True, features=ds.features, keep_in_memory=True)
    if deletes:
        ds = ds.filter(lambda ids: [i not in deletes for i in ids], input_columns="id", batched=True,
                       keep_in_memory=True)
    return ds


def _swap_in(new_dsd, target: Path, review_record: dict) -> None:
    """save_to_disk next to `target`, carry over its other files (build_report.json, README.md), rename."""
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    old = target.with_name(f"{target.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        # datasets 5.2 writes an empty split as zero shards, which load_from_disk then cannot read
        # (IndexError in concat_tables); one explicit shard keeps a fully-deleted split loadable.
        new_dsd.save_to_disk(str(tmp), num_shards={s: 1 for s, ds in new_dsd.items() if len(ds) == 0})
        for item in target.iterdir():
            if item.name not in new_dsd and item.name != "dataset_dict.json" and not (tmp / item.name).exists():
                (shutil.copytree if item.is_dir() else shutil.copy2)(item, tmp / item.name)
        rp = tmp / "build_report.json"
        if rp.is_file():  # record the human edits next to the build's own numbers
            try:
                rep = json.loads(rp.read_text(encoding="utf-8"))
                rep.setdefault("review", []).append(review_record)
                rp.write_text(json.dumps(rep, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            except (json.JSONDecodeError, AttributeError):
                pass  # not ours to repair; the dataset itself is what matters
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def import_review(file: str | Path, path: str | Path, *, dry_run: bool = False) -> dict[str, Any]:
    """Apply a reviewed file to the dataset folder `path`. Raises ReviewError (every problem, one line each)
    when the file is invalid; writes nothing then. Returns what changed."""
    file, path = Path(file), Path(path)
    dsd = _load(path)
    plan = plan_import(file, dsd)
    before = {s: len(ds) for s, ds in dsd.items()}
    touched = set(plan.edits) | set(plan.deletes)
    written = False
    if touched and not dry_run:
        import datasets

        new = datasets.DatasetDict({s: _apply(ds, plan.edits.get(s, {}), plan.deletes.get(s, {}))
                                    if s in touched else ds for s, ds in dsd.items()})
        record = {"file": file.name, "sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
                  "edited": len(plan.changed), "deleted": len(plan.deleted),
                  "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        after = {s: len(ds) for s, ds in new.items()}
        _swap_in(new, path, record)
        written = True
    else:
        after = {s: before[s] - len(plan.deletes.get(s, {})) for s in before}
    return {"file": str(file), "dir": str(path), "format": plan.fmt, "rows_in_file": plan.rows_in_file,
            "edited": plan.changed, "deleted": plan.deleted, "unchanged": plan.unchanged,
            "splits": {s: {"before": before[s], "after": after[s]} for s in before},
            "written": written, "dry_run": dry_run}

