"""The local executor: datasets' own machinery (builder cache, num_proc processes, async Dataset.map).

`StagesBuilder` is a datasets GeneratorBasedBuilder with one split, "stages": one pass over each shard
(see pipeline/stages.py) writes the rows of all three splits, cached by datasets under a key made of the
stage-relevant config, the inputs' identity and the code fingerprint. datasets keeps the shards' order
(num_proc jobs take consecutive shards), so that table is in input order; `stages()` then cuts it into
train/val/test by its `split` column, keeping that order.
"""
from __future__ import annotations

import contextlib
import dataclasses
import glob
import json
import os
import tempfile
from typing import Any

import datasets

from wiki_qa import fingerprint, progress
from wiki_qa.builders import make_source
from wiki_qa.errors import user_errors_unwrapped
from wiki_qa.executor import split_positions
from wiki_qa.pipeline.stages import StageStats, features, stage_rows
from wiki_qa.rows import SPLITS

# datasets "extends for streaming" the module of every builder it makes: it swaps this module's `open` and
# os.path functions for fsspec ones and imports scipy.io to patch its loadmat (0.3 s). StagesBuilder never
# streams (download_and_prepare only), so this module says it is done already.
_patched_for_streaming = True

STATS_DIR = "wiki_qa_stats"
STAGES = "stages"
# The config sections that decide the stage rows (a new output dir or LLM model must not re-read input).
STAGE_SECTIONS = ("source", "clean", "chunk", "split", "limit")


@dataclasses.dataclass
class KeyedConfig(datasets.BuilderConfig):
    """A builder config holding the BuildConfig object itself (no JSON round trip) and its cache key."""

    build: Any = None
    key: str | None = None

    def create_config_id(self, config_kwargs: dict, custom_features=None) -> str:
        return f"{self.name}-{self.key}"


class EmptySplitsOK:
    """A small wiki can leave val or test empty; datasets' reader refuses a split with no data."""

    def _as_dataset(self, split=datasets.Split.TRAIN, in_memory=False):
        info = self.info.splits.get(str(split)) if self.info.splits else None
        if info is not None and info.num_examples == 0:
            return datasets.Dataset.from_dict({k: [] for k in self.info.features}, features=self.info.features,
                                              split=datasets.Split(str(split)))
        return super()._as_dataset(split=split, in_memory=in_memory)


class StagesBuilder(EmptySplitsOK, datasets.GeneratorBasedBuilder):
    BUILDER_CONFIG_CLASS = KeyedConfig

    def _info(self):
        kind = make_source(self.config.build.source).kind
        return datasets.DatasetInfo(features=features(kind), description="wiki_qa pipeline stages")

    def download_and_prepare(self, *args, num_proc=None, **kwargs):
        self._num_proc = num_proc
        return super().download_and_prepare(*args, num_proc=num_proc, **kwargs)

    def _split_generators(self, dl_manager):
        shards = make_source(self.config.build.source).shards(parallel=getattr(self, "_num_proc", None) or 1)
        # datasets hands each num_proc job a consecutive slice of both lists
        return [datasets.SplitGenerator(name=STAGES, gen_kwargs={"shards": shards,
                                                                  "positions": list(range(len(shards)))})]

    def _generate_examples(self, shards, positions):
        board = getattr(self, "_board", None)  # set by stages() when a progress line is shown
        for shard, position in zip(shards, positions):
            stats = StageStats()
            with progress.shard_meter(board, shard, lambda: stats.source.pages_seen):
                for row in stage_rows(self.config.build, shard, stats):
                    yield row["id"], row
            folder = os.path.join(self._output_dir, STATS_DIR)
            os.makedirs(folder, exist_ok=True)
            name = f"{position:05d}-{fingerprint.of(shard)}"  # sorted by name = input order
            with open(os.path.join(folder, f"{name}.json"), "w") as f:
                json.dump({"shard": shard, **stats.to_json()}, f)


def stage_key(cfg) -> str:
    stage_cfg = {k: v for k, v in cfg.model_dump(mode="json").items() if k in STAGE_SECTIONS}
    return fingerprint.of(stage_cfg, make_source(cfg.source).identity(), fingerprint.code())


