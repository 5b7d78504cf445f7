"""A tiny BBC-like site on 127.0.0.1 for crawler tests: serves real saved pages, and misbehaves on request.

`BBCSite(routes, robots)` maps URL paths to (content_type, bytes), to ("redirect", b"url"), or to a
callable `behaviour(handler)` that writes the whole response itself (see the factories below: a server
that drips one byte at a time, an endless body, a gzip bomb). It logs every request with its User-Agent
and arrival time so tests can check politeness (robots.txt, rate limit, resume without refetch), and
counts the body bytes each behaviour managed to send, so a test can prove the client stopped early.
Used as a context manager: `with BBCSite(routes) as site: site.url("/news")`.
"""
from __future__ import annotations

import gzip
import threading
import time

from typing_extensions import Self

from tests.servers.base import LocalServer, QuietHandler


class BBCSite(LocalServer):
    def __init__(self, routes: dict, robots: str | None = "User-agent: *\nAllow: /\n", host: str = "127.0.0.1"):
        self.routes = dict(routes)
        if robots is not None and "/robots.txt" not in self.routes:
            self.routes["/robots.txt"] = ("text/plain", robots.encode())
        self.log: list[dict] = []  # {"path", "ua", "t", "host"}
        self.sent: dict[str, int] = {}  # path -> body bytes a behaviour wrote before the client went away
        site = self

        class Handler(QuietHandler):

            def do_GET(self):  # http.server API
                site.log.append({"path": self.path, "ua": self.headers.get("User-Agent"), "t": time.monotonic(),
                                 "host": self.headers.get("Host")})
                route = site.routes.get(self.path)
                if route is None:
                    self.reply(404, b"<html><body>Not found</body></html>", "text/html")
                    return
                if callable(route):
                    try:
                        route(self, site)
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the client gave up: that is what the misbehaving routes test
                    self.close_connection = True
                    return
                ctype, body = route
                if ctype == "redirect":
                    self.send_response(301)
                    self.send_header("Location", body.decode())
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.reply(200, body, ctype)

        self.serve(Handler, host)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [e["path"] for e in self.log]


# ---------------------------------------------------------------- misbehaving responses


def drip(body: bytes, interval: float = 0.2, headers_too: bool = False):
    """Send `body` one byte per `interval` seconds, forever if the body is empty (then it repeats b" ").
    With `headers_too`, the status line and headers drip as well."""

    def behaviour(h, site):
        head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(body) or 100_000}\r\n\r\n".encode()
        if not headers_too:
            h.wfile.write(head)
            h.wfile.flush()
        stream = head + body if headers_too else body
        for i in range(10**9):
            byte = stream[i:i + 1] or (b"" if body else b" ")
            if not byte:
                return
            h.wfile.write(byte)
            h.wfile.flush()
            site.sent[h.path] = i + 1
            time.sleep(interval)

    return behaviour


def endless(chunk: bytes = b"<p>" + b"x" * 65_533, declare_length: bool = False):
    """A body that never ends (chunked), or that declares a huge Content-Length."""

    def behaviour(h, site):
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        if declare_length:
            h.send_header("Content-Length", str(10**12))
        else:
            h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        sent = 0
        while sent < 10**11:
            h.wfile.write(chunk if declare_length else b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            site.sent[h.path] = sent

    return behaviour


def gzipped(payload: bytes):
    """`payload`, already gzip-compressed, sent with Content-Encoding: gzip."""

    def behaviour(h, site):
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)
        site.sent[h.path] = len(payload)

    behaviour.compressed_size = len(payload)
    return behaviour


def gzip_bomb(unpacked_bytes: int):
    """A small gzip body (Content-Encoding: gzip) that unpacks to `unpacked_bytes` zeros: one gzip member
    of 1 MiB of zeros (about 1 KB), repeated, which RFC 1952 allows and every gzip reader unpacks."""
    member = gzip.compress(b"\0" * (1 << 20), compresslevel=9)
    return gzipped(member * max(1, unpacked_bytes >> 20))


class TLSDripServer:
    """A TCP server that answers a TLS ClientHello with the start of a well-formed ServerHello (a 16 KB
    handshake record announcing a 4 KB message) and then one byte per `interval` seconds: the client keeps
    waiting for the rest of the message."""

    def __init__(self, interval: float = 0.2):
        import socket

        self.interval = interval
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sent = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _serve(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn) -> None:
        try:
            conn.recv(4096)  # the ClientHello
            conn.sendall(b"\x16\x03\x03\x40\x00" + b"\x02\x00\x10\x00")  # record header, ServerHello header
            while not self._stop.is_set():
                conn.sendall(b"\x00")
                self.sent += 1
                time.sleep(self.interval)
        except OSError:
            pass
        finally:
            conn.close()

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.sock.close()
