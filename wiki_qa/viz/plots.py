"""The report's plots, as SVG files (viz/svg.py). Every function takes plain data (counts, never rows) and
a path. Token lengths come as histograms {length: rows}: the chunker's own counts for chunk rows, so no
row is tokenized again to draw them."""
from __future__ import annotations

from pathlib import Path

from wiki_qa.viz.svg import Figure, hbars, nice_ticks

SPLIT_COLORS = {"train": "#1f77b4", "val": "#ff7f0e", "test": "#2ca02c"}
OTHER_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
GROUP_COLORS = {"source": "#8c564b", "stages": "#9467bd", "dedup": "#d62728", "generation": "#e377c2",
                "decontaminate": "#7f7f7f", "quality": "#bcbd22", "judge": "#d62728"}


def _color(split: str, i: int) -> str:
    return SPLIT_COLORS.get(split, OTHER_COLORS[i % len(OTHER_COLORS)])


def _write(fig: Figure, path) -> None:
    Path(path).write_text(fig.svg(), encoding="utf-8")


def quantile(hist: dict[int, int], q: float) -> float:
    """numpy.percentile's default (linear) over the values a histogram {value: count} stands for."""
    items = sorted((int(k), int(v)) for k, v in hist.items() if v)
    n = sum(v for _, v in items)
    if not n:
        return 0.0
    pos = q * (n - 1)
    lo_i, frac = int(pos), pos - int(pos)

    def at(i: int) -> int:
        seen = 0
        for k, v in items:
            seen += v
            if i < seen:
                return k
        return items[-1][0]

    lo = at(lo_i)
    return lo + (at(lo_i + 1) - lo) * frac if frac else float(lo)


