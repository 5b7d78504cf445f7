"""The local executor: datasets' own machinery (builder cache, num_proc processes, async Dataset.map)."""
from __future__ import annotations

import datasets

from wiki_qa.pipeline.split import SPLITS


def stages(cfg, *, num_proc=None, cache_dir=None, refresh=False):
    from wiki_qa.hf_builder import load_stage_stats
    from wiki_qa.pipeline.build import stage_builder, user_errors_unwrapped

    builder = stage_builder(cfg, cache_dir)
    with user_errors_unwrapped():
        builder.download_and_prepare(num_proc=num_proc,
                                     download_mode="force_redownload" if refresh else "reuse_dataset_if_exists")
    from wiki_qa.executor import canonical

    dsd = builder.as_dataset()
    return datasets.DatasetDict({s: canonical(dsd[s]) for s in dsd}), load_stage_stats(builder.cache_dir)


def generate(dsd, cfg, *, num_proc=None, refresh=False, stats=None):
    from wiki_qa.llm import generate as llm_generate

    return datasets.DatasetDict({s: llm_generate(dsd[s], llm=cfg.generate, num_proc=num_proc, refresh=refresh,
                                                 stats=stats) for s in SPLITS})
