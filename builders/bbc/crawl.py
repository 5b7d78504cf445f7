"""A small polite crawler: robots.txt, named User-Agent, rate limit, allowed domains, URL dedup, disk cache,
and an archive mode that seeds from sitemaps for a date range.

Every network request goes through fetch.Fetcher (URL/host/IP checks, redirects checked hop by hop, size
limits, a deadline per fetch). The disk cache is what makes a crawl resumable: every fetched response (also
404s) is written to `cache_dir/<sha1(url)>.json.gz` before it is used, and a later run reads it from there
instead of asking the server again. Only fresh fetches count against the rate limit.
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import re
import time
import urllib.robotparser
import zlib
from collections import deque
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit, urlunsplit

from . import sitemaps
from .extract import Article, extract
from .fetch import Fetcher, FetchError, domain_allowed

_SKIP_EXT = re.compile(r"\.(jpe?g|png|gif|svg|webp|mp[34]|m3u8|pdf|css|js|ico|woff2?|xml\.gz|zip)$", re.IGNORECASE)
# Article-looking URLs are fetched first so that max_articles is reached with few index fetches. This only
# orders the queue: whether a page is an article is decided by its own markup (layouts.py).
# /news/world-us-canada-33646704, /yoruba/media-42985961, /news/articles/c4gl..., /igbo/23183190,
# /zhongwen/simp/chinese_news/2012/12/121210_hongkong_politics.shtml
LIKELY_ARTICLE = re.compile(r"/(articles/[a-z0-9]{8,}|[a-z0-9_-]*-\d{6,}|\d{6,}|\d{6}_[\w-]+\.shtml)(\.json)?$")
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB


@dataclasses.dataclass
class Page:
    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    content_type: str
    body: str
    from_cache: bool = False


def norm_url(url: str) -> str:
    """Dedup key: no fragment, no query, no trailing slash, http == https, www. ignored."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit(("", host, parts.path.rstrip("/") or "/", "", ""))


class PageCache:
    def __init__(self, root: str):
        self.root = root
        os.makedirs(root, exist_ok=True)

    def _path(self, url: str) -> str:
        return os.path.join(self.root, hashlib.sha1(norm_url(url).encode()).hexdigest() + ".json.gz")

    def get(self, url: str) -> Page | None:
        path = self._path(url)
        if not os.path.exists(path):
            return None
        try:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                d = json.load(f)
        except (OSError, EOFError, json.JSONDecodeError):  # a torn write from a killed run: fetch again
            return None
        return Page(d["url"], d["final_url"], d["status"], d["content_type"], d["body"], from_cache=True)

    def put(self, page: Page) -> None:
        path = self._path(page.url)
        tmp = f"{path}.tmp-{os.getpid()}"
        with gzip.open(tmp, "wt", encoding="utf-8") as f:
            json.dump({"url": page.url, "final_url": page.final_url, "status": page.status,
                       "content_type": page.content_type, "body": page.body, "fetched_at": time.time()}, f)
        os.replace(tmp, path)  # atomic: a crash never leaves a half page that a resume would trust


def _charset(content_type: str) -> str:
    m = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    return m.group(1) if m else "utf-8"


