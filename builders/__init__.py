"""Source builders: one folder per source, each yielding documents or examples into the shared pipeline.

This module is the registry: `source.type` in a YAML -> the source's Config model and Source class.
"""
from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from wiki_qa.builders.bbc.config import BBCConfig
from wiki_qa.builders.mediawiki.config import MediaWikiConfig
from wiki_qa.builders.mmlu.config import MMLUConfig
from wiki_qa.builders.open_instruct.config import OpenInstructConfig
from wiki_qa.builders.text.config import TextConfig

SOURCE_MODELS = {
    "mediawiki": MediaWikiConfig, "bbc": BBCConfig, "mmlu": MMLUConfig,
    "open_instruct": OpenInstructConfig, "text": TextConfig,
}
# Where each source's Source class lives (imported on use, so a YAML with one source loads only its code).
SOURCE_CLASSES = {
    "mediawiki": "wiki_qa.builders.mediawiki.source:MediaWikiSource",
    "bbc": "wiki_qa.builders.bbc.source:BBCSource",
    "mmlu": "wiki_qa.builders.mmlu.source:MMLUSource",
    "open_instruct": "wiki_qa.builders.open_instruct.source:OpenInstructSource",
    "text": "wiki_qa.builders.text.source:TextSource",
}

SourceConfig = Annotated[Union[tuple(SOURCE_MODELS.values())], Field(discriminator="type")]


def make_source(config, clean=None):
    import importlib

    module, cls = SOURCE_CLASSES[config.type].split(":")
    return getattr(importlib.import_module(module), cls)(config, clean)
