"""The report's PNG plots. matplotlib with the Agg backend only (no display, no GUI toolkit, thread-safe
enough for a CLI); every function takes plain data and a path, and closes its figure."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

SPLIT_COLORS = {"train": "#1f77b4", "val": "#ff7f0e", "test": "#2ca02c"}
GROUP_COLORS = {"source": "#8c564b", "stages": "#9467bd", "dedup": "#d62728", "generation": "#e377c2",
                "decontaminate": "#7f7f7f", "quality": "#bcbd22"}
DPI = 100


def _color(split: str, i: int) -> str:
    return SPLIT_COLORS.get(split, f"C{(i + 3) % 10}")


def _save(fig, path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def lengths(data: dict[str, dict[str, np.ndarray]], path, *, max_tokens: dict[str, int] | None = None,
            title: str = "") -> None:
    """data: field -> split -> token counts. One panel per field, the splits overlaid (step histograms)."""
    fields = list(data)
    fig, axes = plt.subplots(1, max(1, len(fields)), figsize=(5.2 * max(1, len(fields)), 3.6), squeeze=False)
    for ax, field in zip(axes[0], fields):
        per_split = {s: v for s, v in data[field].items() if len(v)}
        allv = np.concatenate(list(per_split.values())) if per_split else np.array([0])
        hi = max(1, int(allv.max()))
        bins = np.linspace(0, hi * 1.02 + 1, min(40, hi + 2))
        for i, (split, v) in enumerate(per_split.items()):
            ax.hist(v, bins=bins, histtype="stepfilled", alpha=0.35, color=_color(split, i),
                    label=f"{split} (n={len(v)}, median {int(np.median(v))})")
            ax.hist(v, bins=bins, histtype="step", color=_color(split, i), linewidth=1.2)
        limit = (max_tokens or {}).get(field)
        if limit:
            ax.axvline(limit, color="black", linestyle="--", linewidth=1)
            ax.text(limit, ax.get_ylim()[1] * 0.95, f" max_tokens={limit}", fontsize=8, va="top")
        ax.set_title(f"{field}: p95 {int(np.percentile(allv, 95))}, max {int(allv.max())} tokens", fontsize=10)
        ax.set_xlabel("tokens (cl100k_base)")
        ax.set_ylabel("rows")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if per_split:
            ax.legend(fontsize=8)
    if not fields:
        axes[0][0].text(0.5, 0.5, "no text columns", ha="center", va="center")
        axes[0][0].set_axis_off()
    if title:
        fig.suptitle(title, fontsize=11)
    _save(fig, path)


def per_document(counts: dict[str, dict[str, int]], titles: dict[str, str], path, *, top: int = 15) -> None:
    """counts: doc_id -> split -> rows. Left: how many rows each document gave; right: the top documents."""
    totals = {d: sum(v.values()) for d, v in counts.items()}
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1, 1.4]})
    vals = np.array(list(totals.values()) or [0])
    hi = int(vals.max())
    a1.hist(vals, bins=np.arange(0.5, hi + 1.5, max(1, (hi + 1) // 30)), color="#1f77b4", edgecolor="white")
    a1.set_title(f"{len(totals)} documents, mean {vals.mean():.1f} rows each", fontsize=10)
    a1.set_xlabel("rows per document")
    a1.set_ylabel("documents")
    a1.xaxis.set_major_locator(MaxNLocator(integer=True))
    a1.yaxis.set_major_locator(MaxNLocator(integer=True))
    best = sorted(totals, key=lambda d: (-totals[d], d))[:top][::-1]
    left = np.zeros(len(best))
    splits = sorted({s for v in counts.values() for s in v}, key=lambda s: list(SPLIT_COLORS).index(s)
                    if s in SPLIT_COLORS else 9)
    for i, split in enumerate(splits):
        w = np.array([counts[d].get(split, 0) for d in best])
        a2.barh(range(len(best)), w, left=left, color=_color(split, i), label=split)
        left += w
    a2.set_yticks(range(len(best)), [_short(titles.get(d) or d) for d in best], fontsize=8)
    a2.set_xlabel("rows")
    a2.xaxis.set_major_locator(MaxNLocator(integer=True))
    a2.set_title(f"top {len(best)} documents by rows", fontsize=10)
    if splits:
        a2.legend(fontsize=8, loc="lower right")
    _save(fig, path)


def rejections(reasons: list[tuple[str, str, int]], path) -> None:
    """reasons: (group, reason, count), drawn as one horizontal bar each, coloured by group."""
    reasons = [r for r in reasons if r[2]]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(reasons) + 1.4))
    y = np.arange(len(reasons))
    ax.barh(y, [r[2] for r in reasons], color=[GROUP_COLORS.get(r[0], "#17becf") for r in reasons])
    ax.set_yticks(y, [f"{g}: {_short(r, 40)}" for g, r, _ in reasons], fontsize=9)
    ax.invert_yaxis()
    for yi, (_, _, n) in zip(y, reasons):
        ax.text(n, yi, f" {n}", va="center", fontsize=8)
    ax.set_xlabel("items rejected / skipped")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("why input did not become rows", fontsize=10)
    ax.margins(x=0.12)
    _save(fig, path)


def stages(timings: list[tuple[str, float, str]], path, *, cost_usd: float | None = None) -> None:
    """timings: (stage, seconds, kind) with kind "wall" (build steps) or "inside" (summed over workers)."""
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(timings) + 1.4))
    y = np.arange(len(timings))
    colors = ["#1f77b4" if k == "wall" else "#aec7e8" for _, _, k in timings]
    ax.barh(y, [t for _, t, _ in timings], color=colors)
    ax.set_yticks(y, [f"{s}" + ("" if k == "wall" else " (in stages)") for s, _, k in timings], fontsize=9)
    ax.invert_yaxis()
    for yi, (s, t, _) in zip(y, timings):
        label = f" {t:.2f} s" + (f"  ${cost_usd:.4f}" if s == "generate" and cost_usd is not None else "")
        ax.text(t, yi, label, va="center", fontsize=8)
    ax.set_xlabel("seconds")
    ax.set_title("time per stage" + (f" (LLM cost ${cost_usd:.4f})" if cost_usd is not None else ""),
                 fontsize=10)
    ax.margins(x=0.18)
    _save(fig, path)


def _short(s: str, n: int = 32) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 1] + "…"


def judge_scores(hist: dict[str, int], min_score: int, unjudged: int, path, *, model: str = "") -> None:
    """The judge's 1-5 histogram: kept scores in blue, dropped ones in red (plus items it could not score)."""
    labels = [str(k) for k in range(1, 6)] + (["none"] if unjudged else [])
    counts = [int(hist.get(str(k), 0)) for k in range(1, 6)] + ([unjudged] if unjudged else [])
    colors = ["#1f77b4" if lab != "none" and int(lab) >= min_score else "#d62728" for lab in labels]
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    ax.bar(labels, counts, color=colors)
    for x, n in zip(labels, counts):
        ax.text(x, n, f"{n}", ha="center", va="bottom", fontsize=8)
    ax.set_xlabel(f"judge score (kept from {min_score})")
    ax.set_ylabel("items")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"judge scores by {_short(model, 40)}: {sum(counts)} items", fontsize=10)
    ax.margins(y=0.15)
    _save(fig, path)
