"""Where the crawler may connect: URL, host and IP checks against server-side request forgery (SSRF).

Three layers, because each one alone has a known bypass:
1. `check_url`: the URL is read the way the HTTP client will read it (requests prepares it, urllib3 parses
   it) and must agree with how `urlsplit` reads it. Userinfo (`user@`) and backslashes in the authority are
   refused outright: `http://127.0.0.1:80\\@bbc.com/` is `bbc.com` to urlsplit but 127.0.0.1 to urllib3.
2. `check_resolved`: every address the host resolves to must be public (not private, loopback, link-local,
   multicast, reserved, shared/CGNAT or a cloud metadata address), unless `allow_private_hosts` is set.
3. `GuardedAdapter`: the address the socket actually connected to is checked again before a byte is sent,
   which closes the gap between the check and the connection (DNS rebinding: a name that answers with a
   public address first and 127.0.0.1 a second later). The adapter also lets a `Deadline` cut a fetch off.
"""
from __future__ import annotations

import ipaddress
import socket
import threading
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import parse_url

# Cloud metadata endpoints that are not covered by "not global" on every Python version.
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
}


class BlockedURL(Exception):
    """The URL or the host it leads to is not one the crawler may fetch. The message says why."""


def forbidden_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why this address must not be reached, or None when it is an ordinary public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for name in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(ip, f"is_{name}"):
            return f"a {name.replace('_', '-')} address"
    if not ip.is_global:  # 100.64.0.0/10 (CGNAT), 192.0.0.0/24, ...
        return "a non-public address"
    return None


def peer_forbidden(address: str, port: int) -> str | None:
    """Why the address a socket is connected to must not be used (the port is there for tests that stand
    a local server in for a public one)."""
    return forbidden_address(ipaddress.ip_address(address.split("%", 1)[0]))


def _authority(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    for sep in "/?#":
        rest = rest.split(sep, 1)[0]
    return rest


def _ascii_host(host: str) -> str:
    """The host as requests sends it: internationalized names in IDNA (punycode) form."""
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return requests.models.PreparedRequest._get_idna_encoded_host(host)
    except (requests.RequestException, UnicodeError, ValueError):
        return host


def check_url(url: str) -> tuple[str, int]:
    """(host, port) as the HTTP client will connect to them; raises BlockedURL for URLs that are not plain
    http(s) URLs or that two parsers would read differently."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedURL(f"scheme {parts.scheme or '(none)'!r} is not http(s)")
    authority = _authority(url)
    if "@" in authority or "\\" in authority:
        raise BlockedURL("credentials (userinfo) or a backslash in the URL's host part")
    try:
        prepared = requests.Request("GET", url).prepare().url
        target = parse_url(prepared)
        split_host = parts.hostname
    except (requests.RequestException, ValueError) as e:  # bad port, bad IDNA, ...
        raise BlockedURL(f"malformed URL: {type(e).__name__}") from None
    host = (target.host or "").strip("[]").lower().rstrip(".")
    if not host or host != _ascii_host(split_host or ""):
        raise BlockedURL("the URL's host is ambiguous (parsers disagree)")
    return host, target.port or (443 if target.scheme == "https" else 80)


def check_resolved(host: str, port: int, allow_private: bool) -> list[str]:
    """Resolve like the client (getaddrinfo) and refuse if any address is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise BlockedURL(f"cannot resolve host: {e}") from None
    addresses = sorted({info[4][0] for info in infos})
    if not allow_private:
        for addr in addresses:
            why = forbidden_address(ipaddress.ip_address(addr.split("%", 1)[0]))
            if why:
                raise BlockedURL(f"host resolves to {why} ({addr}); set allow_private_hosts: true to allow it")
    return addresses


class Deadline:
    """A wall-clock budget for one fetch. While armed, a timer shuts down the sockets the fetch uses when
    the budget runs out, which wakes a blocked read (a server dripping one byte a second never lets a
    per-read timeout fire)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conns: list[HTTPConnection] = []
        self._timer: threading.Timer | None = None
        self.expired = False

    def arm(self, seconds: float) -> None:
        self.disarm()
        self.expired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._conns.clear()

    def watch(self, conn: HTTPConnection) -> None:
        with self._lock:
            if self.expired:
                _shutdown(conn)
            elif self._timer is not None:
                self._conns.append(conn)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for conn in self._conns:
                _shutdown(conn)


def _shutdown(conn: HTTPConnection) -> None:
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _GuardedMixin:
    allow_private: bool = False
    deadline: Deadline | None = None

    def _new_conn(self):  # called for every new TCP connection, before TLS and before any byte is sent
        sock = super()._new_conn()
        if not self.allow_private:
            peer, port = sock.getpeername()[:2]
            why = peer_forbidden(peer, port)
            if why:
                sock.close()
                raise BlockedURL(f"connected to {why} ({peer}); set allow_private_hosts: true to allow it")
        return sock

    def connect(self):  # TCP (bounded by the connect timeout) and then TLS, which a server could drip too
        if self.deadline is not None:
            self.deadline.watch(self)
        return super().connect()

    def request(self, *args, **kwargs):  # every request, also on a kept-alive connection
        if self.deadline is not None:
            self.deadline.watch(self)
        return super().request(*args, **kwargs)


class GuardedAdapter(HTTPAdapter):
    """requests adapter whose connections check the peer address and obey a Deadline."""

    def __init__(self, allow_private: bool, deadline: Deadline):
        attrs = {"allow_private": allow_private, "deadline": deadline}
        http_conn = type("GuardedHTTPConnection", (_GuardedMixin, HTTPConnection), attrs)
        https_conn = type("GuardedHTTPSConnection", (_GuardedMixin, HTTPSConnection), attrs)
        self._pools = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pools
