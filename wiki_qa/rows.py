"""One home for what every room agrees on about rows: split names, the metadata columns, the meta JSON,
and how a chunk row and an example row are built."""
from __future__ import annotations

import json

SPLITS = ("train", "val", "test")
# Every output format keeps these, so several configs can share one Hub repo and trainers can rely on them.
META_COLUMNS = ("id", "doc_id", "chunk_id", "title", "source", "url", "lang", "meta")


def meta_features() -> dict:
    import datasets

    v = datasets.Value
    return {"id": v("string"), "doc_id": v("string"), "chunk_id": v("int32"), "title": v("string"),
            "source": v("string"), "url": v("string"), "lang": v("string"), "meta": v("string")}


def meta_json(meta) -> str:
    """The `meta` column: source extras (revision id, timestamp, topic, ...) as canonical JSON text."""
    if isinstance(meta, str):
        return meta
    return json.dumps(meta or {}, ensure_ascii=False, sort_keys=True, default=str)


def chunk_row(doc: dict, chunk_id: int, text: str, meta: str) -> dict:
    return {
        "id": f"{doc['doc_id']}#{chunk_id}", "doc_id": doc["doc_id"], "chunk_id": chunk_id,
        "title": doc.get("title") or "", "text": text, "url": doc.get("url") or "",
        "lang": doc.get("lang") or "und", "source": doc.get("source") or "", "meta": meta,
    }


def example_row(doc: dict) -> dict:
    """A source's ready-made example (MMLU, open-instruct) as a row."""
    return {
        "id": doc.get("id") or doc["doc_id"], "doc_id": doc["doc_id"], "chunk_id": doc.get("chunk_id", -1),
        "title": doc.get("title") or "", "prompt": doc["prompt"], "completion": doc["completion"],
        "url": doc.get("url") or "", "lang": doc.get("lang") or "und", "source": doc.get("source") or "",
        "meta": meta_json(doc.get("meta")),
    }
