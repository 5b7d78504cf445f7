"""The judge step's data work: example rows grouped by chunk (one judge request each), and the threshold.

Generated rows come out of the LLM step in their chunk's order, k = 0, 1, ... (both engines), so a chunk's
examples are contiguous; dedup and decontamination only remove rows. Grouping consecutive rows by chunk
id therefore gives one judge row per chunk, and the judge's output (the same rows, annotated) comes back
in the same order: ids and order are those of the generated rows whatever the engine.
"""
from __future__ import annotations

import json
import re
from collections import Counter

import datasets

from wiki_qa.llm.tasks.judge import SCORE
from wiki_qa.llm.tasks.multihop import PAIR_COLUMNS
from wiki_qa.llm.tasks.roundtrip import F1, NO_ANSWER

JUDGE_ROW = datasets.Features({"id": datasets.Value("string"), "title": datasets.Value("string"),
                               "text": datasets.Value("string"), "_rows": datasets.List(datasets.Value("string"))})


def chunk_of(example_id: str) -> str:
    """`{chunk id}/{task}/{k}` -> chunk id (a chunk id may itself hold '/')."""
    return example_id.rsplit("/", 2)[0]


def contexts(chunks: datasets.Dataset, ids: set[str]) -> dict[str, tuple[str, str, dict[str, str]]]:
    """chunk id -> (title, passage the items were written from, {chunk id: text} of its parts), for `ids`.
    A qa_multihop pair's passage is both chunks; its parts are A and B."""
    if not ids or not chunks.num_rows:
        return {}
    all_ids = chunks["id"]
    where = [i for i, c in enumerate(all_ids) if c in ids]
    pair = PAIR_COLUMNS[0] in chunks.column_names
    cols = ["id", "title", "text"] + (["_b_id", "_b_text"] if pair else [])
    out = {}
    for r in chunks.select(where).select_columns(cols):
        if pair:
            a_id = r["id"][: len(r["id"]) - len(r["_b_id"]) - 1]
            out[r["id"]] = (r["title"], f"{r['text']}\n\n{r['_b_text']}", {a_id: r["text"], r["_b_id"]: r["_b_text"]})
        else:
            out[r["id"]] = (r["title"], r["text"], {r["id"]: r["text"]})
    return out


def judge_rows(examples: datasets.Dataset, chunks: datasets.Dataset) -> datasets.Dataset:
    """One row per chunk: id, title, text (the passage), _rows (its example rows as JSON, in order)."""
    if not examples.num_rows:
        return datasets.Dataset.from_dict({c: [] for c in JUDGE_ROW}, features=JUDGE_ROW)
    ctx = contexts(chunks, {chunk_of(i) for i in examples["id"]})
    out: dict[str, list] = {c: [] for c in JUDGE_ROW}
    for batch in examples.iter(batch_size=1000):
        for row in (dict(zip(batch, vals)) for vals in zip(*batch.values())):
            key = chunk_of(row["id"])
            if not out["id"] or out["id"][-1] != key:
                if key not in ctx:
                    raise ValueError(f"judge: example {row['id']} has no chunk {key} among the generation's input")
                title, text, _ = ctx[key]
                out["id"].append(key)
                out["title"].append(title)
                out["text"].append(text)
                out["_rows"].append([])
            out["_rows"][-1].append(json.dumps(row, ensure_ascii=False))
    return datasets.Dataset.from_dict(out, features=JUDGE_ROW)


# A judge whose scores carry no signal: one score for at least this share of the items it scored, or reasons
# copied from its own prompt for at least REASON_COPY_SHARE of them. Below MIN_ITEMS scored items the test
# cannot tell (reported as null).
ONE_SCORE_SHARE = 0.9
REASON_COPY_SHARE = 0.5
MIN_ITEMS = 10


def _words(s: str) -> list[str]:
    return re.findall(r"\w+", (s or "").casefold())


def copied_from(reason: str, prompt: str) -> bool:
    """The reason is text of the judge's prompt ("one short sentence"), not a judgement of the item."""
    w = _words(reason)
    return bool(w) and f" {' '.join(w)} " in f" {' '.join(_words(prompt))} "


