"""Fixtures for the LLM step: the fault-injecting fake server and real chunk rows from ../shared/data
(through tests/conftest.py's `mediawiki_dir`, which skips with the suite's one reason where it is absent)."""
from __future__ import annotations

import bz2
import json
import re
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE = ROOT / "tests" / "servers" / "fake_openai.py"
DEFAULTS = {"fault_first": [], "models": ["fake-model", "gpt-4o-mini"], "api_key": None, "latency": 0.0,
            "latency_dist": "fixed",
            "faults": {}, "fault_attempts": 1, "slow_s": 5.0, "retry_after": "0.2", "max_concurrent": None,
            "reject_json_schema": False, "seed": 0, "budget": None, "batch_polls": 2, "batch_outcomes": [],
            "batch_expire_after": 0, "batch_invalid_first": 0, "html_bytes": 2 * 2 ** 20, "huge_bytes": 64 * 2 ** 20,
            "retry_after_huge": "1000000", "redirect_all": None, "refuse_chat": False,
            "models_status": 200, "error_message": None, "batch_tamper": [],
            "batch_fail_message": "validation failed (injected)", "file_rate_bps": None,
            "judge_prefers": None, "judge_constant": None}


def _crude_clean(wikitext: str) -> str:
    # Not the project's cleaner (that is builders/mediawiki/clean): just enough to get readable real prose.
    t = re.sub(r"\{\{[^{}]*\}\}", "", wikitext)
    t = re.sub(r"\{\{[^{}]*\}\}", "", t)
    t = re.sub(r"<ref[^>]*/>|<ref.*?</ref>|<!--.*?-->", "", t, flags=re.S)
    t = re.sub(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]", r"\1", t)
    t = re.sub(r"'{2,}|\[https?://\S+ ?([^\]]*)\]|^[*#:;=|!{].*$", r"\1", t, flags=re.M)
    return re.sub(r"\n{3,}", "\n\n", t).strip()


def read_pages(path: Path, lang: str, limit: int):
    opener = bz2.open if path.suffix == ".bz2" else open
    out = []
    with opener(path, "rb") as f:
        for _, el in ET.iterparse(f):
            if el.tag.endswith("}page") or el.tag == "page":
                get = lambda name: next((c for c in el.iter() if c.tag.split("}")[-1] == name), None)  # noqa
                title, text, pid = get("title"), get("text"), get("id")
                body = _crude_clean(text.text or "") if text is not None else ""
                if title is not None and len(body) > 400 and not body.lower().startswith("#redirect"):
                    out.append({"doc_id": f"{path.stem}:{pid.text}", "title": title.text, "text": body, "lang": lang})
                el.clear()
                if len(out) >= limit:
                    break
    return out


def chunk_rows(pages, max_chars=1200, per_doc=3):
    rows = []
    for p in pages:
        paras, cur, k = [x.strip() for x in p["text"].split("\n\n") if x.strip()], "", 0
        for para in paras + [None]:
            if para is None or (cur and len(cur) + len(para) > max_chars):
                if cur and k < per_doc:
                    rows.append({"id": f"{p['doc_id']}#{k}", "doc_id": p["doc_id"], "chunk_id": k,
                                 "title": p["title"], "text": f"{p['title']}\n\n{cur}",
                                 "url": f"https://example.org/wiki/{p['title'].replace(' ', '_')}",
                                 "lang": p["lang"], "source": "mediawiki:test",
                                 "meta": json.dumps({"topic": "general"}), "split": "train"})
                    k += 1
                cur = ""
            if para:
                cur = f"{cur}\n\n{para[:max_chars]}" if cur else para[:max_chars]
    return rows


@pytest.fixture(scope="session")
def real_chunks(mediawiki_dir):
    """24 real English chunks (8 enwiki articles x 3), shaped as the chunk stage emits them."""
    pages = read_pages(mediawiki_dir / "enwiki-206pages.xml.bz2", "en", 8)
    rows = chunk_rows(pages)
    assert len(rows) >= 20
    return rows


class FakeServer:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, str(FAKE)], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("LISTENING "), line
        self.base_url = line.split()[1]
        self.root = self.base_url.rsplit("/v1", 1)[0]

    def _post(self, path, data):
        req = urllib.request.Request(self.root + path, data=json.dumps(data).encode(),
                                     headers={"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(req, timeout=10).read())

    def configure(self, **kw):
        return self._post("/config", kw)

    def reset(self, **kw):
        self._post("/reset", {})
        return self._post("/config", {**DEFAULTS, **kw})

    def stats(self):
        return json.loads(urllib.request.urlopen(self.root + "/stats", timeout=10).read())

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="session")
def fake_server_session():
    s = FakeServer()
    yield s
    s.stop()


@pytest.fixture
def fake(fake_server_session, tmp_path, monkeypatch):
    """The fake server, reset to fault-free defaults, plus an env with a dummy key and a fresh cache."""
    fake_server_session.reset()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-123")
    monkeypatch.setenv("WIKI_QA_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return fake_server_session


@pytest.fixture
def llm(fake):
    """The `llm:` settings (a dict) pointed at the fake server, with test-speed timeouts."""
    return {"model": "fake-model", "base_url": fake.base_url, "concurrency": 8, "max_retries": 5, "timeout_s": 2.0}
