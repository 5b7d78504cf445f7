"""The `datasets` builders: thin shells around wiki_qa.pipeline.

- `WikiQAStages`: source -> clean -> chunk -> split, one generator pass per (split, shard). Cached by
  datasets; `num_proc` runs shards in parallel (a file is cut into parts by doc_id hash when there are
  fewer files than processes).
- `WikiQA`: what `load_dataset("wiki_qa", NAME)` returns. It runs the whole build (stages, quality gates,
  LLM step, format; see pipeline/build.py) and stores the final tables, so a second call does no work.
  With `streaming=True` and no cross-split step it streams straight from the input instead.

Both take the BuildConfig through `WikiQAConfig.build`; the cache key is that config plus the identity
(size, mtime/ETag) of every input file plus a hash of wiki_qa's code.
"""
from __future__ import annotations

import dataclasses
import glob
import json
import os

import datasets
import pyarrow as pa

from wiki_qa.pipeline import formats
from wiki_qa.pipeline.split import SPLITS

STATS_DIR = "wiki_qa_stats"


@dataclasses.dataclass
class WikiQAConfig(datasets.BuilderConfig):
    build: dict | None = None  # BuildConfig as JSON (model_dump)
    inputs: list | None = None  # identity of the input files
    code: str | None = None  # hash of wiki_qa's code


def _cfg(builder):
    from wiki_qa.config import BuildConfig

    cfg = builder.__dict__.get("_wiki_qa_cfg")
    if cfg is None:
        cfg = BuildConfig.model_validate(builder.config.build)
        builder.__dict__["_wiki_qa_cfg"] = cfg
    return cfg


def builder_kwargs(cfg, inputs: list, code: str) -> dict:
    return {"config_name": None, "name": cfg.name, "build": cfg.model_dump(mode="json"), "inputs": inputs,
            "code": code}


def _parts(shards: list[str], num_proc: int | None) -> list[tuple[str, int, int]]:
    n = max(1, (num_proc or 1) // max(1, len(shards)))
    return [(s, k, n) for s in shards for k in range(n)]


class _EmptySplitsOK:
    """A small wiki can leave val or test empty; datasets' reader refuses a split with no data."""

    def _as_dataset(self, split=datasets.Split.TRAIN, in_memory=False):
        info = self.info.splits.get(str(split)) if self.info.splits else None
        if info is not None and info.num_examples == 0:
            return datasets.Dataset.from_dict({k: [] for k in self.info.features}, features=self.info.features,
                                              split=datasets.Split(str(split)))
        return super()._as_dataset(split=split, in_memory=in_memory)


class WikiQAStages(_EmptySplitsOK, datasets.GeneratorBasedBuilder):
    BUILDER_CONFIG_CLASS = WikiQAConfig

    def _info(self):
        from wiki_qa.builders import make_source

        kind = make_source(_cfg(self).source).kind
        feats = dict(formats.features("text" if kind == "documents" else "completion"))
        return datasets.DatasetInfo(features=datasets.Features(feats), description="wiki_qa pipeline stages")

    def download_and_prepare(self, *args, num_proc=None, **kwargs):
        self._wiki_qa_num_proc = num_proc
        return super().download_and_prepare(*args, num_proc=num_proc, **kwargs)

    def _split_generators(self, dl_manager):
        from wiki_qa.builders import make_source

        cfg = _cfg(self)
        shards = make_source(cfg.source).shards()
        streaming = isinstance(dl_manager, datasets.StreamingDownloadManager)
        parts = _parts(shards, getattr(self, "_wiki_qa_num_proc", None))
        return [datasets.SplitGenerator(name=s, gen_kwargs={"split": s, "parts": parts,
                                                             "save_stats": not streaming}) for s in SPLITS]

    def _generate_examples(self, split, parts, save_stats=True):
        from wiki_qa.pipeline.stages import StageStats, split_rows

        cfg = _cfg(self)
        for shard, k, n in parts:
            stats = StageStats()
            for row in split_rows(cfg, split, shard, stats, part=(k, n)):
                yield row["id"], row
            if save_stats:
                folder = os.path.join(self._output_dir, STATS_DIR)
                os.makedirs(folder, exist_ok=True)
                name = f"{split}-{abs(hash((shard, k, n))):x}-{k}of{n}.json"
                with open(os.path.join(folder, name), "w") as f:
                    json.dump({"split": split, "shard": shard, "part": [k, n], **stats.to_json()}, f)


def load_stage_stats(cache_dir: str) -> list[dict]:
    out = []
    for path in sorted(glob.glob(os.path.join(cache_dir, STATS_DIR, "*.json"))):
        with open(path) as f:
            out.append(json.load(f))
    return out


class WikiQA(_EmptySplitsOK, datasets.ArrowBasedBuilder):
    BUILDER_CONFIG_CLASS = WikiQAConfig

    def _info(self):
        return datasets.DatasetInfo(features=formats.features(_cfg(self).format.type),
                                    description=f"wiki_qa build {_cfg(self).name}")

    def download_and_prepare(self, *args, num_proc=None, **kwargs):
        self._wiki_qa_num_proc = num_proc
        return super().download_and_prepare(*args, num_proc=num_proc, **kwargs)

    def _split_generators(self, dl_manager):
        from wiki_qa.pipeline import build

        cfg = _cfg(self)
        if isinstance(dl_manager, datasets.StreamingDownloadManager) and not build.needs_whole_dataset(cfg):
            from wiki_qa.builders import make_source

            parts = _parts(make_source(cfg.source).shards(), None)
            return [datasets.SplitGenerator(name=s, gen_kwargs={"split": s, "parts": parts}) for s in SPLITS]
        dsd = build.dataset_dict(cfg, num_proc=getattr(self, "_wiki_qa_num_proc", None),
                                 cache_dir=self._cache_dir_root)
        return [datasets.SplitGenerator(name=s, gen_kwargs={"split": s, "dataset": dsd[s]}) for s in SPLITS]

    def _generate_tables(self, split, dataset=None, parts=None):
        if dataset is not None:
            for i, table in enumerate(dataset.with_format("arrow").iter(batch_size=10_000)):
                yield i, table
            return
        # Streaming without cross-split steps: rows straight from the input, formatted on the fly.
        from wiki_qa.pipeline.stages import StageStats, split_rows

        cfg, feats, batch, key = _cfg(self), self.info.features, [], 0
        for shard, k, n in parts:
            for row in split_rows(cfg, split, shard, StageStats(), part=(k, n)):
                batch.append(formats.format_row(row, cfg.format))
                if len(batch) == 1000:
                    yield key, pa.Table.from_pylist(batch, schema=feats.arrow_schema)
                    key, batch = key + 1, []
        if batch:
            yield key, pa.Table.from_pylist(batch, schema=feats.arrow_schema)
