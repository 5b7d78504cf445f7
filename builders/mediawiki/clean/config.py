"""The `clean:` section of a build config (it applies to markup sources: MediaWiki today)."""
from __future__ import annotations

from wiki_qa.builders.mediawiki.clean.wikitext import CleanOptions
from wiki_qa.builders.mediawiki.siteinfo import norm
from wiki_qa.configbase import StrictModel


class CleanConfig(StrictModel):
    keep_tables: bool = False
    keep_headings: bool = True
    keep_wikitext: bool = False  # pass raw wikitext through, for models trained on markup
    # Sections whose content is lists of links and citations, not prose (matched case-insensitively).
    drop_sections: list[str] = ["References", "External links", "Further reading", "See also", "Notes",
                                "Bibliography", "Sources", "Footnotes", "Citations"]


def options(cfg: CleanConfig) -> CleanOptions:
    return CleanOptions(keep_tables=cfg.keep_tables, keep_headings=cfg.keep_headings,
                        drop_sections=frozenset(norm(s) for s in cfg.drop_sections))
