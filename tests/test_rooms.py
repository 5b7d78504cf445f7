"""The rooms import each other one way only (tools/rooms.py), counting imports inside functions."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rooms():
    spec = importlib.util.spec_from_file_location("rooms", ROOT / "tools" / "rooms.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_no_import_loop_between_rooms():
    rooms = _rooms()
    graph = rooms.graph()
    assert "wiki_qa.orchestrator" in graph and "wiki_qa.builders.mediawiki" in graph  # it saw the tree
    assert rooms.loops(graph) == []


def test_lower_rooms_never_reach_the_orchestrator_or_the_entry_points():
    graph = _rooms().graph()
    top = {"wiki_qa", "wiki_qa.orchestrator", "wiki_qa.hf", "wiki_qa.cli"}
    for room, targets in graph.items():
        if room not in top:
            assert not targets & top, (room, targets & top)
    for room in [r for r in graph if r.startswith("wiki_qa.builders")]:
        assert not graph[room] & {"wiki_qa.config", "wiki_qa.pipeline", "wiki_qa.executor"}, room


def test_the_checker_finds_a_loop():
    rooms = _rooms()
    assert rooms.loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
