"""MediaWiki XML dumps and Special:Export files -> documents (raw wikitext; the clean stage converts it).

Parsing is mwxml's (streaming, export schemas 0.3-0.11). This module adds what a dataset build needs on
top: sniffing what the file really is, namespace selection by the wiki's own names, redirect detection for
old exports, stub and truncation handling, and per-reason skip counts.
"""
from __future__ import annotations

import time
from typing import Iterator

from wiki_qa.builders.base import Source, SourceStats
from wiki_qa.builders.mediawiki.config import MediaWikiConfig
from wiki_qa.builders.mediawiki.clean import CleanConfig, WikiSyntax, is_disambiguation, is_redirect
from wiki_qa.builders.mediawiki.clean import options as clean_options
from wiki_qa.builders.mediawiki.clean import to_text as wikitext_to_text
from wiki_qa.builders.mediawiki.dump import READ_ERRORS, open_dump, short
from wiki_qa.builders.mediawiki.siteinfo import CATEGORY_NS, FILE_NS, MEDIA_NS, SiteInfo
from wiki_qa.errors import UserError
from wiki_qa.io import expand, identity
from wiki_qa.progress import input_bar


class MediaWikiSource(Source):
    type = "mediawiki"
    kind = "documents"
    license = "cc-by-sa-4.0"
    Config = MediaWikiConfig

    def __init__(self, config, clean: CleanConfig | None = None):
        super().__init__(config, clean or CleanConfig())
        self._options = clean_options(self.clean)
        self._syntax = WikiSyntax()  # the dump being read: its localized File:/Category: names

    def shards(self, parallel: int = 1) -> list[str]:
        return expand(self.config.path)

    def identity(self) -> list[dict]:
        return [identity(p) for p in self.shards()]

    def read(self, shard: str, stats: SourceStats, limit: int | None = None) -> Iterator[dict]:
        bar = input_bar(shard.rsplit("/", 1)[-1], None)
        with open_dump(shard, on_bytes=bar.update) as (inp, dump, site):
            bar.total = inp.size
            yield from self._pages(shard, dump, site, stats, limit, bar)
            whole = not limit  # with --limit, don't read a 90 GB dump to the end just for its hash
            if whole and not stats.truncated:
                _drain(inp.stream)  # the sha256 must cover the whole file (the tail after the last page)
            stats.files.append({"path": shard, "sha256": inp.sha256 if whole else None,
                                "bytes": inp.bytes_read, "compression": inp.compression,
                                "schema": site.schema_version, "site": site.site_key, "lang": site.lang})
        bar.close()

    def _pages(self, shard, dump, site: SiteInfo, stats: SourceStats, limit, bar) -> Iterator[dict]:
        cfg = self.config
        try:
            wanted = site.resolve_namespaces(cfg.namespaces)
        except UserError as e:
            raise UserError(str(e), path=shard) from None
        self._syntax = WikiSyntax(
            file_prefixes=site.prefixes(FILE_NS, MEDIA_NS), category_prefixes=site.prefixes(CATEGORY_NS),
            namespace_prefixes=frozenset(site.lookup()),
        )
        lang = cfg.lang or site.lang or "und"
        ids = _DocIds(site.site_key, stats)
        emitted, started = 0, time.monotonic()
        pages = iter(dump)
        while limit is None or emitted < limit:
            try:
                page = next(pages)
                ns = page.namespace if page.namespace is not None else site.namespace_of(page.title or "")
                if ns not in wanted:
                    stats.pages_seen += 1
                    stats.skip("namespace")
                    continue
                rev = _pick_revision(page, cfg.revision)
            except StopIteration:
                return
            except READ_ERRORS as e:
                # A dump cut off mid-page: every complete page is already out; the partial one is dropped.
                stats.truncated = True
                stats.warnings.append(f"{shard}: input ends early ({short(e)}); kept the "
                                      f"{stats.pages_seen} complete pages before it")
                return
            stats.pages_seen += 1
            if stats.pages_seen % 200 == 0:
                bar.set_postfix(pages_s=f"{stats.pages_seen / max(time.monotonic() - started, 1e-9):.0f}")
            if rev is None:
                stats.skip("no_revision")
                continue
            text = rev.text
            if text is None:
                if rev.deleted is not None and getattr(rev.deleted, "text", False):
                    stats.skip("deleted")
                    continue
                if rev.bytes:
                    raise UserError(f"{shard}: is a stub dump: revisions carry no text (page "
                                    f"{page.title!r} has {rev.bytes} bytes but no <text>); use a "
                                    "pages-articles or pages-meta-current dump")
                text = ""
            if page.redirect or is_redirect(text):
                stats.skip("redirect")
                continue
            if not text.strip():
                stats.skip("empty")
                continue
            if cfg.skip_disambiguation and is_disambiguation(page.title or "", text):
                stats.skip("disambiguation")
                continue
            stats.documents += 1
            emitted += 1
            yield {
                "doc_id": ids.doc_id(page.id, page.title or ""),
                "title": page.title or "",
                "text": text,
                "url": site.url(page.title or ""),
                "lang": lang,
                "source": f"mediawiki:{site.site_key}",
                "meta": {"page_id": page.id, "namespace": ns, "revision_id": rev.id,
                         "timestamp": str(rev.timestamp) if rev.timestamp else None},
            }


    def to_text(self, doc: dict, stats: SourceStats) -> str:
        if self.clean.keep_wikitext:
            return doc["text"]
        # Ages ("aged 41") are computed at the revision's date: what the page showed, and repeatable.
        return wikitext_to_text(doc["text"], self._syntax, self._options, stats,
                                today=(doc.get("meta") or {}).get("timestamp"))


class _DocIds:
    """doc_id = "<site>:<page id>", stable across dump versions (so a page keeps its split).

    Hand-edited or merged exports can repeat a page id; the repeats get the title (and an occurrence
    number) appended so ids stay unique. Seen ids live in a bitmap: about 10 MB for all of English
    Wikipedia, instead of a set that grows with the dump.
    """

    def __init__(self, site_key: str, stats: SourceStats):
        self.site, self.stats, self.seen, self.repeats = site_key, stats, bytearray(), {}

    def doc_id(self, page_id, title: str) -> str:
        pid = int(page_id) if page_id is not None else -1
        if pid >= 0:
            byte, bit = divmod(pid, 8)
            if byte >= len(self.seen):
                self.seen.extend(bytes(byte + 1 - len(self.seen) + (1 << 16)))
            if not self.seen[byte] & (1 << bit):
                self.seen[byte] |= 1 << bit
                return f"{self.site}:{pid}"
        key = f"{self.site}:{pid}:{title}"
        n = self.repeats[key] = self.repeats.get(key, 0) + 1
        self.stats.skip("duplicate_page_id_kept")
        if len(self.stats.warnings) < 50:
            self.stats.warnings.append(f"page id {pid} repeats ({title!r}); its doc_id gets the title appended")
        return key if n == 1 else f"{key}#{n}"


def _pick_revision(page, which: str):
    """Latest (by timestamp, then order) or first revision of a page; consumes the page's revisions."""
    chosen = None
    for rev in page:
        if chosen is None or which == "latest" and (rev.timestamp is None or chosen.timestamp is None
                                                   or rev.timestamp >= chosen.timestamp):
            chosen = rev
    return chosen


def _drain(stream) -> None:
    while stream.read(1 << 20):
        pass
