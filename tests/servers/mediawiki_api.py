"""A MediaWiki Action API (api.php) on 127.0.0.1 serving the real pages of a dump from ../shared/data.

The dump is read with mwxml (an independent reader, not wiki_qa's), and the answers have the shapes
MediaWiki 1.39+ gives with `format=json&formatversion=2`:

- `meta=siteinfo&siprop=general|namespaces|statistics`: general {sitename, wikiid, base, generator, case,
  lang, ...}, namespaces {"0": {id, case, name, content, ...}}, statistics {pages, articles, ...};
- `list=allpages`: {"batchcomplete", "continue": {"apcontinue": <next title, as a dbkey>, "continue": "-||"},
  "query": {"allpages": [{pageid, ns, title}]}}, titles in binary order, at most `page_limit` per answer;
- `prop=revisions|info&pageids=..&rvslots=main`: {"query": {"pages": [{pageid, ns, title, contentmodel,
  lastrevid, length, redirect?, revisions: [{revid, parentid, timestamp, size, slots: {main: {contentmodel,
  contentformat, content}}}]}]}}; at most 50 ids ("toomanyvalues" beyond), and like $wgAPIMaxResultSize an
  answer stops adding content past `max_result_bytes` and says where to go on ("continue": {"rvcontinue"});
- errors as {"error": {"code", "info", "*"}}: `maxlag` comes as an HTTP 200 with Retry-After and
  X-Database-Lag headers, as MediaWiki sends it; a private wiki answers `readapidenied` until a bot password
  logs in (meta=tokens&type=login, then a POST action=login) and the session cookie comes back.

Misbehaviour: `maxlag_at` (request numbers answered with a maxlag error), `statuses` (HTTP errors with
Retry-After, consumed in order), `fail_from` (from that request on, every answer is a 500: a site that goes
away mid-crawl). Every request is logged with its time, parameters, User-Agent and client port.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.parse

import mwxml

from tests.servers.base import LocalServer, QuietHandler
from wiki_qa.io import open_input

MAX_IDS = 50


def load_dump(path: str) -> tuple[dict, list[dict]]:
    """(siteinfo, pages) of a dump: each page with its last revision."""
    with open_input(path) as inp:
        dump = mwxml.Dump.from_file(inp.stream)
        si = dump.site_info
        site = {"sitename": si.name, "dbname": si.dbname, "base": si.base, "generator": si.generator,
                "case": si.case, "namespaces": [(ns.id, ns.case or si.case, ns.name or "") for ns in si.namespaces]}
        pages = []
        for page in dump:
            revs = list(page)
            rev = revs[-1]
            pages.append({"pageid": page.id, "ns": page.namespace, "title": page.title, "redirect": page.redirect,
                          "revid": rev.id, "parentid": rev.parent_id or 0, "timestamp": str(rev.timestamp),
                          "text": rev.text or "", "model": rev.model or "wikitext",
                          "format": rev.format or "text/x-wiki"})
    return site, pages


class MediaWikiAPI(LocalServer):
    def __init__(self, dump_path: str, *, lang: str = "en", page_limit: int = 10, max_result_bytes: int = 8 << 20,
                 private: bool = False, bot: tuple[str, str] = ("Crawler@wiki_qa", "s3cret-bot-password-123")):
        self.site, self.pages = load_dump(dump_path)
        self.lang, self.page_limit, self.max_result_bytes = lang, page_limit, max_result_bytes
        self.private, self.bot = private, bot
        self.by_id = {p["pageid"]: p for p in self.pages}
        self.maxlag_at: set[int] = set()
        self.statuses: list[tuple[int, str]] = []
        self.fail_from: int | None = None
        self.log: list[dict] = []
        self.sessions: set[str] = set()
        self._lock = threading.Lock()
        api = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # http.server API
                self._serve(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query))

            def do_POST(self):  # http.server API
                n = int(self.headers.get("Content-Length") or 0)
                self._serve(urllib.parse.parse_qs(self.rfile.read(n).decode()))

            def _serve(self, qs):
                params = {k: v[-1] for k, v in qs.items()}
                with api._lock:
                    n = len(api.log)
                    api.log.append({"t": time.monotonic(), "params": params, "ua": self.headers.get("User-Agent"),
                                    "port": self.client_address[1], "cookie": self.headers.get("Cookie")})
                    status = api.statuses.pop(0) if api.statuses else None
                if urllib.parse.urlsplit(self.path).path != "/w/api.php":
                    return self.reply(404, b"<html>404</html>", "text/html")
                if api.fail_from is not None and n >= api.fail_from:
                    return self.reply(500, b"<html>Internal error</html>", "text/html")
                if status is not None:
                    return self.reply(status[0], b"Too many requests", "text/plain", {"Retry-After": status[1]})
                if n in api.maxlag_at:
                    return self._json({"error": {"code": "maxlag", "info": "Waiting for 10.64.48.35: 6.2 seconds "
                                                 "lagged.", "host": "10.64.48.35", "lag": 6.2, "type": "db",
                                                 "*": "See /w/api.php for API usage."}},
                                      {"Retry-After": "1", "X-Database-Lag": "6"})
                body, headers = api.answer(params, self.headers.get("Cookie") or "")
                self._json(body, headers)

            def _json(self, body, headers=None):
                self.reply(200, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

        self.serve(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/w/api.php"

    # --- the API ------------------------------------------------------------------------------------------
    def answer(self, p: dict, cookie: str) -> tuple[dict, dict]:
        if p.get("format") != "json" or p.get("formatversion") != "2":
            return _error("badvalue", "this test server speaks format=json&formatversion=2 only"), {}
        action = p.get("action")
        if action == "login":
            if (p.get("lgname"), p.get("lgpassword")) != self.bot or p.get("lgtoken") != "logintoken+\\":
                return {"login": {"result": "Failed", "reason": "Incorrect username or password entered."}}, {}
            session = f"s{len(self.sessions) + 1}abcdef"
            self.sessions.add(session)
            return ({"login": {"result": "Success", "lguserid": 7, "lgusername": self.bot[0].split("@")[0]}},
                    {"Set-Cookie": f"wikiSession={session}; path=/; HttpOnly"})
        if action != "query":
            return _error("badvalue", f'Unrecognized value for parameter "action": {action}.'), {}
        if p.get("meta") == "tokens":
            return {"batchcomplete": True, "query": {"tokens": {"logintoken": "logintoken+\\"}}}, {}
        if self.private and not any(f"wikiSession={s}" in cookie for s in self.sessions):
            return _error("readapidenied", "You need read permission to use this module."), {}
        if p.get("meta") == "siteinfo":
            return self.siteinfo(), {}
        if p.get("list") == "allpages":
            return self.allpages(p), {}
        if p.get("prop"):
            return self.revisions(p), {}
        return _error("badvalue", "unsupported request"), {}

    def siteinfo(self) -> dict:
        s = self.site
        general = {"mainpage": "Main Page", "base": s["base"], "sitename": s["sitename"], "generator": s["generator"],
                   "case": s["case"], "lang": self.lang, "wikiid": s["dbname"], "server": "//127.0.0.1",
                   "articlepath": "/wiki/$1", "scriptpath": "/w"}
        namespaces = {str(k): {"id": k, "case": case, "name": name, "subpages": k % 2 == 1, "content": k == 0,
                               "nonincludable": False} for k, case, name in s["namespaces"]}
        articles = sum(1 for p in self.pages if p["ns"] == 0 and not p["redirect"] and "[[" in p["text"])
        stats = {"pages": len(self.pages), "articles": articles, "edits": len(self.pages) * 7, "images": 0,
                 "users": 12, "activeusers": 3, "admins": 1, "jobs": 0}
        return {"batchcomplete": True, "query": {"general": general, "namespaces": namespaces, "statistics": stats}}

    def allpages(self, p: dict) -> dict:
        ns = int(p.get("apnamespace", 0))
        limit = self.page_limit if p.get("aplimit", "10") == "max" else min(int(p["aplimit"]), self.page_limit)
        listed = sorted((q for q in self.pages if q["ns"] == ns), key=lambda q: _dbkey(q).encode())
        start = p.get("apcontinue")
        if start:
            listed = [q for q in listed if _dbkey(q).encode() >= start.encode()]
        out = {"batchcomplete": True, "query": {"allpages": [{"pageid": q["pageid"], "ns": q["ns"],
                                                               "title": q["title"]} for q in listed[:limit]]}}
        if len(listed) > limit:
            out["continue"] = {"apcontinue": _dbkey(listed[limit]), "continue": "-||"}
        return out

    def revisions(self, p: dict) -> dict:
        ids = [int(x) for x in p.get("pageids", "").split("|") if x]
        if len(ids) > MAX_IDS:
            return _error("toomanyvalues", f'Too many values supplied for parameter "pageids". The limit is {MAX_IDS}.')
        after = int(p["rvcontinue"].split("|")[0]) if p.get("rvcontinue") else None
        pages, used, cont = [], 0, None
        for pid in sorted(ids):
            q = self.by_id.get(pid)
            if q is None:
                pages.append({"pageid": pid, "missing": True})
                continue
            page = {"pageid": pid, "ns": q["ns"], "title": q["title"], "contentmodel": q["model"],
                    "pagelanguage": self.lang, "touched": q["timestamp"], "lastrevid": q["revid"],
                    "length": len(q["text"].encode())}
            if q["redirect"]:
                page["redirect"] = True
            done = after is not None and pid < after
            if not done and cont is None and (used + len(q["text"]) <= self.max_result_bytes or not used):
                used += len(q["text"])
                page["revisions"] = [{"revid": q["revid"], "parentid": q["parentid"], "timestamp": q["timestamp"],
                                      "size": len(q["text"].encode()),
                                      "slots": {"main": {"contentmodel": q["model"], "contentformat": q["format"],
                                                         "content": q["text"]}}}]
            elif not done and cont is None:
                cont = {"rvcontinue": f"{pid}|{q['revid']}", "continue": "||"}
            pages.append(page)
        out = {"query": {"pages": pages}}
        if cont:
            out["continue"] = cont
        else:
            out["batchcomplete"] = True
        return out


def _dbkey(page: dict) -> str:
    """The title without its namespace prefix, spaces as underscores (what apcontinue takes)."""
    title = page["title"].split(":", 1)[1] if page["ns"] != 0 and ":" in page["title"] else page["title"]
    return title.replace(" ", "_")


def _error(code: str, info: str) -> dict:
    return {"error": {"code": code, "info": info, "*": "See /w/api.php for API usage."}}
