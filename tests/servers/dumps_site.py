"""A Wikimedia dumps mirror on 127.0.0.1: the real layout, serving real dumps, misbehaving on request.

Layout (what dumps.wikimedia.org and its mirrors serve; `lay_out` writes it into a folder):

    backup-index.html                         one line per wiki: <a href="yowiki/20261101">yowiki</a>: Dump complete
    yowiki/                                   a folder listing (nginx autoindex, as dumps.wikimedia.org sends)
    yowiki/20261101/dumpstatus.json           per job: status, updated, files {size, url, md5, sha1}
    yowiki/20261101/yowiki-20261101-pages-articles-multistream.xml.bz2
    yowiki/20261101/yowiki-20261101-pages-articles-multistream-index.txt.bz2
    yowiki/latest/yowiki-latest-pages-articles-multistream.xml.bz2     (no checksums here, as on the real site)

The dump's pages are a real dump's XML from ../shared/data, recompressed the way Wikimedia writes
multistream files (a stream for the header, one per 100 pages; an index of "offset:page_id:title"), so
sizes and checksums in dumpstatus.json are those of the files served. The shape of dumpstatus.json
follows a real one (enwiki 20240801: {"jobs": {job: {"status", "updated", "files": {name: {"size", "url",
"md5", "sha1"}}}}, "version": "0.8"}, as saved in taterowney/TateGPT@93be084, dumpstatus.json, which states
no licence, so only its shape is used here, none of its content).

Misbehaviour (`DumpsSite.faults`): `drop[path] = fraction` sends that share of the next body and cuts the
connection; `statuses[path] = [(503, "2"), ...]` answers the next requests with those statuses and
Retry-After values; a run whose job is still in progress, or whose file has a flipped byte, is laid out by
`lay_out(..., state="in-progress" | flip=True)`; a mirror that is down is `down_url()` (a port nobody
listens on). The server logs every request (path, Range, User-Agent) and counts the body bytes it sent.
"""
from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

from tests.builders.mediawiki.test_shards import write_multistream
from tests.servers.base import LocalServer, QuietHandler


@dataclasses.dataclass
class Faults:
    drop: dict[str, float] = dataclasses.field(default_factory=dict)
    statuses: dict[str, list[tuple[int, str | None]]] = dataclasses.field(default_factory=dict)


