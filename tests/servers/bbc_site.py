"""A tiny BBC-like site on 127.0.0.1 for crawler tests: serves the real saved pages from ../shared/data/bbc.

`BBCSite(routes, robots)` maps URL paths to (content_type, bytes); it logs every request with its
User-Agent and arrival time so tests can check politeness (robots.txt, rate limit, resume without refetch).
Used as a context manager: `with BBCSite(routes) as site: site.url("/news")`.
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BBCSite:
    def __init__(self, routes: dict[str, tuple[str, bytes]], robots: str = "User-agent: *\nAllow: /\n"):
        self.routes = dict(routes)
        self.routes["/robots.txt"] = ("text/plain", robots.encode())
        self.log: list[dict] = []  # {"path", "ua", "t"}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                site.log.append({"path": self.path, "ua": self.headers.get("User-Agent"), "t": time.monotonic()})
                route = site.routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    self.wfile.write(b"<html><body>Not found</body></html>")
                    return
                ctype, body = route
                if ctype == "redirect":
                    self.send_response(301)
                    self.send_header("Location", body.decode())
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep pytest output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def paths(self) -> list[str]:
        return [e["path"] for e in self.log]

    def __enter__(self) -> "BBCSite":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
