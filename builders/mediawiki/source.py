"""MediaWiki XML dumps and Special:Export files -> documents (raw wikitext; the clean stage converts it).

Pages come from the expat reader in pages.py (streaming, export schemas 0.3-0.11), over whole files or
byte-range shards of them (shards.py). This module adds what a dataset build needs on top: namespace
selection by the wiki's own names, redirect detection for old exports, stub, truncation and corruption
handling, the page size cap, and per-reason skip counts.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from wiki_qa.builders.base import License, Source, SourceStats, register
from wiki_qa.builders.mediawiki import shards as shard_plan
from wiki_qa.builders.mediawiki.clean import CleanConfig, WikiSyntax, is_disambiguation, is_redirect
from wiki_qa.builders.mediawiki.clean import options as clean_options
from wiki_qa.builders.mediawiki.clean import to_text as wikitext_to_text
from wiki_qa.builders.mediawiki.config import MediaWikiConfig
from wiki_qa.builders.mediawiki.dump import CUT_OFF, Dump, open_dump, read_error, short
from wiki_qa.builders.mediawiki.links import body_links
from wiki_qa.builders.mediawiki.pages import BadXML, EntitiesRefused, HeadTooLarge
from wiki_qa.builders.mediawiki.siteinfo import CATEGORY_NS, FILE_NS, MEDIA_NS
from wiki_qa.errors import UserError
from wiki_qa.io import expand
from wiki_qa.progress import input_bar

log = logging.getLogger("wiki_qa")
MAX_WARNINGS = 50  # per reason and shard: a dump with a million bad pages must not make a huge report


@register
class MediaWikiSource(Source):
    type = "mediawiki"
    kind = "documents"
    license = License("cc-by-sa-4.0", "CC BY-SA 4.0",
                      "Wikimedia text is CC BY-SA (attribution + share-alike): derived datasets must keep the "
                      "licence and credit the page authors (the `url` column links each row to its page history). "
                      "Other MediaWiki sites (Fandom, company wikis) may use other terms: check the site's licence.")
    Config = MediaWikiConfig

    def __init__(self, config, clean: CleanConfig | None = None):
        super().__init__(config, clean or CleanConfig())
        self._options = clean_options(self.clean)
        self._syntax = WikiSyntax()  # the dump being read: its localized File:/Category: names

    def shards(self, parallel: int = 1) -> list[str]:
        """Files, or byte ranges of big files when several workers want work (see shards.py)."""
        return shard_plan.plan(self.input_files(), parallel, self.config.min_shard_bytes)

    def input_files(self) -> list[str]:
        if self.config.wiki or self.config.api:
            return [str(p) for p in self._fetched().files[:1]]  # the index is found beside the dump
        paths = expand(self.config.path)
        dumps = [p for p in paths if not shard_plan.is_index(p)]  # a glob may catch the index files too
        if not dumps:
            raise UserError(f"{paths[0]}: is a multistream index (where the dump's streams start), not a dump; "
                            "give the ...-multistream.xml.bz2 file beside it")
        return dumps

    def identity(self) -> list[dict]:
        if self.config.wiki or self.config.api:
            return self._fetched().identity()  # holds the checksum: a new dump or snapshot is a new build
        return super().identity()

    def _fetched(self):
        """`source.wiki` / `source.api`: local verified files, fetched into the wiki_qa cache when missing."""
        if getattr(self, "_got", None) is None:
            cfg = self.config
            if cfg.wiki:
                from wiki_qa.builders.mediawiki.fetch import fetch_dump

                self._got = fetch_dump(cfg.wiki, cfg.dump, cfg.mirrors, cfg.contact)
            else:
                from wiki_qa.builders.mediawiki.api import snapshot

                self._got = snapshot(cfg.api, cfg.namespaces, cfg.contact)
            for w in self._got.warnings if self._got.network else ():  # said once, when it was found out
                log.warning("%s", w)
        return self._got

    def read(self, shard: str, stats: SourceStats, limit: int | None = None) -> Iterator[dict]:
        cfg = self.config
        if (cfg.wiki or cfg.api) and shard_plan.parse(shard).start == 0:
            stats.warnings += self._fetched().warnings  # once per input file: its first shard
        bar = input_bar(shard.rsplit("/", 1)[-1], None)
        with open_dump(shard, revision=cfg.revision, max_page_bytes=cfg.max_page_bytes,
                       skip_bad=cfg.on_error == "skip", on_bytes=bar.update) as dump:
            bar.total = dump.input.size
            if not dump.site.has_siteinfo:
                stats.warnings.append(f"{dump.shard.path}: has no <siteinfo>; read with the canonical English "
                                      "namespace names, no site name, language or URLs")
            ids = _DocIds(dump.site.site_key, stats)
            yield from self._pages(dump, ids, stats, limit, bar)
            if not dump.shard.whole and not limit and not stats.truncated:
                ids.check_order(dump.shard)
            whole = not limit  # with --limit, don't read a 90 GB dump to the end just for its hash
            if whole and not stats.truncated:
                _drain(dump.input.stream)  # the sha256 must cover the whole file (the tail after the last page)
            site = dump.site
            stats.files.append({"path": shard, "sha256": dump.input.sha256 if whole else None,
                                "bytes": dump.input.bytes_read, "compression": dump.input.compression,
                                "schema": site.schema_version, "site": site.site_key, "lang": site.lang})
        bar.close()

    def _pages(self, dump: Dump, ids: _DocIds, stats: SourceStats, limit, bar) -> Iterator[dict]:
        cfg, site, path = self.config, dump.site, dump.shard.path
        try:
            wanted = site.resolve_namespaces(cfg.namespaces)
        except UserError as e:
            raise UserError(str(e), path=path) from None
        self._syntax = WikiSyntax(
            file_prefixes=site.prefixes(FILE_NS, MEDIA_NS), category_prefixes=site.prefixes(CATEGORY_NS),
            namespace_prefixes=frozenset(site.lookup()),
        )
        lang = cfg.lang or site.lang or "und"
        emitted, started = 0, time.monotonic()
        pages = iter(dump.reader)
        while limit is None or emitted < limit:
            try:
                page = next(pages)
            except StopIteration:
                return
            except BadXML as e:
                if not e.at_end or not dump.reader.pages_done and e.title is None:
                    raise read_error(str(dump.shard), e) from None
                self._truncated(stats, str(dump.shard), f"{e.reason} at {e.where()}")
                return
            except CUT_OFF as e:
                self._truncated(stats, str(dump.shard), short(e))
                return
            except (EntitiesRefused, HeadTooLarge, OSError) as e:
                raise read_error(str(dump.shard), e) from None
            if isinstance(page, BadXML):  # on_error: skip
                stats.pages_seen += 1
                stats.skip("bad_xml")
                stats.errors.append({"file": str(dump.shard), "offset": page.offset, "page": page.title,
                                     "reason": f"corrupt XML at {page.where()}: {page.reason}"})
                continue
            stats.pages_seen += 1
            ids.see(page.id)
            if stats.pages_seen % 200 == 0:
                bar.set_postfix(pages_s=f"{stats.pages_seen / max(time.monotonic() - started, 1e-9):.0f}")
            ns = page.namespace if page.namespace is not None else site.namespace_of(page.title)
            if ns not in wanted:
                stats.skip("namespace")
                continue
            rev = page.revision
            if rev is None:
                stats.skip("no_revision")
                continue
            if page.too_large:
                stats.skip("too_large")
                if stats.skipped["too_large"] <= MAX_WARNINGS:
                    stats.warnings.append(f"{path}: page {page.title!r} is over source.max_page_bytes "
                                          f"({cfg.max_page_bytes:,} bytes); skipped")
                continue
            text = rev.text
            if text is None:
                if rev.text_deleted:
                    stats.skip("deleted")
                    continue
                if rev.bytes:
                    raise UserError(f"{path}: is a stub dump: revisions carry no text (page "
                                    f"{page.title!r} has {rev.bytes} bytes but no <text>); use a "
                                    "pages-articles or pages-meta-current dump")
                text = ""
            if page.redirect or is_redirect(text):
                stats.skip("redirect")
                continue
            if not text.strip():
                stats.skip("empty")
                continue
            if cfg.skip_disambiguation and is_disambiguation(page.title, text):
                stats.skip("disambiguation")
                continue
            stats.documents += 1
            emitted += 1
            yield {
                "doc_id": ids.doc_id(page.id, page.title),
                "title": page.title,
                "text": text,
                "url": site.url(page.title),
                "lang": lang,
                "source": f"mediawiki:{site.site_key}",
                "meta": {"page_id": page.id, "namespace": ns, "revision_id": rev.id,
                         "timestamp": rev.timestamp, "links": body_links(text, self._syntax.namespace_prefixes)},
            }

    @staticmethod
    def _truncated(stats: SourceStats, shard: str, why: str) -> None:
        # A dump cut off mid-page: every complete page is already out; the partial one is dropped.
        stats.truncated = True
        stats.warnings.append(f"{shard}: input ends early ({why}); kept the {stats.pages_seen} complete "
                              "pages before it")

    def to_text(self, doc: dict, stats: SourceStats) -> str:
        if self.clean.keep_wikitext:
            return doc["text"]
        # Ages ("aged 41") are computed at the revision's date: what the page showed, and repeatable.
        return wikitext_to_text(doc["text"], self._syntax, self._options, stats,
                                today=(doc.get("meta") or {}).get("timestamp"), lang=doc.get("lang"))


class _DocIds:
    """doc_id = "<site>:<page id>", stable across dump versions (so a page keeps its split).

    Hand-edited or merged exports can repeat a page id; the repeats get the title (and an occurrence
    number) appended so ids stay unique. Seen ids live in a bitmap: about 10 MB for all of English
    Wikipedia, instead of a set that grows with the dump.

    The bitmap is per reader, so per shard. A repeat in another byte range of the same file cannot be seen
    from here; what can be checked is that it cannot happen: Wikimedia dumps list pages in strictly
    ascending page id, so a shard whose ids ascend and stay below the next shard's first id shares no id
    with any other shard, and its doc_ids are those of one read of the whole file. `check_order` warns
    when that does not hold.
    """

    def __init__(self, site_key: str, stats: SourceStats):
        self.site, self.stats, self.seen, self.repeats = site_key, stats, bytearray(), {}
        self.last, self.ascending = -1, True

    def see(self, page_id) -> None:
        if page_id is None or page_id <= self.last:
            self.ascending = False
        else:
            self.last = page_id

    def check_order(self, shard) -> None:
        nxt = None
        if shard.end is not None and self.ascending:
            from wiki_qa.builders.mediawiki.shards import file_size, first_page_id

            if shard.end < file_size(shard.path):
                nxt = first_page_id(shard.path, shard.end)
                self.ascending = nxt is not None and nxt > self.last
        if not self.ascending:
            self.stats.warnings.append(
                f"{shard}: page ids are not in ascending order across the byte ranges of this file, so a page "
                "id repeated in two ranges would give two documents one doc_id; set source.min_shard_bytes "
                "above the file's size to read it whole")

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


def _drain(stream) -> None:
    while stream.read(1 << 20):
        pass