def lay_out(root: Path, db: str, xml: bytes, date: str, *, state: str = "done", flip: bool = False,
            per: int = 100, latest: bool = True, repeat: int = 1) -> dict:
    """Write one run of `db` under `root` from a dump's XML; returns its dumpstatus.json. `repeat` > 1 makes
    the dump file that many copies of itself back to back (for download benchmarks: bytes, not pages)."""
    run = root / db / date
    run.mkdir(parents=True, exist_ok=True)
    main = run / f"{db}-{date}-pages-articles-multistream.xml.bz2"
    index = run / f"{db}-{date}-pages-articles-multistream-index.txt.bz2"
    write_multistream(xml, main, per=per)
    if repeat > 1:
        main.write_bytes(main.read_bytes() * repeat)
    files = {}
    for f in (main, index):
        data = f.read_bytes()
        meta = {"size": len(data), "url": f"/{db}/{date}/{f.name}"}
        if state == "done":  # checksums are written when a job finishes
            meta.update(md5=hashlib.md5(data).hexdigest(), sha1=hashlib.sha1(data).hexdigest())
        files[f.name] = meta
    if state != "done":  # a job still writing: half a file
        main.write_bytes(main.read_bytes()[: files[main.name]["size"] // 2])
        files[main.name]["size"] = main.stat().st_size
    if flip:
        data = bytearray(main.read_bytes())
        data[len(data) * 3 // 5] ^= 0x01
        main.write_bytes(bytes(data))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    status = {"jobs": {
        "articlesmultistreamdump": {"status": state, "updated": stamp, "files": files},
        "sitestatstable": {"status": "done", "updated": stamp, "files": {}},
    }, "version": "0.8"}
    (run / "dumpstatus.json").write_text(json.dumps(status))
    if latest and state == "done" and not flip:
        folder = root / db / "latest"
        folder.mkdir(exist_ok=True)
        for f in (main, index):
            shutil.copyfile(f, folder / f.name.replace(date, "latest"))
    dbs = sorted(p.name for p in root.iterdir() if p.is_dir())
    (root / "backup-index.html").write_text(
        "<html><body><ul>\n" + "".join(f'<li>{stamp} <a href="{d}/{_newest(root / d)}">{d}</a>: '
                                       "<span class='done'>Dump complete</span></li>\n" for d in dbs)
        + "</ul></body></html>\n")
    return status


def _newest(folder: Path) -> str:
    dates = sorted(p.name for p in folder.iterdir() if p.name.isdigit())
    return dates[-1] if dates else ""


class DumpsSite(LocalServer):
    """Serve `root` (laid out by `lay_out`) as a dumps mirror. `with DumpsSite(root) as site: site.url`."""

    def __init__(self, root: Path, host: str = "127.0.0.1", rate_bps: float | None = None):
        self.root = Path(root)
        self.rate_bps = rate_bps  # a link of this speed (bench/fetch.py); None: as fast as loopback goes
        self.faults = Faults()
        self.log: list[dict] = []
        self.sent: dict[str, int] = {}
        self._lock = threading.Lock()
        site = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # http.server API
                path = self.path.split("?", 1)[0]
                entry = {"path": path, "range": self.headers.get("Range"), "ua": self.headers.get("User-Agent"),
                         "status": None}
                with site._lock:
                    site.log.append(entry)
                    queued = site.faults.statuses.get(path)
                    fault = queued.pop(0) if queued else None
                if fault is not None:
                    status, retry = fault
                    entry["status"] = status
                    self.reply(status, b"busy, come back later\n", "text/plain",
                               {"Retry-After": retry} if retry is not None else None)
                    return
                target = (site.root / path.lstrip("/")).resolve()
                if not str(target).startswith(str(site.root.resolve())) or not target.exists():
                    entry["status"] = 404
                    self.reply(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
                    return
                if target.is_dir():
                    entry["status"] = 200
                    self.reply(200, _autoindex(path, target), "text/html")
                    return
                self._file(path, target, entry)

            def _file(self, path: str, target: Path, entry: dict):
                size = target.stat().st_size
                start, end = 0, size - 1
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    a, _, b = rng[6:].partition("-")
                    start = int(a)
                    end = int(b) if b else size - 1
                    if start >= size:
                        entry["status"] = 416
                        self.reply(416, b"", "text/plain", {"Content-Range": f"bytes */{size}"})
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                else:
                    self.send_response(200)
                entry["status"] = 206 if rng else 200
                count = end - start + 1
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(count))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                self.wfile.flush()
                with site._lock:
                    cut = site.faults.drop.pop(path, None)
                todo = count if cut is None else int(size * cut) - start
                sent, began = 0, time.monotonic()
                step = todo if site.rate_bps is None else 1 << 20
                with open(target, "rb") as f:
                    try:
                        while sent < todo:
                            n = os.sendfile(self.connection.fileno(), f.fileno(), start + sent,
                                            min(step, todo - sent))
                            if n == 0:
                                break
                            sent += n
                            if site.rate_bps is not None:  # hold the average at the link's speed
                                time.sleep(max(0.0, began + sent / site.rate_bps - time.monotonic()))
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                with site._lock:
                    site.sent[path] = site.sent.get(path, 0) + sent
                    entry["sent"] = sent
                if cut is not None:  # the connection drops mid-body
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        self.serve(Handler, host)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self, prefix: str = "") -> list[dict]:
        return [e for e in self.log if e["path"].startswith(prefix)]



_HELD: list[socket.socket] = []


def down_url() -> str:
    """A mirror that is down: a local port that is bound but not listening (connection refused). The socket
    is kept, so no other test's server can be given the port while this one counts on it being dead."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    _HELD.append(s)
    return f"http://127.0.0.1:{s.getsockname()[1]}"


def _autoindex(path: str, folder: Path) -> bytes:
    """A folder listing in the format of nginx's autoindex, which dumps.wikimedia.org serves."""
    lines = ['<a href="../">../</a>']
    for p in sorted(folder.iterdir()):
        name = p.name + ("/" if p.is_dir() else "")
        stamp = time.strftime("%d-%b-%Y %H:%M", time.gmtime(p.stat().st_mtime))
        size = "-" if p.is_dir() else str(p.stat().st_size)
        lines.append(f'<a href="{html.escape(name)}">{html.escape(name)}</a>{" " * max(1, 51 - len(name))}'
                     f"{stamp} {size:>19}")
    title = f"Index of {html.escape(path)}"
    return (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<h1>{title}</h1><hr><pre>"
            + "\r\n".join(lines) + "\r\n</pre><hr></body>\r\n</html>\r\n").encode()
