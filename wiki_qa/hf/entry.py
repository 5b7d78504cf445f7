"""The builder module `load_dataset("wiki_qa", …)` imports (see hook.py).

datasets picks the one DatasetBuilder subclass defined here. It turns the config name (a shipped config or
a YAML path) and keyword overrides into a BuildConfig, keyed by that config, the inputs' identity and the
code fingerprint, then runs the same `dataset_dict` as `wiki-qa build` and stores its tables, so a second
call does no work. With `streaming=True` and no cross-split step it streams rows straight from the input.
"""
from __future__ import annotations

import datasets
import pyarrow as pa

from wiki_qa import fingerprint
from wiki_qa.builders import make_source
from wiki_qa.config import load_config
from wiki_qa.executor.local import EmptySplitsOK, KeyedConfig
from wiki_qa.orchestrator import dataset_dict
from wiki_qa.orchestrator.plan import needs_whole_dataset
from wiki_qa.pipeline import formats
from wiki_qa.pipeline.stages import StageStats, stage_rows
from wiki_qa.rows import SPLITS

# load_dataset passes these itself; everything else is an override of a config key (source_path=...).
_DATASETS_KWARGS = {"build", "key", "name", "version", "data_dir", "data_files", "description"}


class WikiQA(EmptySplitsOK, datasets.ArrowBasedBuilder):
    BUILDER_CONFIG_CLASS = KeyedConfig

    def _create_builder_config(self, config_name=None, custom_features=None, **config_kwargs):
        if "build" in config_kwargs:  # already resolved (pickled builder, num_proc workers)
            return super()._create_builder_config(None, custom_features, **config_kwargs)
        overrides = {k: v for k, v in config_kwargs.items() if k not in _DATASETS_KWARGS and v is not None}
        cfg = load_config(config_name or "demo", overrides=overrides)
        key = fingerprint.of(cfg.model_dump(mode="json"), make_source(cfg.source).identity(), fingerprint.code())
        return super()._create_builder_config(None, custom_features, name=cfg.name, build=cfg, key=key)

    def _info(self):
        cfg = self.config.build
        return datasets.DatasetInfo(features=formats.features(cfg.format), description=f"wiki_qa build {cfg.name}")

    def download_and_prepare(self, *args, num_proc=None, **kwargs):
        self._num_proc = num_proc
        return super().download_and_prepare(*args, num_proc=num_proc, **kwargs)

    def _split_generators(self, dl_manager):
        cfg = self.config.build
        if isinstance(dl_manager, datasets.StreamingDownloadManager) and not needs_whole_dataset(cfg):
            shards = make_source(cfg.source).shards()
            return [datasets.SplitGenerator(name=s, gen_kwargs={"split": s, "shards": shards}) for s in SPLITS]
        dsd = dataset_dict(cfg, num_proc=getattr(self, "_num_proc", None), cache_dir=self._cache_dir_root)
        return [datasets.SplitGenerator(name=s, gen_kwargs={"split": s, "dataset": dsd[s]}) for s in SPLITS]

    def _generate_tables(self, split, dataset=None, shards=None):
        if dataset is not None:
            for i, table in enumerate(dataset.with_format("arrow").iter(batch_size=10_000)):
                yield i, table
            return
        # Streaming without cross-split steps: this split's rows straight from the input, formatted on the fly.
        cfg, feats, batch, key = self.config.build, self.info.features, [], 0
        for shard in shards:
            for row in stage_rows(cfg, shard, StageStats()):
                if row["split"] != split:
                    continue
                batch.append(formats.format_row(row, cfg.format))
                if len(batch) == 1000:
                    yield key, pa.Table.from_pylist(batch, schema=feats.arrow_schema)
                    key, batch = key + 1, []
        if batch:
            yield key, pa.Table.from_pylist(batch, schema=feats.arrow_schema)
