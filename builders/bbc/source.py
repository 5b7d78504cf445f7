"""BBC News / World Service -> documents.

Two modes:
- crawl (default): one shard, "crawl:<service>"; the crawler (crawl.py) fetches politely and caches pages
  on disk, so a rerun resumes without refetching. Stops after `max_articles` articles.
- offline (`html_dir:`): one shard per saved page (.html, .htm, .html.gz, .json, .json.gz).

Front/topic pages are counted as skipped["index_page"] (they only give links); whether a page is one is
read from its own markup (layouts.py), never from its URL. An article page that yields no body, or too short
a body, is counted and reported in stats.errors with its URL and the reason. Per layout, the tallies
`bbc_layout_read`, `bbc_layout_skipped` and `bbc_layout_failed` count what became a document, what was
skipped (index pages, duplicates, out of the archive date range) and what failed (no body, unparseable).
"""
from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from datetime import date
from urllib.parse import urlsplit

from wiki_qa.builders.base import License, Source, SourceStats, register
from wiki_qa.errors import UserError

from . import sitemaps
from .config import ARCHIVE_INDEX, SERVICES, BBCConfig
from .extract import Article, extract, word_count

SAVED_EXTS = (".html", ".htm", ".html.gz", ".htm.gz", ".json", ".json.gz")
CRAWL_PREFIX = "crawl:"


