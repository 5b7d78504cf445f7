"""The crawler against hostile links, redirects and servers (issue 15, items 3 and 9), each one a real HTTP
server on 127.0.0.1 that misbehaves that way. docs/security.md lists these attacks and their outcome.

SSRF tests run with `allow_private_hosts` off (the default) wherever the check under test is the address
check; only the tests of the URL and domain checks need it on, to reach the local "public" site at all.
"""
from __future__ import annotations

import gzip
import pathlib
import sys
import time
import tracemalloc

import pytest

from wiki_qa.builders.bbc import fetch as fetch_module
from wiki_qa.builders.bbc import netguard, sitemaps
from wiki_qa.builders.bbc.config import BBCConfig
from wiki_qa.builders.bbc.crawl import PageCache, PoliteFetcher
from wiki_qa.builders.bbc.extract import extract
from wiki_qa.builders.bbc.fetch import Fetcher, FetchError
from wiki_qa.builders.bbc.netguard import BlockedURL, check_resolved, check_url
from wiki_qa.builders.bbc.source import BBCSource

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "servers"))
from bbc_site import BBCSite, TLSDripServer, drip, endless, gzip_bomb, gzipped

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "bbc"
MiB = 1 << 20


@pytest.fixture(scope="module")
def article() -> bytes:
    """A real BBC article page (World Service, 2012; see tests/data/bbc/README.md)."""
    return gzip.decompress((DATA / "zhongwen-2012-shtml.html.gz").read_bytes())


def _cfg(tmp_path, **kw) -> BBCConfig:
    base = {"service": None, "lang": "zh", "requests_per_second": 200, "cache_dir": str(tmp_path / "cache"),
            "user_agent": "wiki_qa-test-crawler/1.0", "max_articles": 20}
    base.update(kw)
    return BBCConfig(**base)


def _public_localhost(monkeypatch, public_port: int | None = None):
    """Simulate a public host: `localhost` resolves to a public address at check time (as a BBC host would),
    while the connection still goes to the real server on 127.0.0.1. With `public_port`, a connection to
    127.0.0.1:public_port also counts as public (the site stands in for a public server); without it, the
    connection-time check sees the real loopback peer (DNS rebinding). Every other name, address and port
    goes through the real checks."""
    real_resolved, real_peer = check_resolved, netguard.peer_forbidden

    def resolved(host, port, allow_private):
        return ["203.0.113.7"] if host == "localhost" else real_resolved(host, port, allow_private)

    def peer(address, port):
        return None if port == public_port else real_peer(address, port)

    monkeypatch.setattr(fetch_module, "check_resolved", resolved)
    monkeypatch.setattr(netguard, "peer_forbidden", peer)


# ---------------------------------------------------------------- SSRF: URLs, addresses, redirects, robots.txt


def test_backslash_userinfo_link_never_reaches_the_internal_host(article, tmp_path, read_all):
    """The reported attack: `http://127.0.0.1:P\\@localhost/news/...` is `localhost` to urlsplit (allowed)
    but 127.0.0.1:P to urllib3. The link and a redirect to the internal host are refused, and the internal
    server never sees a request; its page never becomes a row."""
    with BBCSite({"/news/secret-12345678": ("text/html", article)}) as internal:
        ip = internal.port
        front = (f'<a href="http://127.0.0.1:{ip}\\@localhost/news/secret-12345678">a</a>'
                 f'<a href="http://user:pw@localhost/news/creds-12345678">b</a>'
                 f'<a href="/news/moved-12345678">c</a>')
        with BBCSite({"/news": ("text/html", f"<html><body>{front}</body></html>".encode()),
                      "/news/moved-12345678": ("redirect",
                                               f"http://127.0.0.1:{ip}/news/secret-12345678".encode())}) as site:
            cfg = _cfg(tmp_path, start_urls=[site.url("/news", host="localhost")], allowed_domains=["localhost"],
                       follow_prefixes=["/news"], allow_private_hosts=True)
            rows, stats = read_all(BBCSource(cfg))
        assert internal.log == []
    assert rows == []
    reasons = [e["reason"] for e in stats.errors]
    assert sum("credentials (userinfo)" in r for r in reasons) == 2  # the backslash link and user:pw@
    assert "domain not allowed" in reasons  # the redirect hop to 127.0.0.1


