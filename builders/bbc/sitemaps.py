"""Sitemaps and sitemap indexes (sitemaps.org, with Google News extensions), and the date of a BBC URL.

The BBC lists its archive in sitemaps (robots.txt names https://www.bbc.com/sitemaps/https-index-com-archive.xml
and one sitemap.xml per World Service language). An archive crawl for a date range reads them and keeps
only the entries whose date is known to be in range, or unknown (the page's own date decides later).
Parsing is by regular expressions over the bounded body: a sitemap needs no DTD or entities, so nothing
can be expanded (no billion laughs, no external entities).
"""
from __future__ import annotations

import dataclasses
import html
import re
from datetime import date

_ENTRY = re.compile(r"<(sitemap|url)\b[^>]*>(.*?)</\1\s*>", re.DOTALL | re.IGNORECASE)
_LOC = re.compile(r"<loc>\s*([^<\s]+)\s*</loc>", re.IGNORECASE)
_LASTMOD = re.compile(r"<lastmod>\s*(\d{4}-\d\d-\d\d)", re.IGNORECASE)
_PUBLISHED = re.compile(r"<news:publication_date>\s*(\d{4}-\d\d-\d\d)", re.IGNORECASE)
# /hausa/news/2012/12/121210_x.shtml (old World Service), /arabic/middleeast/2009/06/090620_x.shtml
_URL_DAY = re.compile(r"/(20\d\d|19\d\d)/(\d\d)/(\d\d)(\d\d)(\d\d)_")


@dataclasses.dataclass
class Entry:
    loc: str
    day: date | None  # publication day when the sitemap or the URL says it, else the last modification


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def url_day(url: str) -> date | None:
    """The day an old-style BBC URL carries (`/2012/12/121210_...`), else None."""
    m = _URL_DAY.search(url)
    if m and m.group(1)[2:] == m.group(3) and m.group(2) == m.group(4):
        return _day(f"{m.group(1)}-{m.group(2)}-{m.group(5)}")
    return None


def parse(text: str) -> tuple[bool, list[Entry]]:
    """(is_index, entries)."""
    is_index = bool(re.search(r"<sitemapindex\b", text[:4096], re.IGNORECASE))
    entries = []
    for _kind, inner in _ENTRY.findall(text):
        loc = _LOC.search(inner)
        if not loc:
            continue
        url = html.unescape(loc.group(1))
        published = _PUBLISHED.search(inner)
        lastmod = _LASTMOD.search(inner)
        day = _day(published.group(1)) if published else None
        day = day or url_day(url) or (_day(lastmod.group(1)) if lastmod else None)
        entries.append(Entry(url, day))
    return is_index, entries


def in_range(day: date | None, start: date | None, end: date | None) -> bool:
    """Unknown days pass: the page's own date is checked after extraction."""
    if day is None:
        return True
    return (start is None or day >= start) and (end is None or day <= end)


def child_may_hold(day: date | None, start: date | None) -> bool:
    """A child sitemap last modified before the range starts holds nothing published in it."""
    return day is None or start is None or day >= start

