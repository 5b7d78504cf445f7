"""train/val/test assignment per document, by a stable hash of (seed, doc_id).

A hash (not a shuffle) makes the assignment independent of input order, machine and engine, and lets a
split be computed for one document without seeing the others: so no document ever spans two splits, and
every split can be produced in its own pass.
"""
from __future__ import annotations

import hashlib

from pydantic import model_validator

from wiki_qa.configbase import StrictModel


class SplitConfig(StrictModel):
    train: float = 0.9
    val: float = 0.05
    test: float = 0.05
    seed: int = 42

    @model_validator(mode="after")
    def _ratios(self):
        ratios = [self.train, self.val, self.test]
        if any(r < 0 for r in ratios) or abs(sum(ratios) - 1.0) > 1e-6:
            raise ValueError(f"split ratios must be >= 0 and sum to 1 (got {sum(ratios):g})")
        return self


def assign_split(doc_id: str, cfg: SplitConfig) -> str:
    digest = hashlib.sha256(f"{cfg.seed}\x00{doc_id}".encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < cfg.train:
        return "train"
    if u < cfg.train + cfg.val:
        return "val"
    return "test"


# -- link-aware splits (tasks that pair linked pages: qa_multihop) -------------------------------------------
# Pages are split one by one above, so two linked pages rarely share a split, and pairs, which never cross
# splits, leave val and test nearly empty (issue 23: 0.4% and 0.8% instead of 5%). Here whole communities of
# the link graph go to one split: Louvain communities (networkx); one that alone outweighs the smallest
# non-zero share is cut again at a higher resolution (unless that leaves only single pages). Communities
# are weighed by the links inside them (the pairs they can make) and placed heaviest first into the split
# furthest below its share. Pages with no link inside the build keep their hash split. Deterministic:
# nodes (ranks of the sorted doc_ids) and edges in sorted order, Louvain seeded with `seed`, ties broken by
# a seeded hash of the doc_id; the same under any PYTHONHASHSEED.
RESOLUTIONS = (1.0, 2.0, 4.0, 8.0)


def _inside(graph, nodes) -> int:
    return graph.subgraph(nodes).number_of_edges()


def _communities(graph, cap: float, seed: int) -> list[list[int]]:
    """Louvain communities; one with more than `cap` links inside is cut again at the next resolution."""
    import networkx as nx

    out, todo = [], [(sorted(graph.nodes), 0)]
    while todo:
        nodes, level = todo.pop()
        parts = [sorted(c) for c in nx.community.louvain_communities(graph.subgraph(nodes),
                                                                    resolution=RESOLUTIONS[level], seed=seed)]
        if level and all(len(p) == 1 for p in parts):  # cutting further keeps no pair: keep it whole
            out.append(nodes)
            continue
        for part in sorted(parts):
            if _inside(graph, part) > cap and len(part) > 2 and level + 1 < len(RESOLUTIONS):
                todo.append((part, level + 1))
            else:
                out.append(part)
    return out


def link_splits(links: dict[str, list[str]], cfg: SplitConfig) -> tuple[dict[str, str], dict]:
    """doc_id -> split for pages joined by links (`links`: doc_id -> linked doc_ids inside the build), and
    the figures for the report. Pages absent from the result keep `assign_split`."""
    import networkx as nx

    edges = sorted({(min(a, b), max(a, b)) for a, ts in links.items() for b in ts if a != b})
    # Nodes are the ranks of the sorted doc_ids: networkx's Louvain keeps communities in sets, and a set of
    # strings iterates in an order that changes with PYTHONHASHSEED (so would the split); a set of ints does not.
    names = sorted({n for e in edges for n in e})
    rank = {n: i for i, n in enumerate(names)}
    graph = nx.Graph()
    graph.add_edges_from((rank[a], rank[b]) for a, b in edges)
    shares = {s: x for s, x in (("train", cfg.train), ("val", cfg.val), ("test", cfg.test)) if x > 0}
    total = graph.number_of_edges()
    if not total:
        return {}, {"communities": 0, "links": 0}
    comms = _communities(graph, min(shares.values()) * total, cfg.seed)
    order = sorted(comms, key=lambda c: (-_inside(graph, c),
                                         hashlib.sha256(f"{cfg.seed}\x00{names[c[0]]}".encode()).digest()))
    where: dict[int, str] = {}
    got = {s: 0 for s in shares}
    for c in order:  # heaviest first, into the split that most lacks links
        s = max(shares, key=lambda s: (shares[s] * total - got[s], s))
        got[s] += _inside(graph, c)
        where.update({n: s for n in c})
    _refine(graph, order[::-1], where, shares)
    inside = _links_inside(graph, where)
    kept = sum(inside.values())
    figures = {"communities": len(comms), "links": total, "links_inside_splits": kept,
               "largest_community": max(len(c) for c in comms),
               "link_shares": {s: round(inside.get(s, 0) / kept, 4) if kept else 0.0 for s in ("train", "val", "test")}}
    return {names[i]: s for i, s in where.items()}, figures


def _links_inside(graph, where: dict[int, str]) -> dict[str, int]:
    """Links whose two pages share a split, per split: the pairs each split can make."""
    out: dict[str, int] = {}
    for a, b in graph.edges:
        if where[a] == where[b]:
            out[where[a]] = out.get(where[a], 0) + 1
    return out


def _refine(graph, comms: list[list[int]], where: dict[int, str], shares: dict[str, float], passes: int = 5):
    """Move whole communities (lightest first) while that brings the splits' links-inside shares closer to
    the configured ones: links between two communities that land in one split count too, which the
    placement above cannot see."""
    inside = _links_inside(graph, where)

    def gap(counts):
        total = sum(counts.values()) or 1
        return sum(abs(counts.get(s, 0) / total - x) for s, x in shares.items())

    for _ in range(passes):
        moved = False
        for c in comms:
            here = where[c[0]]
            members = set(c)
            to: dict[str, int] = {}
            for n in c:
                for m in graph.neighbors(n):
                    t = "." if m in members else where[m]
                    to[t] = to.get(t, 0) + 1
            own = to.get(".", 0) // 2  # links inside the community, seen from both ends
            best, best_gap = None, gap(inside)
            for s in shares:
                if s == here:
                    continue
                trial = dict(inside)
                trial[here] = trial.get(here, 0) - own - to.get(here, 0)
                trial[s] = trial.get(s, 0) + own + to.get(s, 0)
                g = gap(trial)
                if g < best_gap - 1e-12:
                    best, best_gap = (s, trial), g
            if best:
                where.update({n: best[0] for n in c})
                inside = best[1]
                moved = True
        if not moved:
            break
