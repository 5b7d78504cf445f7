"""A small Hugging Face Hub-compatible HTTP server for tests (127.0.0.1 only, in memory).

It implements the surface that `DatasetDict.push_to_hub`, `load_dataset("ORG/NAME", ...)` (also
streaming) and wiki_qa's destination checks use, found by probing huggingface_hub 2.4 / datasets 5.2:
whoami, repo create / info / revision / settings (visibility), auth-check, validate-yaml, preupload (always answers
`lfs` for non-empty files, as the real Hub does for parquet), LFS batch + PUT, NDJSON commit (with parentCommit
412), tree listing, paths-info, and resolve with X-Repo-Commit / ETag / byte ranges (206).

Clients must set HF_ENDPOINT=<url> and HF_HUB_DISABLE_XET=1 *before* importing huggingface_hub.

Faults: `server.state.inject(method, path_regex, status, times, message)` makes the next `times` matching
requests fail with `status` and `message` (429 carries `Retry-After: 0`), so retry/backoff can be tested.
Run standalone: `python tests/servers/hub_server.py [port]` (token `hf_test_write` for user `tester`).
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

SHA_RE = re.compile(r"^[0-9a-f]{40}$")


@dataclass
class Repo:
    repo_id: str
    private: bool
    # commits oldest first: (sha, {path: blob_sha256}); blobs live in HubState.blobs
    commits: list = field(default_factory=list)

    @property
    def head(self) -> tuple[str, dict]:
        return self.commits[-1]


class HubState:
    def __init__(self, tokens: dict | None = None):
        # token -> {"user": str, "orgs": [str], "write": bool}
        self.tokens = tokens or {
            "hf_test_write": {"user": "tester", "orgs": ["org"], "write": True},
            "hf_test_read": {"user": "reader", "orgs": ["org"], "write": False},
        }
        self.repos: dict[str, Repo] = {}
        self.blobs: dict[str, bytes] = {}  # sha256 hex -> content
        self.lock = threading.RLock()
        self.faults: list[list] = []  # [method, regex, status, remaining, message, matches to let through]
        self.log: list[tuple[str, str, int]] = []  # (method, path, status) of every request

    def inject(self, method: str, path_regex: str, status: int, times: int = 1,
               message: str = "injected fault", skip: int = 0) -> None:
        """Answer the next `times` matching requests with `status`, after letting `skip` of them through
        (e.g. skip=1 on the commit route: the second commit of a push fails)."""
        with self.lock:
            self.faults.append([method, re.compile(path_regex), status, times, message, skip])

    def take_fault(self, method: str, path: str) -> tuple[int, str] | None:
        with self.lock:
            for fault in self.faults:
                if fault[3] > 0 and fault[0] == method and fault[1].search(path):
                    if fault[5] > 0:
                        fault[5] -= 1
                        continue
                    fault[3] -= 1
                    return fault[2], fault[4]
        return None

    def user_for(self, auth_header: str | None) -> dict | None:
        if not auth_header or not auth_header.startswith("Bearer "):
            return None
        return self.tokens.get(auth_header[len("Bearer "):])

    def files_at(self, repo: Repo, revision: str) -> tuple[str, dict] | None:
        revision = unquote(revision)
        if revision in ("main", "HEAD"):
            return repo.head
        for sha, files in repo.commits:
            if sha == revision:
                return sha, files
        return None


def _new_sha(*parts: str) -> str:
    return hashlib.sha1(("|".join(parts) + str(time.time_ns())).encode()).hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: HubState  # set by make_server
    base_url: str

    def log_message(self, *args):  # keep pytest output quiet
        pass

    # ---- plumbing -------------------------------------------------------------------------------
    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None, ctype="application/json"):
        self.state.log.append((self.command, self.path, status))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj, headers: dict | None = None):
        self._send(status, json.dumps(obj).encode(), headers)

    def _error(self, status: int, msg: str, error_code: str | None = None):
        headers = {"X-Error-Message": msg}
        if error_code:
            headers["X-Error-Code"] = error_code
        self._json(status, {"error": msg}, headers)

    def _dispatch(self):
        path = urlparse(self.path).path
        body = self._body() if self.command in ("POST", "PUT") else b""
        fault = self.state.take_fault(self.command, path)
        if fault is not None:
            status, message = fault
            return self._error(status, message) if status != 429 else self._json(
                429, {"error": "rate limited"}, {"Retry-After": "0"})
        for method, regex, fn in ROUTES:
            if method == self.command or (method == "GET" and self.command == "HEAD"):
                m = re.fullmatch(regex, path)
                if m:
                    try:
                        return fn(self, body, *[unquote(g) if g is not None else None for g in m.groups()])
                    except Exception as exc:  # a bug in the test server must show up, not hang
                        return self._error(500, f"server error: {exc!r}")
        self._error(404, f"no route {self.command} {path}")

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _dispatch

    def _user(self):
        return self.state.user_for(self.headers.get("Authorization"))

    def _repo(self, repo_id: str, need_write=False) -> Repo | None:
        """Return the repo if visible to the caller, else answer 404/401/403 and return None."""
        user = self._user()
        repo = self.state.repos.get(repo_id)
        if repo is None or (repo.private and (user is None or not self._may_write_ns(user, repo_id, any_role=True))):
            self._error(404, "Repository not found", "RepoNotFound")
            return None
        if need_write:
            if user is None:
                self._error(401, "Unauthorized")
                return None
            if not self._may_write_ns(user, repo_id):
                self._error(403, "You don't have the rights to write to this repository")
                return None
        return repo

    @staticmethod
    def _may_write_ns(user: dict, repo_id: str, any_role=False) -> bool:
        ns = repo_id.split("/")[0]
        return (ns == user["user"] or ns in user["orgs"]) and (any_role or user["write"])

    # ---- routes ---------------------------------------------------------------------------------
    def whoami(self, body):
        user = self._user()
        if user is None:
            return self._error(401, "Invalid credentials in Authorization header")
        role = "write" if user["write"] else "read"
        self._json(200, {"type": "user", "name": user["user"], "orgs": [{"name": o} for o in user["orgs"]],
                         "auth": {"type": "access_token", "accessToken": {"displayName": "t", "role": role}}})

    def create_repo(self, body):
        user = self._user()
        if user is None:
            return self._error(401, "Unauthorized")
        payload = json.loads(body or b"{}")
        ns = payload.get("organization") or user["user"]
        repo_id = f"{ns}/{payload['name']}"
        if not self._may_write_ns(user, repo_id):
            return self._error(403, f"You don't have the rights to create a dataset under the namespace {ns}")
        url = f"{self.base_url}/datasets/{repo_id}"
        with self.state.lock:
            if repo_id in self.state.repos:
                return self._json(409, {"error": "You already created this dataset repo", "url": url})
            repo = Repo(repo_id, private=payload.get("visibility") == "private" or bool(payload.get("private")))
            gitattributes = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
            sha = hashlib.sha256(gitattributes).hexdigest()
            self.state.blobs[sha] = gitattributes
            repo.commits.append((_new_sha(repo_id, "init"), {".gitattributes": sha}))
            self.state.repos[repo_id] = repo
        self._json(200, {"url": url, "name": repo_id, "id": repo_id})

    def repo_info(self, body, repo_id, revision=None):
        repo = self._repo(repo_id)
        if repo is None:
            return
        found = self.state.files_at(repo, revision or "main")
        if found is None:
            return self._error(404, "Revision not found", "RevisionNotFound")
        sha, files = found
        self._json(200, {"id": repo_id, "_id": repo_id, "author": repo_id.split("/")[0], "sha": sha,
                         "private": repo.private, "gated": False, "disabled": False, "downloads": 0, "likes": 0,
                         "tags": [], "lastModified": "2026-01-01T00:00:00.000Z",
                         "siblings": [{"rfilename": p} for p in sorted(files)]})

    def settings(self, body, repo_id):
        """PUT /api/datasets/ORG/NAME/settings (HfApi.update_repo_settings): visibility changes."""
        repo = self._repo(repo_id, need_write=True)
        if repo is None:
            return
        payload = json.loads(body or b"{}")
        if "visibility" in payload:
            repo.private = payload["visibility"] == "private"
        elif "private" in payload:
            repo.private = bool(payload["private"])
        self._json(200, {})

    def auth_check(self, body, repo_id, write):
        if self._repo(repo_id, need_write=bool(write)) is not None:
            self._json(200, {})

    def validate_yaml(self, body):
        self._json(200, {"errors": [], "warnings": []})

    def preupload(self, body, repo_id, revision):
        if self._repo(repo_id, need_write=True) is None:
            return
        files = json.loads(body)["files"]
        self._json(200, {"files": [{"path": f["path"], "uploadMode": "lfs" if f["size"] else "regular",
                                    "shouldIgnore": False} for f in files]})

    def lfs_batch(self, body, repo_id):
        if self._repo(repo_id, need_write=True) is None:
            return
        objects = []
        for obj in json.loads(body)["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"]}
            if obj["oid"] not in self.state.blobs:  # already stored => no action, as on the real Hub
                entry["actions"] = {"upload": {"href": f"{self.base_url}/_lfs/{obj['oid']}", "header": {}}}
            objects.append(entry)
        self._json(200, {"transfer": "basic", "objects": objects}, {"Content-Type": "application/vnd.git-lfs+json"})

    def lfs_put(self, body, oid):
        if hashlib.sha256(body).hexdigest() != oid:
            return self._error(400, "sha256 mismatch")
        self.state.blobs[oid] = body
        self._send(200)

    def commit(self, body, repo_id, revision):
        repo = self._repo(repo_id, need_write=True)
        if repo is None:
            return
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        with self.state.lock:
            head_sha, head_files = repo.head
            header = lines[0]["value"]
            if header.get("parentCommit") and header["parentCommit"] != head_sha:
                return self._error(412, "A commit has happened since. Please refresh and try again.")
            files = dict(head_files)
            for item in lines[1:]:
                key, value = item["key"], item["value"]
                if key == "file":
                    content = base64.b64decode(value["content"])
                    sha = hashlib.sha256(content).hexdigest()
                    self.state.blobs[sha] = content
                    files[value["path"]] = sha
                elif key == "lfsFile":
                    if value["oid"] not in self.state.blobs:
                        return self._error(422, f"LFS object {value['oid']} was never uploaded")
                    files[value["path"]] = value["oid"]
                elif key == "deletedFile":
                    files.pop(value["path"], None)
                elif key == "deletedFolder":
                    prefix = value["path"].rstrip("/") + "/"
                    files = {p: s for p, s in files.items() if not p.startswith(prefix)}
            sha = _new_sha(repo_id, json.dumps(files, sort_keys=True))
            repo.commits.append((sha, files))
        self._json(200, {"commitOid": sha, "commitUrl": f"{self.base_url}/datasets/{repo_id}/commit/{sha}",
                         "pullRequestUrl": None, "success": True})

    def _entry(self, path: str, blob: str, sha: str) -> dict:
        size = len(self.state.blobs[blob])
        return {"type": "file", "path": path, "size": size, "oid": hashlib.sha1(blob.encode()).hexdigest(),
                "lfs": {"oid": blob, "size": size, "pointerSize": 134},
                "lastCommit": {"id": sha, "title": "commit", "date": "2026-01-01T00:00:00.000Z"}}

    def _listing(self, files: dict, sha: str, prefix: str, recursive: bool) -> list:
        prefix = prefix.strip("/")
        out, dirs = [], set()
        for path, blob in sorted(files.items()):
            if prefix and not path.startswith(prefix + "/"):
                continue
            rest = path[len(prefix) + 1:] if prefix else path
            parts = rest.split("/")
            for i in range(1, len(parts)):  # every intermediate folder
                if i > 1 and not recursive:
                    break
                dirs.add("/".join(([prefix] if prefix else []) + parts[:i]))
            if recursive or len(parts) == 1:
                out.append(self._entry(path, blob, sha))
        folders = [{"type": "directory", "path": d, "oid": hashlib.sha1(d.encode()).hexdigest()} for d in sorted(dirs)]
        return folders + out

    def tree(self, body, repo_id, revision, path):
        repo = self._repo(repo_id)
        if repo is None:
            return
        found = self.state.files_at(repo, revision)
        if found is None:
            return self._error(404, "Revision not found", "RevisionNotFound")
        sha, files = found
        prefix = (path or "").strip("/")
        if prefix and not any(p.startswith(prefix + "/") for p in files):
            return self._error(404, f"{prefix} does not exist", "EntryNotFound")
        query = parse_qs(urlparse(self.path).query)
        recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
        self._json(200, self._listing(files, sha, prefix, recursive))

    def paths_info(self, body, repo_id, revision):
        repo = self._repo(repo_id)
        if repo is None:
            return
        found = self.state.files_at(repo, revision)
        if found is None:
            return self._error(404, "Revision not found", "RevisionNotFound")
        sha, files = found
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            paths = json.loads(body).get("paths", [])
        else:
            paths = parse_qs(body.decode()).get("paths", [])
        out = []
        for p in paths:
            p = p.strip("/")
            if p in files:
                out.append(self._entry(p, files[p], sha))
            elif any(f.startswith(p + "/") for f in files):
                out.append({"type": "directory", "path": p, "oid": hashlib.sha1(p.encode()).hexdigest()})
        self._json(200, out)

    def resolve(self, body, repo_id, revision, path):
        repo = self._repo(repo_id)
        if repo is None:
            return
        found = self.state.files_at(repo, revision)
        if found is None:
            return self._error(404, "Revision not found", "RevisionNotFound")
        sha, files = found
        if path not in files:
            return self._error(404, "Entry not found", "EntryNotFound")
        data = self.state.blobs[files[path]]
        headers = {"X-Repo-Commit": sha, "ETag": f'"{files[path]}"', "Accept-Ranges": "bytes"}
        rng = self.headers.get("Range")
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng or "")
        if m and data:
            start = int(m.group(1)) if m.group(1) else max(0, len(data) - int(m.group(2)))
            end = int(m.group(2)) if (m.group(2) and m.group(1)) else len(data) - 1
            end = min(end, len(data) - 1)
            if start >= len(data):
                return self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return self._send(206, data[start:end + 1], headers, "application/octet-stream")
        self._send(200, data, headers, "application/octet-stream")


REPO = r"([^/]+/[^/]+?)"
ROUTES = [
    ("GET", r"/api/whoami-v2", Handler.whoami),
    ("POST", r"/api/repos/create", Handler.create_repo),
    ("POST", r"/api/validate-yaml", Handler.validate_yaml),
    ("GET", rf"/api/datasets/{REPO}/auth-check(/write)?", Handler.auth_check),
    ("PUT", rf"/api/datasets/{REPO}/settings", Handler.settings),
    ("GET", rf"/api/datasets/{REPO}/tree/([^/]+)(?:/(.*))?", Handler.tree),
    ("POST", rf"/api/datasets/{REPO}/paths-info/([^/]+)", Handler.paths_info),
    ("POST", rf"/api/datasets/{REPO}/preupload/([^/]+)", Handler.preupload),
    ("POST", rf"/api/datasets/{REPO}/commit/([^/]+)", Handler.commit),
    ("GET", rf"/api/datasets/{REPO}/revision/([^/]+)", Handler.repo_info),
    ("GET", rf"/api/datasets/{REPO}", Handler.repo_info),
    ("POST", rf"/datasets/{REPO}\.git/info/lfs/objects/batch", Handler.lfs_batch),
    ("PUT", r"/_lfs/([0-9a-f]{64})", Handler.lfs_put),
    ("GET", rf"/datasets/{REPO}/resolve/([^/]+)/(.+)", Handler.resolve),
]


class HubServer:
    """`with HubServer() as hub: hub.url, hub.state` -- runs in a daemon thread."""

    def __init__(self, port: int = 0, tokens: dict | None = None):
        self.state = HubState(tokens)
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        handler.base_url = self.url
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "HubServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


if __name__ == "__main__":
    with HubServer(int(sys.argv[1]) if len(sys.argv) > 1 else 0) as hub:
        print(hub.url, flush=True)
        threading.Event().wait()
