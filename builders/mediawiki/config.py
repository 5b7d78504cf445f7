"""`source:` section for MediaWiki XML dumps and Special:Export files."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

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
    # A parse error before the end of a file (invalid UTF-8, a NUL, an undefined entity): `error` stops
    # the build (exit 2, naming the file, byte offset and page); `skip` skips that page, counts it in the
    # report (skipped.bad_xml, errors) and reads on from the next <page>. A file cut off at its end is
    # not an error either way: its complete pages are kept and the report says "truncated".
    on_error: Literal["error", "skip"] = "error"
    # A page whose text is bigger than this (UTF-8 bytes) is skipped (skipped.too_large) without being
    # held in memory. Capped at 1 GiB: Arrow cannot hold one string of 2 GB.
    max_page_bytes: int = Field(20 * 2**20, ge=1, le=2**30)
    # With num_proc/Ray workers, dumps are cut into byte ranges of at least this many raw bytes
    # (multistream .bz2 and uncompressed XML; see builders/mediawiki/shards.py). Default (null): sized from
    # the input, so N workers get N pieces of a file of a few MB; 64 MiB once the input is cluster-sized.
    min_shard_bytes: int | None = Field(None, ge=1)

    @field_validator("path")
    @classmethod
    def _non_empty(cls, v):
        if not v:
            raise ValueError("source.path is empty")
        return v
