"""YAML `source:` section for BBC News / World Service."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from wiki_qa.configbase import StrictModel

# service -> (language code, front page). More services work through start_urls + lang.
SERVICES: dict[str, tuple[str, str]] = {
    "news": ("en", "https://www.bbc.com/news"),
    "english": ("en", "https://www.bbc.com/news"),
    "yoruba": ("yo", "https://www.bbc.com/yoruba"),
    "hausa": ("ha", "https://www.bbc.com/hausa"),
    "igbo": ("ig", "https://www.bbc.com/igbo"),
    "pidgin": ("pcm", "https://www.bbc.com/pidgin"),
    "swahili": ("sw", "https://www.bbc.com/swahili"),
    "amharic": ("am", "https://www.bbc.com/amharic"),
    "somali": ("so", "https://www.bbc.com/somali"),
    "afrique": ("fr", "https://www.bbc.com/afrique"),
    "gahuza": ("rw", "https://www.bbc.com/gahuza"),
    "tigrinya": ("ti", "https://www.bbc.com/tigrinya"),
    "afaanoromoo": ("om", "https://www.bbc.com/afaanoromoo"),
    "arabic": ("ar", "https://www.bbc.com/arabic"),
    "persian": ("fa", "https://www.bbc.com/persian"),
    "hindi": ("hi", "https://www.bbc.com/hindi"),
    "urdu": ("ur", "https://www.bbc.com/urdu"),
    "mundo": ("es", "https://www.bbc.com/mundo"),
    "portuguese": ("pt", "https://www.bbc.com/portuguese"),
    "russian": ("ru", "https://www.bbc.com/russian"),
    "turkce": ("tr", "https://www.bbc.com/turkce"),
    "vietnamese": ("vi", "https://www.bbc.com/vietnamese"),
    "indonesia": ("id", "https://www.bbc.com/indonesia"),
    "cymrufyw": ("cy", "https://www.bbc.co.uk/cymrufyw"),
    "burmese": ("my", "https://www.bbc.com/burmese"),
    "zhongwen": ("zh", "https://www.bbc.com/zhongwen/simp"),
}
# The archive index the BBC's robots.txt names; each World Service language also has <front page>/sitemap.xml.
ARCHIVE_INDEX = "https://www.bbc.com/sitemaps/https-index-com-archive.xml"
MiB = 1024 * 1024


class BBCConfig(StrictModel):
    type: Literal["bbc"] = "bbc"
    service: str | None = "news"  # a key of SERVICES; sets lang, the front page and the URL prefix followed
    lang: str | None = None  # default: the service's language, else what the page declares
    # Offline mode: build from saved pages (.html, .html.gz, .json) under this folder; no network at all.
    html_dir: str | None = None
    start_urls: list[str] = Field(default_factory=list)  # default: the service front page
    sitemaps: list[str] = Field(default_factory=list)  # sitemap or sitemap-index URLs to seed from
    max_articles: int | None = Field(200, ge=1)  # stop after this many extracted articles
    max_pages: int = Field(5000, ge=1)  # hard cap on fetched pages (front/topic pages included)
    max_depth: int = Field(3, ge=0)  # link hops from a start URL
    requests_per_second: float = Field(1.0, gt=0)  # politeness; robots.txt Crawl-delay wins when slower
    user_agent: str = "wiki_qa-bbc-crawler/0.1 (dataset builder; +https://github.com/wiki-qa/wiki_qa)"
    allowed_domains: list[str] = Field(default_factory=lambda: ["bbc.com", "bbc.co.uk"])
    # Only links under these path prefixes are followed; default: the service's own (/yoruba/, /news/).
    follow_prefixes: list[str] | None = None
    cache_dir: str = ".cache/wiki_qa/bbc"  # fetched pages are kept here; a rerun resumes without refetching
    # Archive crawl: with either date set, seed from the archive sitemaps (default: the BBC archive index and
    # the service's own sitemap.xml) and keep pages published in [archive_from, archive_to].
    archive_from: date | None = None
    archive_to: date | None = None
    archive_sitemaps: list[str] | None = None
    timeout_s: float = Field(30.0, gt=0)  # per connect / per read on the socket
    # Bounds on every fetch (robots.txt, sitemaps and pages alike), see docs/security.md
    # Total network time of one fetch, redirects included; default twice timeout_s (60 s by default), so a
    # server dripping a byte at a time cannot hold a fetch longer than what timeout_s suggests.
    fetch_deadline_s: float | None = Field(None, gt=0)
    max_body_bytes: int = Field(10 * MiB, ge=1024)  # bytes on the wire
    max_decompressed_bytes: int = Field(50 * MiB, ge=1024)  # after gzip/deflate
    # Refuse hosts that resolve to private, loopback, link-local or metadata addresses (SSRF). Only tests
    # and crawls of your own intranet should set this.
    allow_private_hosts: bool = False
    min_words: int = 20  # an article body shorter than this counts as "no body"

    @model_validator(mode="after")
    def _known_service(self) -> BBCConfig:
        if self.service is not None and self.service not in SERVICES and not self.start_urls and not self.html_dir:
            raise ValueError(
                f"unknown service {self.service!r} (known: {', '.join(SERVICES)}); or set start_urls and lang"
            )
        if self.archive_from and self.archive_to and self.archive_from > self.archive_to:
            raise ValueError(f"archive_from {self.archive_from} is after archive_to {self.archive_to}")
        return self

    @property
    def deadline_s(self) -> float:
        return self.fetch_deadline_s or 2 * self.timeout_s

    @property
    def archive(self) -> bool:
        return self.archive_from is not None or self.archive_to is not None
