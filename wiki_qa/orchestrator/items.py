"""The `items` section of build_report.json: what the kept question items turned out to be.

- question_mix / difficulty: the planned labels of the kept items (meta.question_type, meta.difficulty),
  and, for English, what the questions look like (a rough heuristic) and how often that agrees with the plan;
- evidence: how many kept items carry spans, how many spans round-trip (chunk[start:end] == quote),
  checked against the chunk texts the items were generated from, and in how many the answer's words all
  occur in the item's own quotes (`answer_in_quote`: an answer supported by its evidence, not just by the
  chunk).
"""
from __future__ import annotations

import json
from collections import Counter

from wiki_qa.llm import parsing as P
from wiki_qa.llm.tasks import evidence, mix
from wiki_qa.orchestrator.judging import chunk_of, contexts


def _share(c: Counter) -> dict:
    total = sum(c.values())
    return {k: {"items": n, "share": round(n / total, 3)} for k, n in sorted(c.items(), key=lambda kv: -kv[1])} \
        if total else {}


def item_stats(dsd, chunks, weights: dict | None, levels) -> dict:
    planned, looks, diff = Counter(), Counter(), Counter()
    agree = english = items = with_span = trips = in_quote = 0
    for s, ds in dsd.items():
        if not ds.num_rows:
            continue
        cols = ["id", "meta", "lang"] + [c for c in ("_question", "_answer") if c in ds.column_names]
        part = ds.select_columns(cols)
        texts = {k: v[2] for k, v in contexts(chunks[s], {chunk_of(i) for i in part["id"]}).items()}
        for r in part:
            items += 1
            meta = json.loads(r["meta"] or "{}")
            t = meta.get("question_type")
            if t:
                planned[t] += 1
            if meta.get("difficulty"):
                diff[meta["difficulty"]] += 1
            q = r.get("_question")
            if q and (r["lang"] or "").split("-")[0] in ("en", "simple"):
                guess = mix.looks_like(q)
                looks[guess] += 1
                english += 1
                agree += bool(t) and guess == t
            spans = meta.get("evidence") or []
            if spans:
                with_span += 1
                trips += evidence.round_trips(spans, texts.get(chunk_of(r["id"]), {}))
                quotes = " ".join(sp["quote"] for sp in spans)
                in_quote += bool(r.get("_answer")) and P.grounding(r["_answer"], quotes) == 1.0
    out = {"items": items, "evidence": {"with_span": with_span, "round_trip": trips,
                                        "round_trip_share": round(trips / with_span, 4) if with_span else None,
                                        "answer_in_quote": in_quote,
                                        "answer_in_quote_share": round(in_quote / with_span, 4) if with_span else None}}
    if weights:
        total = sum(weights.values())
        out["question_mix"] = {"target": {k: round(w / total, 3) for k, w in weights.items()},
                               "planned_kept": _share(planned), "looks_like": _share(looks),
                               "agreement": round(agree / english, 3) if english and planned else None}
    elif looks:
        out["question_mix"] = {"looks_like": _share(looks)}
    if levels:
        out["difficulty"] = {"target": levels, "planned_kept": _share(diff)}
    return out