def _binned(hist: dict[int, int], edges: list[float]) -> list[int]:
    out = [0] * (len(edges) - 1)
    width = edges[1] - edges[0]
    for k, v in hist.items():
        out[min(len(out) - 1, max(0, int((int(k) - edges[0]) // width)))] += v
    return out


def lengths(data: dict[str, dict[str, dict[int, int]]], path, *, max_tokens: dict[str, int] | None = None,
            title: str = "") -> None:
    """data: field -> split -> {token count: rows}. One panel per field, the splits overlaid."""
    fields = list(data) or ["(none)"]
    pw, ph = 460, 250
    fig = Figure(70 + len(fields) * (pw + 80), ph + 120, title)
    for n, field in enumerate(fields):
        per_split = {s: h for s, h in data.get(field, {}).items() if sum(h.values())}
        every: dict[int, int] = {}
        for h in per_split.values():
            for k, v in h.items():
                every[int(k)] = every.get(int(k), 0) + v
        limit = (max_tokens or {}).get(field)
        hi = max([1, *every, *([limit] if limit else [])])
        bins = min(40, hi + 1)
        width = -(-(hi + 1) // bins)
        edges = [i * width for i in range(bins + 1)]
        counts = {s: _binned(h, edges) for s, h in per_split.items()}
        yticks = nice_ticks(max([max(c) for c in counts.values()] or [1]))
        sub = (f"{field}: p95 {int(quantile(every, 0.95))}, max {max(every, default=0)} tokens" if every
               else f"{field}: no rows")
        p = fig.panel(70 + n * (pw + 80), 50, pw, ph, xmax=edges[-1], ymax=yticks[-1])
        legend = []
        for i, (split, c) in enumerate(counts.items()):
            color = _color(split, i)
            for b, v in enumerate(c):
                if v:
                    p.bar(edges[b], edges[b + 1], 0, v, color, opacity=0.45)
            h = per_split[split]
            legend.append((f"{split} (n={sum(h.values())}, median {int(quantile(h, 0.5))})", color))
        if limit:
            p.vline(limit, f"max_tokens={limit}")
        p.axes(title=sub, xlabel="tokens (cl100k_base)", ylabel="rows", xticks=nice_ticks(edges[-1]), yticks=yticks)
        p.legend(legend)
    _write(fig, path)


def per_document(counts: dict[str, dict[str, int]], titles: dict[str, str], path, *, top: int = 15) -> None:
    """counts: doc_id -> split -> rows. Left: how many rows each document gave; right: the top documents."""
    totals = {d: sum(v.values()) for d, v in counts.items()}
    per: dict[int, int] = {}
    for t in totals.values():
        per[t] = per.get(t, 0) + 1
    fig = Figure(1040, 140 + 22 * min(top, len(totals)))
    hi = max(per, default=1)
    yticks = nice_ticks(max(per.values(), default=1))
    p = fig.panel(60, 40, 330, 220, xmin=0.5, xmax=hi + 0.5, ymax=yticks[-1])
    for k, v in per.items():
        p.bar(k - 0.4, k + 0.4, 0, v, "#1f77b4")
    mean = sum(totals.values()) / max(1, len(totals))
    p.axes(title=f"{len(totals)} documents, mean {mean:.1f} rows each", xlabel="rows per document",
           ylabel="documents", xticks=[t for t in nice_ticks(hi) if t >= 1] or [1], yticks=yticks)
    best = sorted(totals, key=lambda d: (-totals[d], d))[:top]
    splits = sorted({s for v in counts.values() for s in v},
                    key=lambda s: list(SPLIT_COLORS).index(s) if s in SPLIT_COLORS else 9)
    series = [(s, [counts[d].get(s, 0) for d in best], _color(s, i)) for i, s in enumerate(splits)]
    hbars(fig, 640, 40, 360, [_short(titles.get(d) or d) for d in best], series,
          title=f"top {len(best)} documents by rows", xlabel="rows")
    _write(fig, path)


def rejections(reasons: list[tuple[str, str, int]], path) -> None:
    """reasons: (group, reason, count), one horizontal bar each, coloured by group."""
    reasons = [r for r in reasons if r[2]]
    groups = list(dict.fromkeys(g for g, _, _ in reasons))
    fig = Figure(900, 100 + 22 * len(reasons))
    series = [(g, [n if rg == g else 0 for rg, _, n in reasons], GROUP_COLORS.get(g, "#17becf")) for g in groups]
    hbars(fig, 300, 40, 520, [f"{g}: {_short(r, 40)}" for g, r, _ in reasons], series,
          title="why input did not become rows", xlabel="items rejected / skipped",
          value_labels=[str(n) for _, _, n in reasons])
    _write(fig, path)


def stages(timings: list[tuple[str, float, str]], path, *, cost_usd: float | None = None) -> None:
    """timings: (stage, seconds, kind) with kind "wall" (build steps) or "inside" (summed over workers)."""
    fig = Figure(900, 100 + 22 * len(timings))
    labels = [s + ("" if k == "wall" else " (in stages)") for s, _, k in timings]
    series = [(name, [t if k == kind else 0.0 for _, t, k in timings], color)
              for name, kind, color in (("wall clock", "wall", "#1f77b4"), ("inside stages", "inside", "#aec7e8"))]
    values = [f"{t:.2f} s" + (f"  ${cost_usd:.4f}" if s == "generate" and cost_usd is not None else "")
              for s, t, _ in timings]
    hbars(fig, 200, 40, 600, labels, series, value_labels=values, xlabel="seconds",
          title="time per stage" + (f" (LLM cost ${cost_usd:.4f})" if cost_usd is not None else ""))
    _write(fig, path)


def judge_scores(hist: dict[str, int], min_score: int, unjudged: int, path, *, model: str = "") -> None:
    """The judge's 1-5 histogram: kept scores in blue, dropped ones in red (plus items it could not score)."""
    labels = [str(k) for k in range(1, 6)] + (["none"] if unjudged else [])
    counts = [int(hist.get(str(k), 0)) for k in range(1, 6)] + ([unjudged] if unjudged else [])
    fig = Figure(620, 330)
    yticks = nice_ticks(max(counts, default=1) * 1.15)
    p = fig.panel(60, 40, 520, 230, xmax=len(labels), ymax=yticks[-1])
    for i, (lab, n) in enumerate(zip(labels, counts)):
        kept = lab != "none" and int(lab) >= min_score
        p.bar(i + 0.15, i + 0.85, 0, n, "#1f77b4" if kept else "#d62728")
        fig.text(p.px(i + 0.5), p.py(n) - 4, n, size=10, anchor="middle")
        fig.text(p.px(i + 0.5), p.y + p.h + 16, lab, size=10, anchor="middle")
    p.axes(title=f"judge scores by {_short(model, 40)}: {sum(counts)} items",
           xlabel=f"judge score (kept from {min_score})", ylabel="items", yticks=yticks)
    _write(fig, path)


def _short(s: str, n: int = 32) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 1] + "…"
