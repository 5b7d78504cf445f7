"""The builder module `load_dataset("wiki_qa", …)` imports (see hf_hook.py).

datasets picks the one DatasetBuilder subclass defined here. It turns the config name (a shipped config or
a YAML path) and keyword overrides into a BuildConfig, and makes the cache key from it.
"""
from __future__ import annotations

from wiki_qa.hf_builder import WikiQA as _Base


class WikiQALoader(_Base):
    def _create_builder_config(self, config_name=None, custom_features=None, **config_kwargs):
        from wiki_qa.builders import make_source
        from wiki_qa.config import load_config
        from wiki_qa.hf_builder import builder_kwargs
        from wiki_qa.pipeline.build import code_hash

        known = {"build", "inputs", "code", "name", "version", "data_dir", "data_files", "description"}
        if "build" in config_kwargs:  # already resolved (pickled builder, num_proc workers)
            return super()._create_builder_config(None, custom_features, **config_kwargs)
        overrides = {k: v for k, v in config_kwargs.items() if k not in known and v is not None}
        cfg = load_config(config_name or "demo", overrides=overrides)
        kw = builder_kwargs(cfg, make_source(cfg.source).identity(), code_hash())
        kw.pop("config_name")
        return super()._create_builder_config(None, custom_features, **kw)
