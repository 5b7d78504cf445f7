"""A small polite crawler: robots.txt, named User-Agent, rate limit, allowed domains, URL dedup, disk cache.

The disk cache is what makes a crawl resumable: every fetched response (also 404s) is written to
`cache_dir/<sha1(url)>.json.gz` before it is used, and a later run reads it from there instead of asking
the server again. Only fresh fetches count against the rate limit.
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
from collections import deque
from typing import Iterator
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from .extract import Article, extract

_LOC = re.compile(r"<loc>\s*([^<\s]+)\s*</loc>", re.I)
_SKIP_EXT = re.compile(r"\.(jpe?g|png|gif|svg|webp|mp[34]|m3u8|pdf|css|js|ico|woff2?|xml\.gz|zip)$", re.I)
# Article URLs: /news/world-us-canada-33646704, /yoruba/media-42985961, /news/articles/c4gl..., /igbo/23183190
ARTICLE_URL = re.compile(r"/(articles/[a-z0-9]{8,}|[a-z0-9_-]*-\d{6,}|\d{6,})(\.json)?$")


class FetchError(Exception):
    """A per-URL problem (refused by robots, off-domain redirect, network error): reported, not fatal."""


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


def domain_allowed(url: str, allowed: list[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in allowed)


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
        except (OSError, json.JSONDecodeError):  # a torn write from a killed run: fetch again
            return None
        return Page(d["url"], d["final_url"], d["status"], d["content_type"], d["body"], from_cache=True)

    def put(self, page: Page) -> None:
        path = self._path(page.url)
        tmp = f"{path}.tmp-{os.getpid()}"
        with gzip.open(tmp, "wt", encoding="utf-8") as f:
            json.dump({"url": page.url, "final_url": page.final_url, "status": page.status,
                       "content_type": page.content_type, "body": page.body, "fetched_at": time.time()}, f)
        os.replace(tmp, path)  # atomic: a crash never leaves a half page that a resume would trust


class Fetcher:
    def __init__(self, cfg, cache: PageCache):
        self.cfg = cfg
        self.cache = cache
        self.session = requests.Session()
        self.session.headers["User-Agent"] = cfg.user_agent
        self.robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self.next_time: dict[str, float] = {}
        self.requests = 0  # network requests made (robots.txt included)

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
            self._wait(host, 1.0 / self.cfg.requests_per_second)
            self.requests += 1
            try:
                r = self.session.get(robots_url, timeout=self.cfg.timeout_s)
                if r.status_code in (401, 403):
                    rp.disallow_all = True  # same rule as urllib.robotparser.read()
                elif r.status_code >= 400:
                    rp.allow_all = True  # no robots.txt: everything allowed
                else:
                    rp.parse(r.text.splitlines())
            except requests.RequestException:
                rp.disallow_all = True  # cannot read the rules: do not guess
            self.robots[host] = rp
        return self.robots[host]

    def check(self, url: str) -> None:
        if not domain_allowed(url, self.cfg.allowed_domains):
            raise FetchError("domain not allowed")
        if not self._robots(url).can_fetch(self.cfg.user_agent, url):
            raise FetchError("disallowed by robots.txt")

    def get(self, url: str) -> Page:
        cached = self.cache.get(url)
        if cached is not None:
            return cached
        current = url
        for _ in range(6):
            self.check(current)
            host = urlsplit(current).netloc
            self._wait(host, self._delay(host))
            self.requests += 1
            try:
                r = self.session.get(current, timeout=self.cfg.timeout_s, allow_redirects=False)
            except requests.RequestException as e:
                raise FetchError(f"network: {type(e).__name__}") from None
            if r.is_redirect and "location" in r.headers:
                current = urljoin(current, r.headers["location"])  # checked against domain + robots above
                continue
            r.encoding = r.encoding if "charset" in r.headers.get("content-type", "") else "utf-8"
            page = Page(url, current, r.status_code, r.headers.get("content-type", ""), r.text)
            self.cache.put(page)
            return page
        raise FetchError("too many redirects")


def sitemap_urls(text: str) -> list[str]:
    return _LOC.findall(text)


class Crawler:
    """Breadth-first over allowed links; article URLs are fetched before index pages so that
    `max_articles` is reached with few front-page fetches."""

    def __init__(self, cfg, start_urls: list[str], follow_prefixes: list[str]):
        self.cfg = cfg
        self.fetcher = Fetcher(cfg, PageCache(os.path.abspath(os.path.expanduser(cfg.cache_dir))))
        self.start_urls = start_urls
        self.follow_prefixes = follow_prefixes

    def _follow(self, url: str) -> bool:
        parts = urlsplit(url)
        return (
            parts.scheme in ("http", "https")
            and domain_allowed(url, self.cfg.allowed_domains)
            and any(parts.path.startswith(p) for p in self.follow_prefixes)
            and not _SKIP_EXT.search(parts.path)
        )

    def run(self, report) -> Iterator[tuple[Page, Article]]:
        """Yield (page, article) for every page fetched (articles and index pages alike).
        `report(url, reason)` is called for pages that could not be fetched."""
        seen: set[str] = set()
        articles: deque[tuple[str, int]] = deque()
        others: deque[tuple[str, int]] = deque()

        def push(url: str, depth: int) -> None:
            key = norm_url(url)
            if key in seen or depth > self.cfg.max_depth:
                return
            seen.add(key)
            (articles if ARTICLE_URL.search(urlsplit(url).path) else others).append((url, depth))

        for sm in self.cfg.sitemaps:
            for url in self._sitemap(sm, report):
                if self._follow(url):
                    push(url, 1)
        for url in self.start_urls:
            push(url, 0)
        fetched = 0
        while (articles or others) and fetched < self.cfg.max_pages:
            url, depth = (articles or others).popleft()
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
        try:
            page = self.fetcher.get(url)
        except FetchError as e:
            report(url, str(e))
            return []
        if page.status >= 400:
            report(url, f"HTTP {page.status}")
            return []
        locs = sitemap_urls(page.body)
        if "<sitemapindex" in page.body and depth < 2:
            return [u for sm in locs for u in self._sitemap(sm, report, depth + 1)]
        return locs
