"""`source:` section for MediaWiki XML dumps and Special:Export files."""
from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from wiki_qa.configbase import StrictModel


class MediaWikiConfig(StrictModel):
    type: Literal["mediawiki"] = "mediawiki"
    # Local path, glob, or fsspec URL (https://, s3://). .xml, .bz2 (multistream too), .gz, .xz, .7z.
    path: str | list[str]
    # Namespaces to keep, by number or by name as the dump's <siteinfo> spells them (localized names,
    # canonical English names and custom namespaces such as Fandom's "User blog" all work).
    namespaces: list[int | str] = [0]
    skip_disambiguation: bool = False
    # Language code of the text. Default: the dump's xml:lang / dbname. Override when a site hosts
    # another language's pages (e.g. a Yoruba page under an English <siteinfo>).
    lang: str | None = None
    # Which revision of a full-history export becomes the document.
    revision: Literal["latest", "first"] = "latest"

    @field_validator("path")
    @classmethod
    def _non_empty(cls, v):
        if not v:
            raise ValueError("source.path is empty")
        return v