def signal(scores: list[int], reasons: list[str], prompt: str) -> dict:
    """Whether the judge discriminates at all: the share of its most common score, and of reasons copied
    from its prompt. `degenerate` is True when either crosses its line, None when too few items to tell."""
    scored = [(x, r) for x, r in zip(scores, reasons) if x]
    if not scored:
        return {"degenerate": None, "items": 0, "problems": []}
    top, n_top = Counter(x for x, _ in scored).most_common(1)[0]
    copied = sum(copied_from(r, prompt) for _, r in scored)
    out = {"items": len(scored), "top_score": top, "top_score_share": round(n_top / len(scored), 3),
           "copied_reason_share": round(copied / len(scored), 3), "problems": []}
    if out["top_score_share"] >= ONE_SCORE_SHARE:
        out["problems"].append(f"one score ({top}) for {out['top_score_share']:.0%} of the items")
    if out["copied_reason_share"] >= REASON_COPY_SHARE:
        out["problems"].append(f"reasons copied from the judge's prompt for {out['copied_reason_share']:.0%} of "
                               "the items")
    out["degenerate"] = bool(out["problems"]) if len(scored) >= MIN_ITEMS else None
    return out


def verdicts(ds: datasets.Dataset) -> tuple[list[int], list[str]]:
    """The judge's scores and reasons of a judged split, in row order."""
    if not ds.num_rows:
        return [], []
    reasons = []
    for meta in ds["meta"]:
        try:
            j = (json.loads(meta or "{}") or {}).get("judge") or {}
        except ValueError:
            j = {}
        reasons.append(str(j.get("reason") or ""))
    return ds[SCORE], reasons


def threshold(dsd: datasets.DatasetDict, min_score: int, keep_unjudged: bool) -> tuple[datasets.DatasetDict, dict]:
    """Drop rows under min_score (judge_low) and, unless kept, rows the judge could not score
    (judge_failed); the score column goes. Returns the rows and the report's counts."""
    hist: Counter = Counter()
    by_split, out = {}, {}
    for s, ds in dsd.items():
        scores = ds[SCORE] if ds.num_rows else []
        hist.update(scores)
        keep = [i for i, x in enumerate(scores) if x >= min_score or (x == 0 and keep_unjudged)]
        low = sum(1 for x in scores if 0 < x < min_score)
        by_split[s] = {"judged": len(scores), "kept": len(keep), "judge_low": low,
                       "judge_failed": 0 if keep_unjudged else sum(1 for x in scores if x == 0)}
        kept = ds if len(keep) == ds.num_rows else ds.select(keep)
        out[s] = kept.remove_columns(SCORE)
    total = {k: sum(v[k] for v in by_split.values()) for k in ("judged", "kept", "judge_low", "judge_failed")}
    report = {"min_score": min_score, **total, "dropped": {"judge_low": total["judge_low"],
                                                           "judge_failed": total["judge_failed"]},
              "histogram": {str(k): hist.get(k, 0) for k in range(1, 6)}, "unjudged": hist.get(0, 0),
              "by_split": by_split}
    return datasets.DatasetDict(out), report


def roundtrip_threshold(dsd: datasets.DatasetDict, min_f1: float) -> tuple[datasets.DatasetDict, dict]:
    """Keep rows whose round-trip answer agrees (F1 >= min_f1); rows that got no answer are dropped too
    (roundtrip_failed). The F1 column goes. Returns the rows and the report's counts."""
    by_split, out, f1s = {}, {}, []
    for s, ds in dsd.items():
        scores = ds[F1] if ds.num_rows else []
        keep = [i for i, x in enumerate(scores) if x >= min_f1]
        failed = sum(1 for x in scores if x == NO_ANSWER)
        by_split[s] = {"checked": len(scores), "kept": len(keep),
                       "roundtrip_mismatch": len(scores) - len(keep) - failed, "roundtrip_failed": failed}
        f1s += [x for x in scores if x != NO_ANSWER]
        out[s] = (ds if len(keep) == ds.num_rows else ds.select(keep)).remove_columns(F1)
    total = {k: sum(v[k] for v in by_split.values()) for k in ("checked", "kept", "roundtrip_mismatch",
                                                               "roundtrip_failed")}
    report = {"min_f1": min_f1, **total, "dropped": {k: total[k] for k in ("roundtrip_mismatch", "roundtrip_failed")},
              "mean_f1": round(sum(f1s) / len(f1s), 3) if f1s else None, "by_split": by_split}
    return datasets.DatasetDict(out), report