@pytest.mark.parametrize("url,why", [
    ("http://localhost:{port}/news/x-12345678", "loopback"),
    ("http://127.0.0.1:{port}/news/x-12345678", "loopback"),
    ("http://2130706433:{port}/news/x-12345678", "loopback"),  # 127.0.0.1 as one integer
    ("http://127.1:{port}/news/x-12345678", "loopback"),  # short form
    ("http://[::1]:{port}/news/x-12345678", "loopback"),
    ("http://[::ffff:127.0.0.1]:{port}/news/x-12345678", "loopback"),  # IPv4-mapped IPv6
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://10.0.0.8/news/x-12345678", "private"),
    ("http://100.64.0.1/news/x-12345678", "non-public"),  # carrier-grade NAT
    ("file:///etc/passwd", "scheme"),
])
def test_private_and_special_addresses_are_refused_by_default(tmp_path, url, why):
    with BBCSite({}) as site:
        cfg = _cfg(tmp_path, allowed_domains=["localhost", "127.0.0.1", "2130706433", "127.1", "::1",
                                             "::ffff:127.0.0.1", "169.254.169.254", "10.0.0.8", "100.64.0.1"])
        assert cfg.allow_private_hosts is False
        with pytest.raises(FetchError, match=why):
            Fetcher(cfg).fetch(url.format(port=site.port))
        assert site.log == []  # refused before connecting: not even robots.txt was asked for


def test_allow_private_hosts_is_what_lets_tests_in(article, tmp_path):
    with BBCSite({"/news/x-12345678": ("text/html", article)}) as site:
        url = site.url("/news/x-12345678")
        with pytest.raises(FetchError, match="loopback"):
            Fetcher(_cfg(tmp_path, allowed_domains=["127.0.0.1"])).fetch(url)
        r = Fetcher(_cfg(tmp_path, allowed_domains=["127.0.0.1"], allow_private_hosts=True)).fetch(url)
    assert r.status == 200 and r.body == article


def test_redirect_hop_to_a_private_address_is_refused(article, tmp_path, monkeypatch):
    """Each redirect hop is checked like the first URL: a (simulated) public host redirecting to 127.0.0.1
    is refused with allow_private_hosts off, and the internal server sees nothing."""
    with BBCSite({"/news/secret-12345678": ("text/html", article)}) as internal:
        target = internal.url("/news/secret-12345678").encode()
        with BBCSite({"/news/go-12345678": ("redirect", target)}) as site:
            _public_localhost(monkeypatch, site.port)
            cfg = _cfg(tmp_path, allowed_domains=["localhost", "127.0.0.1"])
            with pytest.raises(FetchError, match="loopback"):
                PoliteFetcher(cfg, PageCache(str(tmp_path / "c"))).get(site.url("/news/go-12345678", host="localhost"))
            assert site.paths() == ["/robots.txt", "/news/go-12345678"]
        assert internal.log == []


def test_robots_txt_redirect_to_an_internal_host_is_not_followed(article, tmp_path, monkeypatch, read_all):
    """robots.txt goes through the same checks: its redirect to 127.0.0.1 is refused (the internal server
    sees nothing), and a site whose rules cannot be read is not crawled at all."""
    with BBCSite({"/robots.txt": ("text/plain", b"User-agent: *\nAllow: /\n")}) as internal:
        with BBCSite({"/robots.txt": ("redirect", internal.url("/robots.txt").encode()),
                      "/news": ("text/html", article)}, robots=None) as site:
            _public_localhost(monkeypatch, site.port)
            cfg = _cfg(tmp_path, start_urls=[site.url("/news", host="localhost")],
                       allowed_domains=["localhost", "127.0.0.1"], follow_prefixes=["/news"])
            rows, stats = read_all(BBCSource(cfg))
            assert site.paths() == ["/robots.txt"]
        assert internal.log == []
    assert rows == [] and [e["reason"] for e in stats.errors] == ["disallowed by robots.txt"]


