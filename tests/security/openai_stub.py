"""A logging OpenAI-compatible stub on 127.0.0.1: it records every request (path, headers, body) and answers
with a fixed status, by default 401. Tests use it as the server an attacker would run, or as the LLM server
whose requests they inspect for leaked files and keys."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stub: "OpenAIStub"

    def log_message(self, *args):
        pass

    def _any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        self.stub.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                   "body": body})
        status = self.stub.status
        if status == 200 and self.path.rstrip("/").endswith("/models"):
            payload = {"object": "list", "data": [{"id": m, "object": "model"} for m in self.stub.models]}
        elif status == 200:
            payload = {"error": {"message": "this stub only lists models", "type": "invalid_request_error"}}
            status = 400
        else:
            payload = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                 "code": "invalid_api_key"}}
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _any


class OpenAIStub:
    """`with OpenAIStub() as stub: stub.base_url, stub.requests` -- serves in a daemon thread."""

    def __init__(self, status: int = 401, models=("fake-model",)):
        self.status, self.models, self.requests = status, list(models), []
        handler = type("StubHandler", (_Handler,), {"stub": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "OpenAIStub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def received(self, text: str) -> bool:
        """Whether `text` reached the stub anywhere: path, headers or body."""
        return any(text in json.dumps(r) for r in self.requests)
