"""The `clean:` section of a build config (it applies to markup sources: MediaWiki today)."""
from __future__ import annotations

import unicodedata
from typing import Union

from pydantic import model_validator

from wiki_qa.builders.mediawiki.clean.furniture import default_drop_sections
from wiki_qa.builders.mediawiki.clean.templates import build_table
from wiki_qa.builders.mediawiki.clean.wikitext import CleanOptions
from wiki_qa.builders.mediawiki.siteinfo import norm
from wiki_qa.configbase import StrictModel


class TemplateSpec(StrictModel):
    """`{keep_args: [1, 2], sep: " "}` or `{format: "{1} ({2})"}`."""

    keep_args: list[Union[int, str]] | None = None
    sep: str = " "
    format: str | None = None

    @model_validator(mode="after")
    def _one_of(self):
        if (self.keep_args is None) == (self.format is None):
            raise ValueError("give either keep_args or format")
        return self


class CleanConfig(StrictModel):
    keep_tables: bool = False
    keep_headings: bool = True
    keep_wikitext: bool = False  # pass raw wikitext through, for models trained on markup
    # Sections whose content is lists of links and citations, not prose (matched case-insensitively), in
    # every language we know the names of (furniture.DROP_SECTIONS).
    drop_sections: list[str] = default_drop_sections()
    # Inline templates: name -> "drop", a format string over the arguments ("{1} ({2})"), or
    # {keep_args: [1]}. Added to (and overriding) the built-in renderers.
    templates: dict[str, Union[str, TemplateSpec]] = {}


def options(cfg: CleanConfig) -> CleanOptions:
    user = {name: (spec if isinstance(spec, str) else spec.model_dump(exclude_none=True))
            for name, spec in cfg.templates.items()}
    return CleanOptions(keep_tables=cfg.keep_tables, keep_headings=cfg.keep_headings,
                        drop_sections=frozenset(norm(unicodedata.normalize("NFC", s)) for s in cfg.drop_sections),
                        templates=build_table(user))
