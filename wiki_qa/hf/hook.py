"""Make `load_dataset("wiki_qa", NAME, **overrides)` work on datasets 5.2, which has no dataset scripts.

The narrowest hook that works: wrap `datasets.load.dataset_module_factory` so that the path "wiki_qa" (and
only it) resolves to our builder module (wiki_qa/hf/entry.py). load_dataset then does everything else itself:
config selection, keyword overrides (passed to our `_create_builder_config`), cache reuse, streaming and num_proc.
Registering in `_PACKAGED_DATASETS_MODULES` instead would make datasets pick up data files from the current
folder. Without `import wiki_qa` the name goes to the Hub, where "wiki_qa" is somebody else's dataset.
Tested on datasets 5.2.x (pinned in pyproject.toml).
"""
from __future__ import annotations

import datasets
import datasets.load

from wiki_qa import fingerprint

NAME = "wiki_qa"


def _wrap(original):
    if getattr(original, "_wiki_qa", False):
        return original

    def dataset_module_factory(path, *args, **kwargs):
        if path == NAME:
            return datasets.load.DatasetModule(module_path="wiki_qa.hf.entry", hash=fingerprint.code(),
                                               builder_kwargs={"dataset_name": NAME})
        return original(path, *args, **kwargs)

    dataset_module_factory._wiki_qa = True
    dataset_module_factory.__wrapped__ = original
    return dataset_module_factory


def install() -> None:
    datasets.load.dataset_module_factory = _wrap(datasets.load.dataset_module_factory)
