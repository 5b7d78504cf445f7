"""Chunk pairs for qa_multihop: pages joined by a wikilink in their body text, within one split.

A page A links to B when B's title is among A's `meta.links` (the MediaWiki source keeps them). For each
page, in the split's canonical order, up to `max_pairs_per_page` of its linked pages are sampled with a
generator seeded by (seed, doc_id), so a page's pairs do not depend on the rest of the input; a pair already
made from the other side is not made again. The pair is A's chunk that names B (else A's first chunk) and
B's first chunk (its lead, which says what B is). Pairs never cross splits: a question must not carry test
text into train.

So that pairs exist in every split, `resplit` first moves whole communities of the link graph into one split
each (pipeline/split.link_splits): the stages still decide a split per document in their one streaming
pass, and only this build's pages are re-assigned, after the stages, by a cheap cut of the chunk rows.
"""
from __future__ import annotations

import json
import random

import datasets

from wiki_qa.builders.mediawiki.links import normalize_title
from wiki_qa.llm.tasks.multihop import PAIR_COLUMNS
from wiki_qa.pipeline.split import link_splits
from wiki_qa.rows import SPLITS


def _links(meta: str) -> list[str]:
    try:
        m = json.loads(meta) if meta else {}
    except ValueError:
        return []
    links = m.get("links") if isinstance(m, dict) else None
    return links if isinstance(links, list) else []


def plan_pairs(ds: datasets.Dataset, max_pairs: int, seed: int) -> tuple[list[tuple[int, int]], dict]:
    """(row of A's chunk, row of B's chunk) pairs for one split, and counts for the report."""
    cols = ds.select_columns(["doc_id", "title", "meta"])
    docs: dict[str, dict] = {}
    for i, row in enumerate(cols):
        d = docs.get(row["doc_id"])
        if d is None:
            docs[row["doc_id"]] = {"title": row["title"], "rows": [i], "links": _links(row["meta"])}
        else:
            d["rows"].append(i)
    by_title = {normalize_title(d["title"]): doc for doc, d in docs.items()}
    chosen, seen, linked_pages = [], set(), 0
    for doc, d in docs.items():
        targets = list(dict.fromkeys(by_title[t] for t in d["links"] if t in by_title and by_title[t] != doc))
        linked_pages += bool(targets)
        rng = random.Random(f"{seed}:{doc}")
        for other in rng.sample(targets, min(max_pairs, len(targets))):
            key = frozenset((doc, other))
            if key not in seen:
                seen.add(key)
                chosen.append((doc, other))
    # A's chunk that names B: read only the texts of the pages that got a pair.
    need = sorted({i for a, _ in chosen for i in docs[a]["rows"]})
    texts = dict(zip(need, ds.select(need)["text"])) if need else {}
    pairs = []
    for a, b in chosen:
        name = docs[b]["title"].casefold()
        rows_a = docs[a]["rows"]
        ia = next((i for i in rows_a if name in texts[i].casefold()), rows_a[0])
        pairs.append((ia, docs[b]["rows"][0]))
    pairs.sort()
    return pairs, {"pages": len(docs), "pages_linking_in_split": linked_pages, "pairs": len(pairs)}


def pair_dataset(ds: datasets.Dataset, pairs: list[tuple[int, int]]) -> datasets.Dataset:
    """The pair rows: A's columns (id "{A id}+{B id}") and B's id, title, text and url."""
    feats = datasets.Features({**ds.features, **{c: datasets.Value("string") for c in PAIR_COLUMNS}})
    if not pairs:
        return datasets.Dataset.from_dict({c: [] for c in feats}, features=feats, split=ds.split)
    a = ds.select([p[0] for p in pairs]).to_dict()
    b = ds.select([p[1] for p in pairs]).select_columns(["id", "title", "text", "url"]).to_dict()
    a["_b_id"], a["_b_title"], a["_b_text"], a["_b_url"] = b["id"], b["title"], b["text"], b["url"]
    a["id"] = [f"{x}+{y}" for x, y in zip(a["id"], b["id"])]
    return datasets.Dataset.from_dict(a, features=feats, split=ds.split)


def resplit(dsd: datasets.DatasetDict, split_cfg) -> tuple[datasets.DatasetDict, dict]:
    """The chunk rows cut again so that linked pages share a split; no page is ever in two splits. Rows
    keep their order within each split (train's, then val's, then test's rows of the stage order)."""
    rows = datasets.concatenate_datasets([dsd[s] for s in SPLITS])
    cols = rows.select_columns(["doc_id", "title", "meta"])
    docs: dict[str, dict] = {}
    row_doc = []
    for r in cols:
        row_doc.append(r["doc_id"])
        if r["doc_id"] not in docs:
            docs[r["doc_id"]] = {"title": r["title"], "links": _links(r["meta"])}
    before = {}
    for s in SPLITS:
        for d in dsd[s]["doc_id"] if dsd[s].num_rows else []:
            before[d] = s
    by_title = {normalize_title(d["title"]): doc for doc, d in docs.items()}
    links = {doc: [by_title[t] for t in d["links"] if t in by_title and by_title[t] != doc]
             for doc, d in docs.items()}
    links = {doc: ts for doc, ts in links.items() if ts}
    assigned, figures = link_splits(links, split_cfg)
    where = {s: [] for s in SPLITS}
    for i, doc in enumerate(row_doc):
        where[assigned.get(doc, before[doc])].append(i)
    out = datasets.DatasetDict({s: rows.select(where[s]) for s in SPLITS})
    pages = {s: 0 for s in SPLITS}
    for doc in docs:
        pages[assigned.get(doc, before[doc])] += 1
    n = max(1, len(docs))
    configured = {"train": split_cfg.train, "val": split_cfg.val, "test": split_cfg.test}
    return out, {"method": "link_communities", "configured": configured, "pages": pages,
                 "page_shares": {s: round(pages[s] / n, 4) for s in SPLITS},
                 "linked_pages": len(assigned), **figures}


def shares(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {s: round(counts.get(s, 0) / total, 4) if total else 0.0 for s in SPLITS}
