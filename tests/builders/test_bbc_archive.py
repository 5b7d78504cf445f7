"""Archive crawl: World Service sitemaps for one language and a date range, served from 127.0.0.1.

The article pages are real (tests/data/bbc); the sitemaps are BUILT HERE in the sitemaps.org format the
BBC's archive index uses (`<sitemapindex>` of `<sitemap><loc><lastmod>`, `<urlset>` of `<url><loc><lastmod>`,
Google News `<news:publication_date>`), with the URL shapes of the BBC's real archive entries.
"""
from __future__ import annotations

import gzip
import pathlib
import sys
from datetime import date

from wiki_qa.builders.bbc import sitemaps
from wiki_qa.builders.bbc.config import ARCHIVE_INDEX, BBCConfig
from wiki_qa.builders.bbc.source import BBCSource

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "servers"))
from bbc_site import BBCSite

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "bbc"
ZH_2012 = "/zhongwen/simp/chinese_news/2012/12/121210_hongkong_politics.shtml"


def _index(site, children: list[tuple[str, str]]) -> bytes:
    items = "".join(f"<sitemap><loc>{site.url(p)}</loc><lastmod>{d}T10:00:00Z</lastmod></sitemap>" for p, d in children)
    return (f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{items}</sitemapindex>").encode()


def _urlset(site, urls: list[tuple[str, str | None, str | None]]) -> bytes:
    """(path, lastmod, news publication date) per entry."""
    items = ""
    for path, lastmod, published in urls:
        items += f"<url><loc>{site.url(path).replace('&', '&amp;')}</loc>"
        items += f"<lastmod>{lastmod}T08:00:00Z</lastmod>" if lastmod else ""
        items += (f"<news:news><news:publication_date>{published}T08:00:00Z</news:publication_date></news:news>"
                  if published else "")
        items += "</url>"
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{items}</urlset>').encode()


def test_archive_crawl_for_one_language_and_date_range(tmp_path, read_all):
    zh = gzip.decompress((DATA / "zhongwen-2012-shtml.html.gz").read_bytes())
    my = gzip.decompress((DATA / "burmese-2018-story-body.html.gz").read_bytes())
    with BBCSite({}) as site:
        site.routes.update({
            "/sitemaps/https-index-com-archive.xml": ("application/xml", _index(site, [
                ("/sitemaps/https-sitemap-com-archive-1.xml", "2010-06-20"),  # ends before the range: not fetched
                ("/sitemaps/https-sitemap-com-archive-2.xml", "2013-01-05"),
                ("/sitemaps/https-sitemap-com-archive-3.xml.gz", "2013-02-01"),
            ])),
            "/sitemaps/https-sitemap-com-archive-2.xml": ("application/xml", _urlset(site, [
                (ZH_2012, "2012-12-10", None),  # in range: read
                ("/zhongwen/simp/chinese_news/2011/03/110301_old.shtml", None, None),  # date in the URL: out of range
                ("/burmese/burma-45989453", "2012-10-26", None),  # another language: not followed
                ("/zhongwen/simp/world-45989453", None, None),  # undated: fetched, its own date (2018) decides
            ])),
            "/sitemaps/https-sitemap-com-archive-3.xml.gz": ("application/gzip", gzip.compress(_urlset(site, [
                ("/zhongwen/simp/chinese_news/2012/05/120501_gz.shtml", "2012-05-01", None),  # in range, 404
            ]))),
            "/zhongwen/simp/sitemap.xml": ("application/xml", _urlset(site, [
                (ZH_2012, None, "2012-12-10"),  # listed twice: fetched once
                ("/zhongwen/simp/chinese-news-49450859", "2012-12-01", "2019-08-23"),  # published out of range
            ])),
            ZH_2012: ("text/html", zh),
            "/zhongwen/simp/world-45989453": ("text/html", my),
        })
        cfg = BBCConfig(service="zhongwen", archive_from=date(2012, 1, 1), archive_to=date(2012, 12, 31),
                        archive_sitemaps=[site.url("/sitemaps/https-index-com-archive.xml"),
                                          site.url("/zhongwen/simp/sitemap.xml")],
                        allowed_domains=["127.0.0.1"], allow_private_hosts=True, requests_per_second=200,
                        max_depth=1, cache_dir=str(tmp_path / "cache"), user_agent="wiki_qa-test-crawler/1.0")
        rows, stats = read_all(BBCSource(cfg))
        fetched = site.paths()
    assert [r["doc_id"] for r in rows] == [f"bbc:{ZH_2012}"]
    assert rows[0]["lang"] == "zh" and rows[0]["meta"]["published"].startswith("2012-12-10")
    assert "/sitemaps/https-sitemap-com-archive-1.xml" not in fetched
    assert not any(p.startswith("/burmese/") or "110301_old" in p or "49450859" in p for p in fetched)
    assert fetched.count(ZH_2012) == 1
    assert stats.skipped["out_of_date_range"] == 1  # the undated entry turned out to be from 2018
    assert stats.tallies["bbc_layout_skipped"] == {"cps_html": 1}
    assert stats.tallies["bbc_layout_read"] == {"ws_shtml": 1}
    assert [e["reason"] for e in stats.errors] == ["HTTP 404"]  # the gz sitemap's entry was read and asked for


def test_default_archive_sitemaps_are_the_bbc_archive_index_and_the_language_sitemap():
    src = BBCSource(BBCConfig(service="hausa", archive_from=date(2010, 1, 1), archive_to=date(2018, 12, 31)))
    assert src._seed_sitemaps() == [ARCHIVE_INDEX, "https://www.bbc.com/hausa/sitemap.xml"]
    assert src.shards() == ["crawl:hausa"]
    assert BBCSource(BBCConfig(service="hausa"))._seed_sitemaps() == []  # no dates: no archive crawl


def test_dates_from_sitemaps_and_urls():
    assert sitemaps.url_day("https://www.bbc.co.uk/hausa/news/2012/12/121210_x.shtml") == date(2012, 12, 10)
    assert sitemaps.url_day("https://www.bbc.com/hausa/news/2012/12/130110_x.shtml") is None  # disagreeing parts
    assert sitemaps.url_day("https://www.bbc.com/hausa/labarai-49513456") is None
    is_index, entries = sitemaps.parse(
        "<urlset><url><loc>https://www.bbc.com/a?x=1&amp;y=2</loc><lastmod>2019-01-02T00:00:00Z</lastmod></url>"
        "<url><loc>https://www.bbc.com/b</loc></url></urlset>")
    assert not is_index and [(e.loc, e.day) for e in entries] == [
        ("https://www.bbc.com/a?x=1&y=2", date(2019, 1, 2)), ("https://www.bbc.com/b", None)]
    assert sitemaps.in_range(None, date(2012, 1, 1), None)
    assert not sitemaps.in_range(date(2011, 1, 1), date(2012, 1, 1), None)