def test_dns_rebinding_is_caught_at_connect_time(article, tmp_path, monkeypatch):
    """The name passes the resolver check (simulated public answer) but the socket connects to 127.0.0.1:
    the connection's own peer address is checked before a byte is sent, so the server logs no request."""
    _public_localhost(monkeypatch)
    with BBCSite({"/news/x-12345678": ("text/html", article)}) as site:
        cfg = _cfg(tmp_path, allowed_domains=["localhost"])
        with pytest.raises(FetchError, match="connected to a loopback address"):
            Fetcher(cfg).fetch(site.url("/news/x-12345678", host="localhost"))
        assert site.log == []


# ---------------------------------------------------------------- bounds: time, size, decompression


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_a_server_dripping_bytes_cannot_hold_a_fetch_past_the_deadline(tmp_path, headers_too):
    """One byte every 0.2 s never lets the 30 s per-read timeout fire; the 1.5 s deadline ends the fetch.
    The server would drip forever, so the only way this test ends is the deadline (the bound below is a
    generous ceiling, not a timing measurement)."""
    with BBCSite({"/news/slow-12345678": drip(b"", 0.2, headers_too=headers_too)}) as site:
        cfg = _cfg(tmp_path, allowed_domains=["127.0.0.1"], allow_private_hosts=True, timeout_s=30,
                   fetch_deadline_s=1.5)
        started = time.monotonic()
        with pytest.raises(FetchError, match="deadline exceeded"):
            Fetcher(cfg).fetch(site.url("/news/slow-12345678"))
        assert time.monotonic() - started < 25  # far below the 30 s read timeout, let alone "forever"
        assert 0 < site.sent["/news/slow-12345678"] < 100


def test_a_server_dripping_the_tls_handshake_is_cut_off(tmp_path):
    """The deadline also covers the TLS handshake (before any HTTP request is written)."""
    with TLSDripServer(0.2) as server:
        cfg = _cfg(tmp_path, allowed_domains=["127.0.0.1"], allow_private_hosts=True, timeout_s=30,
                   fetch_deadline_s=1.5)
        started = time.monotonic()
        with pytest.raises(FetchError, match="deadline exceeded"):
            Fetcher(cfg).fetch(f"https://127.0.0.1:{server.port}/news/x-12345678")
        assert time.monotonic() - started < 25
        assert server.sent > 0


def test_timeout_s_alone_bounds_the_whole_fetch(tmp_path):
    """The reported case: only `timeout_s` set (3 there, 1 here), and a drip held a fetch for 120 s. The
    deadline defaults to twice timeout_s."""
    with BBCSite({"/news/slow-12345678": drip(b"", 0.2)}) as site:
        cfg = _cfg(tmp_path, allowed_domains=["127.0.0.1"], allow_private_hosts=True, timeout_s=1)
        assert cfg.deadline_s == 2
        started = time.monotonic()
        with pytest.raises(FetchError, match="deadline exceeded"):
            Fetcher(cfg).fetch(site.url("/news/slow-12345678"))
        assert time.monotonic() - started < 20


def test_deadline_covers_every_redirect_hop(tmp_path):
    routes = {f"/news/r{i}": ("redirect", f"/news/r{i + 1}".encode()) for i in range(3)}
    routes["/news/r3"] = drip(b"", 0.2)
    with BBCSite(routes) as site:
        cfg = _cfg(tmp_path, allowed_domains=["127.0.0.1"], allow_private_hosts=True, fetch_deadline_s=1.0)
        with pytest.raises(FetchError, match="deadline exceeded"):
            Fetcher(cfg).fetch(site.url("/news/r0"))


