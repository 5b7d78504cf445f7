"""`source:` section for MediaWiki XML dumps and Special:Export files."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from wiki_qa.configbase import StrictModel

DEFAULT_MIRRORS = ["https://dumps.wikimedia.org"]
ORIGINS = ("path", "wiki", "api")  # where the pages come from: exactly one


class MediaWikiConfig(StrictModel):
    type: Literal["mediawiki"] = "mediawiki"
    # Where the pages come from: exactly one of path, wiki and api.
    # path: a local path, glob, or fsspec URL (https://, s3://). .xml, .bz2 (multistream too), .gz, .xz, .7z.
    path: str | list[str] | None = None
    # wiki: a Wikimedia wiki by name: a language code (yo), a db name (yowiki, enwikivoyage, be_x_oldwiki)
    # or a host (yo.wikipedia.org). Its dump is fetched into the wiki_qa cache (see fetch/).
    wiki: str | None = None
    dump: str = "latest"  # with wiki: the newest finished run, or a run's date (YYYYMMDD)
    mirrors: list[str] = Field(default_factory=lambda: list(DEFAULT_MIRRORS), min_length=1)  # tried in order
    # api: any MediaWiki site's api.php (Fandom, company wikis, wikis without dumps); read into a local
    # snapshot in the wiki_qa cache (see api/). Private wikis: WIKI_QA_BOT_USER/WIKI_QA_BOT_PASSWORD or
    # WIKI_QA_SESSION_COOKIE in the environment.
    api: str | None = None
    # Who runs the downloads, for the User-Agent Wikimedia asks for (an e-mail or a URL); default: the
    # WIKI_QA_CONTACT environment variable.
    contact: str | None = None
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
        if v is not None and not v:
            raise ValueError("source.path is empty")
        return v

    @field_validator("dump")
    @classmethod
    def _dump_date(cls, v):
        if v != "latest" and not re.fullmatch(r"\d{8}", v):
            raise ValueError(f"source.dump is 'latest' or a run's date such as 20261101, not {v!r}")
        return v

    @field_validator("api")
    @classmethod
    def _api_url(cls, v):
        if v is not None and not re.match(r"^https?://[^/\s]+", v):
            raise ValueError(f"source.api must be an http(s) URL of a wiki's api.php, not {v!r}")
        return v

    @model_validator(mode="after")
    def _one_origin(self):
        given = [k for k in ORIGINS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of source.path (a dump file), source.wiki (a Wikimedia wiki by "
                             "name) and source.api (a MediaWiki site's api.php)"
                             + (f"; got {' and '.join(given)}" if given else ""))
        return self