def decode_body(body: bytes, content_type: str, limit: int) -> str:
    """Text of a body. A gzip file served as such (sitemap.xml.gz) is unpacked, up to `limit` bytes."""
    if body[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        body = d.decompress(body, limit + 1)
        if len(body) > limit:
            raise FetchError(f"gzip file larger than max_decompressed_bytes ({limit}) unpacked")
    try:
        return body.decode(_charset(content_type), "replace")
    except LookupError:  # an unknown charset name
        return body.decode("utf-8", "replace")


class PoliteFetcher:
    """robots.txt + rate limit + disk cache around the checked Fetcher."""

    def __init__(self, cfg, cache: PageCache):
        self.cfg = cfg
        self.cache = cache
        self.net = Fetcher(cfg)
        self.robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self.next_time: dict[str, float] = {}

    @property
    def requests(self) -> int:
        return self.net.requests

    def _wait(self, host: str, delay: float) -> None:
        now = time.monotonic()
        at = self.next_time.get(host, now)
        if at > now:
            time.sleep(at - now)
        self.next_time[host] = max(at, now) + delay

    def _delay(self, host: str) -> float:
        delay = 1.0 / self.cfg.requests_per_second
        rp = self.robots.get(host)
        crawl_delay = rp.crawl_delay(self.cfg.user_agent) if rp else None
        return max(delay, float(crawl_delay or 0))

    def _robots(self, url: str) -> urllib.robotparser.RobotFileParser:
        parts = urlsplit(url)
        host = parts.netloc
        if host not in self.robots:
            rp = urllib.robotparser.RobotFileParser()
            robots_url = f"{parts.scheme}://{host}/robots.txt"
            # robots.txt goes through the same checks as every page, redirects included (hop by hop)
            def pace(hop):
                return self._wait(urlsplit(hop).netloc, 1.0 / self.cfg.requests_per_second)
            try:
                r = self.net.fetch(robots_url, before_hop=pace)
                if r.status in (401, 403):
                    rp.disallow_all = True  # same rule as urllib.robotparser.read()
                elif r.status >= 400:
                    rp.allow_all = True  # no robots.txt: everything allowed
                else:
                    rp.parse(decode_body(r.body, r.content_type, ROBOTS_MAX_BYTES)[:ROBOTS_MAX_BYTES].splitlines())
            except FetchError:
                rp.disallow_all = True  # cannot read the rules (or refused to follow them somewhere): do not guess
            self.robots[host] = rp
        return self.robots[host]

    def _before_hop(self, url: str) -> None:
        if not self._robots(url).can_fetch(self.cfg.user_agent, url):
            raise FetchError("disallowed by robots.txt")
        host = urlsplit(url).netloc
        self._wait(host, self._delay(host))

    def get(self, url: str) -> Page:
        self.net.check(url)  # even a cached page must be one we may fetch now
        cached = self.cache.get(url)
        if cached is not None:
            return cached
        r = self.net.fetch(url, before_hop=self._before_hop)
        body = decode_body(r.body, r.content_type, self.cfg.max_decompressed_bytes)
        page = Page(url, r.final_url, r.status, r.content_type, body)
        self.cache.put(page)
        return page


class Crawler:
    """Breadth-first over allowed links; article-looking URLs are fetched before others so that
    `max_articles` is reached with few front-page fetches."""

    def __init__(self, cfg, start_urls: list[str], follow_prefixes: list[str], seed_sitemaps: list[str]):
        self.cfg = cfg
        self.fetcher = PoliteFetcher(cfg, PageCache(os.path.abspath(os.path.expanduser(cfg.cache_dir))))
        self.start_urls = start_urls
        self.follow_prefixes = follow_prefixes
        self.seed_sitemaps = seed_sitemaps

    def _follow(self, url: str) -> bool:
        parts = urlsplit(url)
        return (
            parts.scheme in ("http", "https")
            and domain_allowed(parts.hostname or "", self.cfg.allowed_domains)
            and any(parts.path.startswith(p) for p in self.follow_prefixes)
            and not _SKIP_EXT.search(parts.path)
        )

    def run(self, report) -> Iterator[tuple[Page, Article]]:
        """Yield (page, article) for every page fetched (articles and index pages alike).
        `report(url, reason)` is called for pages that could not be fetched."""
        seen: set[str] = set()
        likely: deque[tuple[str, int]] = deque()
        others: deque[tuple[str, int]] = deque()

        def push(url: str, depth: int) -> None:
            key = norm_url(url)
            if key in seen or depth > self.cfg.max_depth:
                return
            seen.add(key)
            (likely if LIKELY_ARTICLE.search(urlsplit(url).path) else others).append((url, depth))

        for sm in self.seed_sitemaps:
            for url in self._sitemap(sm, report):
                if self._follow(url):
                    push(url, 1)
        for url in self.start_urls:
            push(url, 0)
        fetched = 0
        while (likely or others) and fetched < self.cfg.max_pages:
            url, depth = (likely or others).popleft()
            try:
                page = self.fetcher.get(url)
            except FetchError as e:
                report(url, str(e))
                continue
            fetched += 1
            if page.status >= 400:
                report(url, f"HTTP {page.status}")
                continue
            try:
                art = extract(page.body, page.final_url, page.content_type)
            except (ValueError, RecursionError) as e:  # json.JSONDecodeError is a ValueError
                report(url, f"unparseable page: {e}"[:200])
                continue
            for link in art.links:
                link = urljoin(page.final_url, link).split("#", 1)[0]
                if self._follow(link):
                    push(link, depth + 1)
            yield page, art

    def _sitemap(self, url: str, report, depth: int = 0) -> list[str]:
        """Page URLs listed by a sitemap (or, recursively, a sitemap index) within the archive date range."""
        start, end = self.cfg.archive_from, self.cfg.archive_to
        try:
            page = self.fetcher.get(url)
        except FetchError as e:
            report(url, str(e))
            return []
        if page.status >= 400:
            report(url, f"HTTP {page.status}")
            return []
        is_index, entries = sitemaps.parse(page.body)
        if is_index:
            if depth >= 2:
                return []
            return [u for e in entries if sitemaps.child_may_hold(e.day, start)
                    for u in self._sitemap(e.loc, report, depth + 1)]
        return [e.loc for e in entries if sitemaps.in_range(e.day, start, end)]