def _peak_memory_of_refused_fetch(cfg, url: str, reason: str) -> int:
    """Peak bytes allocated by Python while the fetch runs and is refused for `reason`."""
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match=reason):
            Fetcher(cfg).fetch(url)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_huge_declared_body_is_refused_before_reading(tmp_path):
    with BBCSite({"/news/big-12345678": endless(declare_length=True)}) as site:
        cfg = _cfg(tmp_path, allowed_domains=["127.0.0.1"], allow_private_hosts=True)
        with pytest.raises(FetchError, match="max_body_bytes .*Content-Length"):
            Fetcher(cfg).fetch(site.url("/news/big-12345678"))


def test_endless_body_stops_at_max_body_bytes_with_bounded_memory(tmp_path):
    """A chunked body that never ends (the reported case was 1 GB, 10.5 GB of memory): reading stops once
    the default 10 MiB is passed, and the fetch's peak memory stays near that."""
    with BBCSite({"/news/endless-12345678": endless()}) as site:
        cfg = _cfg(tmp_path, allowed_domains=["127.0.0.1"], allow_private_hosts=True)
        assert cfg.max_body_bytes == 10 * MiB
        peak = _peak_memory_of_refused_fetch(cfg, site.url("/news/endless-12345678"), "larger than max_body_bytes")
    assert peak < 40 * MiB, peak


def test_gzip_bomb_stops_at_max_decompressed_bytes_with_bounded_memory(tmp_path):
    """The reported case: a 2 MB gzip that unpacks to 2 GB (it used 8.6 GB). With the default limits the
    fetch stops after 50 MiB unpacked, and peak memory stays near that."""
    bomb = gzip_bomb(2 << 30)
    assert bomb.compressed_size < 3 * MiB
    with BBCSite({"/news/bomb-12345678": bomb}) as site:
        cfg = _cfg(tmp_path, allowed_domains=["127.0.0.1"], allow_private_hosts=True)
        assert cfg.max_decompressed_bytes == 50 * MiB
        peak = _peak_memory_of_refused_fetch(cfg, site.url("/news/bomb-12345678"), "larger than max_decompressed_bytes")
    assert peak < 160 * MiB, peak


def test_an_ordinary_gzip_page_still_arrives_whole(article, tmp_path):
    with BBCSite({"/zhongwen/simp/a.shtml": gzipped(gzip.compress(article))}) as site:
        cfg = _cfg(tmp_path, allowed_domains=["127.0.0.1"], allow_private_hosts=True)
        assert Fetcher(cfg).fetch(site.url("/zhongwen/simp/a.shtml")).body == article


def test_internationalized_hosts_are_not_mistaken_for_ambiguous_ones():
    assert check_url("https://bücher.example/news/x") == ("xn--bcher-kva.example", 443)
    assert check_url("http://www.BBC.co.uk./news/x") == ("www.bbc.co.uk", 80)


def test_blocked_url_messages_never_carry_the_credentials():
    with pytest.raises(BlockedURL) as e:
        check_url("http://admin:s3cret@bbc.com/news")
    assert "s3cret" not in str(e.value)


# ---------------------------------------------------------------- hostile content


def test_deeply_nested_json_is_skipped_not_fatal(article, tmp_path, read_all):
    nested = "[" * 100_000 + "]" * 100_000
    script = f'<script id="__NEXT_DATA__" type="application/json">{nested}</script>'
    page = article.decode("utf-8").replace("</body>", f"{script}</body>")
    art = extract(page, "https://www.bbc.co.uk/zhongwen/simp/x.shtml")
    assert art.layout == "ws_shtml" and len(art.paragraphs) == 15  # read from the HTML instead
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "deep.json").write_text('{"props": ' + nested + "}")
    rows, stats = read_all(BBCSource(BBCConfig(html_dir=str(tmp_path / "pages"))))
    assert rows == [] and stats.skipped["unparseable"] == 1


def test_sitemap_entities_are_never_expanded():
    lol = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10)
    ) + '<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    doc = lol + "<urlset><url><loc>https://www.bbc.com/a&lol9;&xxe;&amp;b</loc></url></urlset>"
    _, entries = sitemaps.parse(doc)
    assert [e.loc for e in entries] == ["https://www.bbc.com/a&lol9;&xxe;&b"]  # left as text, never expanded
