"""The import graph between wiki_qa's rooms, counting imports inside functions.

    python tools/rooms.py            # prints every room's imports, and any loop; exit 1 on a loop

A room is a subpackage of wiki_qa (wiki_qa/llm, wiki_qa/orchestrator, ...), one source folder under builders/
(installed as wiki_qa.builders.NAME), or a module directly in wiki_qa/ or builders/ (the package
`__init__`s are the rooms `wiki_qa` and `wiki_qa.builders`). tests/test_rooms.py runs the same check, so a loop
fails the suite.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREES = {"wiki_qa": ROOT / "wiki_qa", "wiki_qa.builders": ROOT / "builders", "wiki_qa.configs": ROOT / "configs"}


def modules() -> dict[str, Path]:
    out = {}
    for pkg, folder in TREES.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([pkg, *parts])] = path
    return out


def room(module: str) -> str:
    """wiki_qa.llm.engine -> wiki_qa.llm; wiki_qa.builders.bbc.crawl -> wiki_qa.builders.bbc;
    a module directly in wiki_qa/ or builders/ (wiki_qa.config, wiki_qa.builders.base) is a room of its own."""
    parts = module.split(".")
    depth = 3 if parts[:2] == ["wiki_qa", "builders"] else 2
    return ".".join(parts[:depth])


_MODS: dict[str, Path] = {}


def _is_pkg(module: str) -> bool:
    p = _MODS.get(module)
    return p is not None and p.name == "__init__.py"


def imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            subs = {f"{base}.{a.name}" for a in node.names} & set(_MODS)
            found |= subs or {base}  # `from wiki_qa import io` imports wiki_qa.io, not the package API
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module" \
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            found.add(node.args[0].value)
    return {m for m in found if m in _MODS}


def graph() -> dict[str, set[str]]:
    _MODS.clear()
    _MODS.update(modules())
    g: dict[str, set[str]] = {}
    for mod, path in _MODS.items():
        src = room(mod)
        g.setdefault(src, set())
        for target in imports(mod, path):
            dst = room(target)
            if dst != src:
                g[src].add(dst)
    return g


def loops(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one room (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    g = graph()
    for r in sorted(g):
        print(f"{r:36s} -> {', '.join(sorted(g[r])) or '-'}")
    bad = loops(g)
    for comp in bad:
        print("LOOP:", " <-> ".join(comp))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
