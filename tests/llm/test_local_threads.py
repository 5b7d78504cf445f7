"""How many llama.cpp threads the bundled server gets: the idle cores, never fewer than one."""
from __future__ import annotations

import os

import pytest

from wiki_qa.llm import local_server


@pytest.mark.parametrize("load,expected", [(0.2, 4), (0.9, 4), (1.4, 3), (2.4, 2), (3.6, 1), (9.0, 1)])
def test_threads_follow_the_idle_cores(monkeypatch, load, expected):
    monkeypatch.delenv("WIKI_QA_LLM_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert local_server.default_threads() == expected


def test_environment_overrides(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    monkeypatch.setenv("WIKI_QA_LLM_THREADS", "3")
    assert local_server.default_threads() == 3
    monkeypatch.setenv("WIKI_QA_LLM_THREADS", "0")
    assert local_server.default_threads() == 1