def stage_builder(cfg, cache_dir: str | None = None) -> StagesBuilder:
    return StagesBuilder(cache_dir=cache_dir, dataset_name="wiki_qa_stages", hash=fingerprint.code(),
                         config_name=None, name=cfg.name, build=cfg, key=stage_key(cfg))


def load_stage_stats(cache_dir: str) -> list[dict]:
    out = []
    for path in sorted(glob.glob(os.path.join(cache_dir, STATS_DIR, "*.json"))):
        with open(path) as f:
            out.append(json.load(f))
    return out


def stages(cfg, *, num_proc=None, cache_dir=None, refresh=False):
    builder = stage_builder(cfg, cache_dir)
    mode = "force_redownload" if refresh else "reuse_dataset_if_exists"
    with user_errors_unwrapped(), _progress_line(builder, cfg, num_proc):
        builder.download_and_prepare(num_proc=num_proc, download_mode=mode)
    rows = builder.as_dataset(split=STAGES)
    where = split_positions(rows.data.column("split"))
    dsd = datasets.DatasetDict({s: _rows(rows, where[s]) for s in SPLITS})
    return dsd, load_stage_stats(builder.cache_dir)


@contextlib.contextmanager
def _progress_line(builder: StagesBuilder, cfg, num_proc):
    """The driver's progress line, fed by the shard meters of this process or of num_proc workers through
    a FileBoard (picklable with the builder). Nothing at all when progress is off."""
    if not progress.enabled():
        yield
        return
    with tempfile.TemporaryDirectory(prefix="wiki_qa-progress-") as folder:
        source = make_source(cfg.source)
        builder._board = progress.FileBoard(folder)
        total = sum(x.get("size") or 0 for x in source.identity()) or None
        line = progress.Line("stages", builder._board, len(source.shards(parallel=num_proc or 1)), total).start()
        try:
            yield
        finally:
            line.close()
            builder._board = None


def _rows(rows: datasets.Dataset, positions) -> datasets.Dataset:
    ds = rows if len(positions) == rows.num_rows else rows.select(positions.to_numpy())
    return ds.remove_columns("split")


def format_rows(dsd, fmt, *, num_proc=None):
    """The format step. Rows already in the format lose columns only (no row is read); other formats map
    every row, in num_proc forked processes for a big split."""
    from wiki_qa.pipeline import formats

    def procs(ds):
        return num_proc if num_proc and num_proc > 1 and ds.num_rows >= MANY_ROWS else None

    return datasets.DatasetDict({s: formats.apply(dsd[s], fmt, num_proc=procs(dsd[s])) for s in SPLITS})


MANY_ROWS = 20_000  # a pool of processes pays for itself from about here


def save_rows(dsd: datasets.DatasetDict, path: str) -> None:
    """The build's rows to a save_to_disk folder, by this process. Survives empty splits: datasets 5.2
    writes no arrow file for a 0-row split unless asked for one shard, and load_from_disk then fails
    (IndexError in concat_tables)."""
    empty = {s: 1 for s in dsd if dsd[s].num_rows == 0}
    dsd.save_to_disk(path, num_shards=empty or None)


def generate(dsd, task_cfg, llm_cfg, *, num_proc=None, refresh=False, stats=None):
    """All splits in one map (one engine, one local server): concatenated with a split index, mapped,
    then cut back into splits. Each split's rows are contiguous and in input order, so the cuts are
    zero-copy slices and the rows equal one map per split."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from wiki_qa.llm.config import resolve
    from wiki_qa.llm.step import map_rows

    task, llm = resolve(task_cfg, llm_cfg)
    parts = [dsd[s].add_column("_split", pa.repeat(pa.scalar(i, pa.int8()), dsd[s].num_rows))
             for i, s in enumerate(SPLITS)]
    out = map_rows(datasets.concatenate_datasets(parts), task, llm, num_proc=num_proc, refresh=refresh,
                   stats=stats)
    counts = pc.value_counts(out.data.column("_split")).to_pylist() if out.num_rows else []
    n = {c["values"]: c["counts"] for c in counts}
    res, start = {}, 0
    for i, s in enumerate(SPLITS):
        k = n.get(i, 0)
        res[s] = (out.select(range(start, start + k)) if k else out.select([])).remove_columns("_split")
        start += k
    return datasets.DatasetDict(res)
