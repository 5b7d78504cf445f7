"""One bounded, checked HTTP fetch: the crawler's only way to the network.

Every hop (robots.txt, pages, sitemaps, each redirect) goes through `Fetcher.fetch`, which
- checks the URL, the allowed domains and every resolved address (netguard.py) before connecting,
- follows redirects itself (at most `MAX_REDIRECTS`), checking each hop the same way,
- reads the body as a stream and stops at `max_body_bytes` on the wire and `max_decompressed_bytes` after
  gzip/deflate decoding (a 2 MB gzip that unpacks to 2 GB is refused after `max_decompressed_bytes`),
- keeps the whole fetch, redirects included, under `fetch_deadline_s` of network time (default 2 x timeout_s).
"""
from __future__ import annotations

import dataclasses
import time
import zlib
from urllib.parse import urljoin

import requests

from .netguard import BlockedURL, Deadline, GuardedAdapter, check_resolved, check_url

MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


class FetchError(Exception):
    """A per-URL problem (refused by a check or robots, network error, too large, too slow): reported, not fatal."""


@dataclasses.dataclass
class Response:
    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    content_type: str
    body: bytes  # decoded from gzip/deflate


def domain_allowed(host: str, allowed: list[str]) -> bool:
    host = host.lower()
    return any(host == d or host.endswith("." + d) for d in allowed)


class _Decoder:
    """Content-Encoding decoding with a hard cap on the output, fed chunk by chunk."""

    def __init__(self, encoding: str, limit: int):
        self.encoding = encoding
        self.limit = limit
        self.out = bytearray()
        self._d = self._new() if encoding else None

    def _new(self):
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS)  # deflate = zlib stream (RFC 9110); raw deflate retried below

    def feed(self, data: bytes) -> None:
        if self._d is None:
            self._append(data)
            return
        while data:
            try:
                piece = self._d.decompress(data, self.limit - len(self.out) + 1)
            except zlib.error:
                if self.encoding == "deflate" and not self.out:  # some servers send raw deflate
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    piece = self._d.decompress(data, self.limit - len(self.out) + 1)
                else:
                    raise FetchError(f"corrupt {self.encoding} body") from None
            self._append(piece)
            data = self._d.unconsumed_tail
            if self._d.eof:  # gzip allows several members one after another
                data = self._d.unused_data
                self._d = self._new() if data else self._d
            elif not piece and not data:
                break

    def _append(self, data: bytes) -> None:
        self.out += data
        if len(self.out) > self.limit:
            raise FetchError(f"body larger than max_decompressed_bytes ({self.limit}) after decoding")


class Fetcher:
    """Checked, bounded GETs for one crawl. Holds the session (connection reuse) and the politeness clock."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.deadline = Deadline()
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or .netrc from the environment: they would bypass the checks
        self.session.headers["User-Agent"] = cfg.user_agent
        self.session.headers["Accept-Encoding"] = "gzip, deflate"  # only what _Decoder can bound
        adapter = GuardedAdapter(cfg.allow_private_hosts, self.deadline)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.requests = 0  # network requests made (robots.txt and redirects included)

    def check(self, url: str) -> None:
        """The checks that need no network: scheme, userinfo, parser agreement, allowed domains."""
        try:
            host, _ = check_url(url)
        except BlockedURL as e:
            raise FetchError(str(e)) from None
        if not domain_allowed(host, self.cfg.allowed_domains):
            raise FetchError("domain not allowed")

    def _check_address(self, url: str) -> None:
        try:
            host, port = check_url(url)
            check_resolved(host, port, self.cfg.allow_private_hosts)
        except BlockedURL as e:
            raise FetchError(str(e)) from None

    def fetch(self, url: str, before_hop=None) -> Response:
        """GET with redirects followed by hand. `before_hop(url)` runs before each network request (robots.txt
        and the rate limit); it may raise FetchError to refuse a hop."""
        budget = self.cfg.deadline_s
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            self.check(current)
            self._check_address(current)  # before robots.txt: a private host gets no request at all
            if before_hop is not None:
                before_hop(current)
            started = time.monotonic()
            try:
                resp = self._get_once(current, budget)
            finally:
                budget -= time.monotonic() - started
            if isinstance(resp, str):  # a redirect: the next hop is checked like the first
                current = resp
                continue
            return Response(url, current, *resp)
        raise FetchError("too many redirects")

    def _get_once(self, url: str, budget: float) -> str | tuple[int, str, bytes]:
        """One request: the redirect target, or (status, content type, body)."""
        if budget <= 0:
            raise self._deadline_error()
        timeout = min(self.cfg.timeout_s, budget)
        self.requests += 1
        self.deadline.arm(budget)
        try:
            r = self.session.get(url, timeout=(timeout, timeout), allow_redirects=False, stream=True)
            try:
                if r.is_redirect and "location" in r.headers:
                    return urljoin(url, r.headers["location"])
                body = self._read_body(r)
                return r.status_code, r.headers.get("content-type", ""), body
            finally:
                r.close()
        except BlockedURL as e:
            raise FetchError(str(e)) from None
        except (requests.RequestException, OSError) as e:
            if self.deadline.expired:
                raise self._deadline_error() from None
            raise FetchError(f"network: {type(e).__name__}") from None
        finally:
            expired = self.deadline.expired
            self.deadline.disarm()
            if expired:  # a cut-off read may look like a short but complete body
                raise self._deadline_error()

    def _deadline_error(self) -> FetchError:
        return FetchError(f"deadline exceeded ({self.cfg.deadline_s:g} s for the whole fetch)")

    def _read_body(self, r: requests.Response) -> bytes:
        limit = self.cfg.max_body_bytes
        declared = r.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"body larger than max_body_bytes ({limit}): Content-Length {declared}")
        encoding = r.headers.get("content-encoding", "").strip().lower()
        if encoding == "identity":
            encoding = ""
        if encoding not in ("", "gzip", "x-gzip", "deflate"):
            raise FetchError(f"unsupported Content-Encoding {encoding!r}")
        decoder = _Decoder(encoding, self.cfg.max_decompressed_bytes)
        received = 0
        while True:
            chunk = r.raw.read(_CHUNK, decode_content=False)  # raw wire bytes: counted before decoding
            if not chunk:
                break
            received += len(chunk)
            if received > limit:
                raise FetchError(f"body larger than max_body_bytes ({limit})")
            decoder.feed(chunk)
        return bytes(decoder.out)
