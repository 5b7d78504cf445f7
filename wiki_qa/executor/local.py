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
