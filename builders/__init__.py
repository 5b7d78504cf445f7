"""Source builders: one folder per source, each yielding documents or examples into the shared pipeline.

Adding a source is adding a folder: `NAME/source.py` with a `@register`ed Source subclass (builders/base.py)
and its pydantic `Config`. This registry imports every folder's source module and builds the YAML union
`source.type` -> Config from them. Sources may import wiki_qa's leaf modules (errors, io, configbase,
progress, rows) and builders.base; never the pipeline, the config or the orchestrator.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Annotated, Union

from pydantic import Field

from wiki_qa.builders.base import REGISTRY, Source, SourceStats

# MediaWiki first: messages that list the source types lead with the main one.
for _folder in sorted(pkgutil.iter_modules(__path__), key=lambda m: (m.name != "mediawiki", m.name)):
    if _folder.ispkg:
        importlib.import_module(f"{__name__}.{_folder.name}.source")

SOURCE_MODELS = {t: cls.Config for t, cls in REGISTRY.items()}
SourceConfig = Annotated[Union[tuple(SOURCE_MODELS.values())], Field(discriminator="type")]


def make_source(config, clean=None) -> Source:
    return REGISTRY[config.type](config, clean)


__all__ = ["REGISTRY", "SOURCE_MODELS", "Source", "SourceConfig", "SourceStats", "make_source"]
