"""Rows -> the training format: completion (prompt/completion), text, chat messages, or preference pairs.

The column set is fixed per format (plus the same metadata columns everywhere), so several configs of one
build can live side by side in a Hub repo and a trainer can rely on the names.

Pairs (rows of the preference step: prompt, completion = the chosen side, rejected, status) come out as TRL
loads them with no column surgery: `preference` is TRL's preference type (`prompt`, `chosen`, `rejected`),
`kto` its unpaired preference type (`prompt`, `completion`, `label`: two rows per pair, ids `{id}/chosen`
and `{id}/rejected`). `style: conversational` gives message lists (the prompt as a user message after the
optional system message, each answer as an assistant message) instead of strings. `columns:` gives a
preference layout of your own, each column a template over {prompt}, {chosen} and {rejected} (e.g. the
`instruction, input, chosen, rejected` layout ORPO scripts read).
"""
from __future__ import annotations

from typing import Literal

import datasets
from pydantic import model_validator

from wiki_qa.configbase import StrictModel
from wiki_qa.rows import META_COLUMNS, meta_features

PAIRED = ("preference", "kto")   # the formats of the preference step's pairs


class FormatConfig(StrictModel):
    type: Literal["completion", "text", "messages", "preference", "kto"] = "text"
    # messages, and conversational pairs: an optional system message first.
    system: str | None = None
    # text format for prompt/completion rows; {prompt} and {completion} are filled in.
    template: str = "{prompt}\n{completion}"
    # preference / kto: strings (TRL's "standard" type) or message lists ("conversational").
    style: Literal["standard", "conversational"] = "standard"
    # preference: output column -> template over {prompt} {chosen} {rejected}, instead of prompt/chosen/rejected.
    columns: dict[str, str] | None = None

    @model_validator(mode="after")
    def _columns_need_pairs(self):
        if self.columns is not None and (self.type != "preference" or self.style != "standard" or not self.columns):
            raise ValueError("columns: is a layout of the standard preference format (type: preference)")
        for name, tmpl in (self.columns or {}).items():
            try:
                tmpl.format(prompt="", chosen="", rejected="")
            except (KeyError, IndexError, ValueError) as e:
                raise ValueError(f"columns.{name}: the template may use only {{prompt}}, {{chosen}}, {{rejected}} "
                                 f"({e!r})") from None
        return self


def features(fmt: str | FormatConfig) -> datasets.Features:
    cfg = fmt if isinstance(fmt, FormatConfig) else FormatConfig(type=fmt)
    text = datasets.Value("string")
    messages = datasets.List({"role": text, "content": text})
    side = messages if cfg.style == "conversational" else text
    main = {
        "completion": {"prompt": text, "completion": text},
        "text": {"text": text},
        "messages": {"messages": messages},
        "preference": ({c: text for c in cfg.columns} if cfg.columns else
                       {"prompt": side, "chosen": side, "rejected": side}) | {"status": text},
        "kto": {"prompt": side, "completion": side, "label": datasets.Value("bool"), "status": text},
    }[cfg.type]
    return datasets.Features({**main, **meta_features()})


def format_row(row: dict, cfg: FormatConfig) -> dict:
    """One row -> its formatted columns. Chunk rows have `text`; example rows have `prompt`/`completion`."""
    meta = _meta(row)
    has_pair = row.get("prompt") is not None and row.get("completion") is not None
    if cfg.type == "text":
        text = cfg.template.format(prompt=row["prompt"], completion=row["completion"]) if has_pair else row["text"]
        return {"text": text, **meta}
    if not has_pair:
        raise ValueError(f"format {cfg.type!r} needs prompt/completion rows: add a generate: step, "
                         "or use format: text")
    if cfg.type == "completion":
        return {"prompt": row["prompt"], "completion": row["completion"], **meta}
    if cfg.type in PAIRED:
        return format_rows(row, cfg)[0]
    messages = _system(cfg) + [
        {"role": "user", "content": row["prompt"]}, {"role": "assistant", "content": row["completion"]}]
    return {"messages": messages, **meta}


def _meta(row: dict) -> dict:
    meta = {k: row.get(k) for k in META_COLUMNS}
    if meta["chunk_id"] is None:
        meta["chunk_id"] = -1
    return meta


def _system(cfg: FormatConfig) -> list[dict]:
    return [{"role": "system", "content": cfg.system}] if cfg.system else []


def format_rows(row: dict, cfg: FormatConfig) -> list[dict]:
    """The output rows of one row: one, or for `kto` two (the chosen side, then the rejected side)."""
    if cfg.type not in PAIRED:
        return [format_row(row, cfg)]
    if row.get("rejected") is None:
        raise ValueError(f"format {cfg.type!r} needs the pairs of a preference: step")
    meta = _meta(row)
    status = row.get("status") or "unjudged"
    if cfg.columns:
        sides = {"prompt": row["prompt"], "chosen": row["completion"], "rejected": row["rejected"]}
        return [{c: t.format(**sides) for c, t in cfg.columns.items()} | {"status": status, **meta}]
    if cfg.style == "conversational":
        prompt = _system(cfg) + [{"role": "user", "content": row["prompt"]}]
        chosen, rejected = ([{"role": "assistant", "content": row[k]}] for k in ("completion", "rejected"))
    else:
        prompt, chosen, rejected = row["prompt"], row["completion"], row["rejected"]
    if cfg.type == "preference":
        return [{"prompt": prompt, "chosen": chosen, "rejected": rejected, "status": status, **meta}]
    return [{"prompt": prompt, "completion": side, "label": label, "status": status,
             **meta, "id": f"{meta['id']}/{name}"}
            for name, side, label in (("chosen", chosen, True), ("rejected", rejected, False))]


def format_batch(batch: dict, cfg: FormatConfig) -> dict:
    """format_rows over a batch of columns: a batched map costs datasets a fraction of a per-row one per row,
    and on a full-Wikipedia build this step runs serially on the driver over every row."""
    out: dict[str, list] = {c: [] for c in features(cfg)}
    names = list(batch)
    for values in zip(*batch.values()):
        for formatted in format_rows(dict(zip(names, values)), cfg):
            for k, v in formatted.items():
                out[k].append(v)
    return out


def is_projection(ds: datasets.Dataset, cfg: FormatConfig) -> bool:
    """Whether format_row would only pick columns: the rows hold the format's columns with its types
    (chunk rows in `text`, generated rows in `completion`) and no chunk_id is missing."""
    feats = features(cfg)
    pair = "prompt" in ds.column_names and "completion" in ds.column_names
    if cfg.type in ("messages", *PAIRED) or (cfg.type == "text" and pair):
        return False
    return all(ds.features.get(c) == f for c, f in feats.items()) and ds.data.column("chunk_id").null_count == 0


def apply(ds: datasets.Dataset, cfg: FormatConfig, num_proc: int | None = None) -> datasets.Dataset:
    feats = features(cfg)
    if ds.num_rows == 0:  # datasets' map of 0 rows drops the features (and every column is removed here)
        return datasets.Dataset.from_dict({c: [] for c in feats}, features=feats, split=ds.split)
    if is_projection(ds, cfg):
        # no row is read: the output columns are the input's (memory-mapped, zero-copy)
        return ds.select_columns(list(feats))
    # kto makes two rows of each pair: a batch changes length, so no input column may stay
    keep = set() if cfg.type in PAIRED else set(feats)
    return ds.map(format_batch, batched=True, batch_size=1000, fn_kwargs={"cfg": cfg}, features=feats,
                  remove_columns=[c for c in ds.column_names if c not in keep],
                  num_proc=num_proc, desc=f"format {cfg.type}")
