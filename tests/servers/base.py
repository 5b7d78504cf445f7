"""What every test server here shares: a quiet handler with one way to send a whole reply, and a threaded
server on 127.0.0.1 that a test runs as a context manager (`with Site(...) as site:`)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from typing_extensions import Self


class QuietHandler(BaseHTTPRequestHandler):
    def reply(self, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep pytest output clean
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a dripping or stalled handler must not hold up the test's teardown


class LocalServer:
    """Subclasses build their handler class, then call `self.serve(Handler, host)` in __init__; the server
    starts on entering the `with` block and stops on leaving it (or on `close()`)."""

    def serve(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1") -> None:
        self.server = _Server((host, 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
