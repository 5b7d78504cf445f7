"""A build's rows written by worker processes (the Ray driver never reads every row; a big local output
is copied by num_proc processes): the same folder, empty splits included, as one process writes."""
from __future__ import annotations

import datasets

from wiki_qa.orchestrator.save import save_dataset_dict


def test_rows_saved_by_processes_load_back_the_same(tmp_path):
    ds = datasets.Dataset.from_dict({"id": [f"d:{i}#0" for i in range(50)], "text": [f"row {i}" for i in range(50)]})
    ds.save_to_disk(str(tmp_path / "src"))
    mapped = datasets.load_from_disk(str(tmp_path / "src"))  # memory-mapped, as a build's rows are
    dsd = datasets.DatasetDict({"train": mapped.select(range(40)), "val": mapped.select(range(40, 41)),
                                "test": mapped.select([])})
    save_dataset_dict(dsd, str(tmp_path / "one"))
    save_dataset_dict(dsd, str(tmp_path / "two"), num_proc=2)
    one, two = datasets.load_from_disk(str(tmp_path / "one")), datasets.load_from_disk(str(tmp_path / "two"))
    assert list(two) == ["train", "val", "test"]
    for s in dsd:
        assert two[s].to_list() == one[s].to_list() == dsd[s].to_list(), s
    assert len(list((tmp_path / "two" / "train").glob("data-*.arrow"))) == 2  # two writers