@register
class BBCSource(Source):
    type = "bbc"
    kind = "documents"
    Config = BBCConfig
    license = License("other", "BBC copyright",
                      "BBC News articles are (c) BBC and are not openly licensed. Use only where your jurisdiction "
                      "allows (e.g. research / text-and-data-mining exceptions); do not redistribute publicly.")

    # ---------------------------------------------------------------- shards

    def _saved_files(self) -> list[str]:
        root = self.config.html_dir
        return sorted(
            os.path.join(d, n) for d, _, names in os.walk(root) for n in names if n.lower().endswith(SAVED_EXTS)
        )

    def shards(self, parallel: int = 1) -> list[str]:
        if self.config.html_dir:
            if not os.path.isdir(self.config.html_dir):
                raise UserError("html_dir is not a folder", path=self.config.html_dir)
            files = self._saved_files()
            if not files:
                raise UserError("no saved pages (.html, .html.gz, .json) in html_dir", path=self.config.html_dir)
            return files
        if not self._start_urls() and not self._seed_sitemaps():
            raise UserError("source.start_urls: nothing to crawl (no service front page, start_urls or sitemaps)")
        return [CRAWL_PREFIX + (self.config.service or "custom")]

    def identity(self) -> list[dict]:
        if self.config.html_dir:
            return [{"path": p, "size": (st := os.stat(p)).st_size, "mtime": st.st_mtime} for p in self._saved_files()]
        # A live crawl has no cheap identity: the site changes. The parameters are the best we have;
        # the page cache keeps reruns cheap anyway.
        extra = {"max_articles": self.config.max_articles, "archive_from": str(self.config.archive_from),
                 "archive_to": str(self.config.archive_to)}
        return [{"path": u, **extra} for u in self._start_urls() + self._seed_sitemaps()]

    def _seed_sitemaps(self) -> list[str]:
        seeds = list(self.config.sitemaps)
        if self.config.archive:
            if self.config.archive_sitemaps is not None:
                seeds += self.config.archive_sitemaps
            elif self.config.service in SERVICES:
                seeds += [ARCHIVE_INDEX, SERVICES[self.config.service][1].rstrip("/") + "/sitemap.xml"]
        return list(dict.fromkeys(seeds))

    def _start_urls(self) -> list[str]:
        if self.config.start_urls:
            return list(self.config.start_urls)
        if self.config.service in SERVICES:
            return [SERVICES[self.config.service][1]]
        return []

    def _follow_prefixes(self) -> list[str]:
        if self.config.follow_prefixes is not None:
            return self.config.follow_prefixes
        prefixes = {(urlsplit(u).path.rstrip("/") or "") + "/" for u in self._start_urls()}
        return sorted(prefixes) or ["/"]

    # ---------------------------------------------------------------- rows

    def _lang(self, art: Article) -> str | None:
        if self.config.lang:
            return self.config.lang
        if self.config.service in SERVICES:
            return SERVICES[self.config.service][0]
        return art.lang

    def _row(self, art: Article, url: str) -> dict:
        ident = urlsplit(art.canonical).path if art.canonical else urlsplit(url).path
        service = self.config.service or "news"
        return {
            "doc_id": f"bbc:{ident.removesuffix('.json')}",
            "title": art.headline,
            "text": art.text,
            "url": art.canonical or url,
            "lang": self._lang(art),
            "source": f"bbc:{service}",
            "meta": {"headline": art.headline, "published": art.published, "modified": art.modified,
                     "topic": art.topic, "page_lang": art.lang, "extractor": art.method, "fetched_url": url},
        }

    def _accept(self, art: Article, url: str, stats: SourceStats, file: str | None = None) -> bool:
        """Decide whether an extracted page becomes a document; count and report the rest."""
        if not art.is_article:
            stats.skip("index_page")  # front/topic pages: they give links, not text
            stats.tally("bbc_layout_skipped", art.layout)
            return False
        if self.config.archive and not self._in_archive_range(art, url):
            stats.skip("out_of_date_range")
            stats.tally("bbc_layout_skipped", art.layout)
            return False
        words = word_count(art.text)
        reason = None
        if not art.headline:
            reason = "no headline found"
        elif words == 0:
            reason = f"no article body found ({art.method} extractor)"
        elif words < self.config.min_words:
            reason = f"article body too short: {words} words < min_words {self.config.min_words}"
        if reason:
            stats.skip("no_body" if words == 0 or not art.headline else "short_body")
            stats.errors.append({"file": file, "url": url, "reason": reason, "layout": art.layout})
            stats.tally("bbc_layout_failed", art.layout)
            return False
        return True

    def _in_archive_range(self, art: Article, url: str) -> bool:
        """The page's own publication date, else the date in its URL; undated pages are kept."""
        day = sitemaps.url_day(art.canonical or url)
        if art.published:
            try:
                day = date.fromisoformat(art.published[:10])
            except ValueError:
                pass
        return sitemaps.in_range(day, self.config.archive_from, self.config.archive_to)

    def _emit(self, art: Article, url: str, stats: SourceStats) -> dict:
        stats.documents += 1
        stats.tally("bbc_layout_read", art.layout)
        return self._row(art, url)

    def read(self, shard: str, stats: SourceStats, limit: int | None = None) -> Iterator[dict]:
        crawl_cap = self.config.max_articles if shard.startswith(CRAWL_PREFIX) else None
        cap = min(x for x in (limit, crawl_cap, 10**12) if x is not None)
        if shard.startswith(CRAWL_PREFIX):
            yield from self._read_crawl(stats, cap)
        else:
            yield from self._read_saved(shard, stats, cap)

    def _read_saved(self, path: str, stats: SourceStats, cap: int) -> Iterator[dict]:
        if cap <= 0:
            return
        with open(path, "rb") as f:
            raw = f.read()
        stats.files.append({"path": path, "bytes": len(raw)})
        stats.pages_seen += 1
        if path.lower().endswith(".gz"):
            raw = gzip.decompress(raw)
        url = "file://" + os.path.abspath(path)
        try:
            art = extract(raw, url, "application/json" if path.lower().endswith((".json", ".json.gz")) else "text/html")
        except (ValueError, RecursionError) as e:
            stats.skip("unparseable")
            stats.errors.append({"file": path, "url": url, "reason": f"unparseable page: {e}"[:200]})
            stats.tally("bbc_layout_failed", "unparseable")
            return
        if not art.canonical:  # no URL in the page: the path under html_dir stands in for it
            art.canonical = "file:///" + os.path.relpath(path, self.config.html_dir).replace(os.sep, "/")
        if self._accept(art, art.canonical or url, stats, file=path):
            yield self._emit(art, art.canonical or url, stats)

    def _read_crawl(self, stats: SourceStats, cap: int) -> Iterator[dict]:
        start_urls = [] if self.config.archive and not self.config.start_urls else self._start_urls()
        from .crawl import Crawler  # requests and the crawl's HTTP stack: only a crawling build pays for them

        crawler = Crawler(self.config, start_urls, self._follow_prefixes(), self._seed_sitemaps())
        seen_docs: set[str] = set()

        def report(url: str, reason: str) -> None:
            stats.skip("fetch_failed")
            stats.errors.append({"file": None, "url": url, "reason": reason})
            stats.tally("bbc_layout_failed", "fetch_failed")

        n = 0
        for page, art in crawler.run(report):
            stats.pages_seen += 1
            if not self._accept(art, page.final_url, stats):
                continue
            row = self._row(art, page.final_url)
            if row["doc_id"] in seen_docs:  # same article under two URLs (canonical dedup)
                stats.skip("duplicate")
                stats.tally("bbc_layout_skipped", art.layout)
                continue
            seen_docs.add(row["doc_id"])
            n += 1
            yield self._emit(art, page.final_url, stats)
            if n >= cap:
                stats.truncated = True
                break
        stats.warnings.append(f"bbc crawl: {crawler.fetcher.requests} network requests, cache {self.config.cache_dir}")
