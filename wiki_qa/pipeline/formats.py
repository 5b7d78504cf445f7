"""Rows -> the training format: completion (prompt/completion), text, or chat messages.

The column set is fixed per format (plus the same metadata columns everywhere), so several configs of one
build can live side by side in a Hub repo and a trainer can rely on the names.
"""
from __future__ import annotations

from typing import Literal

import datasets

from wiki_qa.configbase import StrictModel
from wiki_qa.rows import META_COLUMNS, meta_features


class FormatConfig(StrictModel):
    type: Literal["completion", "text", "messages"] = "text"
    # messages: an optional system message first.
    system: str | None = None
    # text format for prompt/completion rows; {prompt} and {completion} are filled in.
    template: str = "{prompt}\n{completion}"


def features(fmt: str) -> datasets.Features:
    main = {
        "completion": {"prompt": datasets.Value("string"), "completion": datasets.Value("string")},
        "text": {"text": datasets.Value("string")},
        "messages": {"messages": datasets.List({"role": datasets.Value("string"),
                                                "content": datasets.Value("string")})},
    }[fmt]
    return datasets.Features({**main, **meta_features()})


def format_row(row: dict, cfg: FormatConfig) -> dict:
    """One row -> its formatted columns. Chunk rows have `text`; example rows have `prompt`/`completion`."""
    meta = {k: row.get(k) for k in META_COLUMNS}
    if meta["chunk_id"] is None:
        meta["chunk_id"] = -1
    has_pair = row.get("prompt") is not None and row.get("completion") is not None
    if cfg.type == "text":
        text = cfg.template.format(prompt=row["prompt"], completion=row["completion"]) if has_pair else row["text"]
        return {"text": text, **meta}
    if not has_pair:
        raise ValueError(f"format {cfg.type!r} needs prompt/completion rows: add a generate: step, "
                         "or use format: text")
    if cfg.type == "completion":
        return {"prompt": row["prompt"], "completion": row["completion"], **meta}
    messages = ([{"role": "system", "content": cfg.system}] if cfg.system else []) + [
        {"role": "user", "content": row["prompt"]}, {"role": "assistant", "content": row["completion"]}]
    return {"messages": messages, **meta}


def format_batch(batch: dict, cfg: FormatConfig) -> dict:
    """format_row over a batch of columns: a batched map costs datasets a fraction of a per-row one per row,
    and on a full-Wikipedia build this step runs serially on the driver over every row."""
    out: dict[str, list] = {c: [] for c in features(cfg.type)}
    names = list(batch)
    for values in zip(*batch.values()):
        for k, v in format_row(dict(zip(names, values)), cfg).items():
            out[k].append(v)
    return out


def is_projection(ds: datasets.Dataset, cfg: FormatConfig) -> bool:
    """Whether format_row would only pick columns: the rows hold the format's columns with its types
    (chunk rows in `text`, generated rows in `completion`) and no chunk_id is missing."""
    feats = features(cfg.type)
    pair = "prompt" in ds.column_names and "completion" in ds.column_names
    if cfg.type == "messages" or (cfg.type == "text" and pair):
        return False
    return all(ds.features.get(c) == f for c, f in feats.items()) and ds.data.column("chunk_id").null_count == 0


def apply(ds: datasets.Dataset, cfg: FormatConfig, num_proc: int | None = None) -> datasets.Dataset:
    if is_projection(ds, cfg):
        # no row is read: the output columns are the input's (memory-mapped, zero-copy)
        return ds.select_columns(list(features(cfg.type)))
    keep = set(features(cfg.type))
    return ds.map(format_batch, batched=True, batch_size=1000, fn_kwargs={"cfg": cfg}, features=features(cfg.type),
                  remove_columns=[c for c in ds.column_names if c not in keep],
                  num_proc=num_proc, desc=f"format {cfg.type}")
