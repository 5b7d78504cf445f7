"""Bar charts as SVG text: the report's plots, drawn in milliseconds with nothing to import.

Why not matplotlib (which drew them before): importing it and drawing four figures took 1.4 s of a build's
3 s on a quiet machine (issue 22), and the page must cost under 5% of the build. Every plot here is bars
on linear axes, which take a few rectangles and lines; browsers, the Hub and GitHub show SVG as they show
PNG. Every string is XML-escaped (titles come from the data).
"""
from __future__ import annotations

import math
from html import escape

FONT = 'font-family="Helvetica,Arial,sans-serif"'


def _e(s) -> str:
    return escape(str(s), quote=True)


def nice_ticks(hi: float, n: int = 5) -> list[float]:
    """0 and round steps up to at least `hi` (1, 2 or 5 times a power of ten)."""
    if hi <= 0:
        return [0, 1]
    raw = hi / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    if step < 1 and hi >= 1:
        step = 1
    count = math.ceil(hi / step - 1e-9)
    return [round(i * step, 10) for i in range(count + 1)]


def _num(v: float) -> str:
    return f"{int(v)}" if float(v).is_integer() else f"{v:g}"


class Panel:
    """One plot area at (x, y) of size w x h inside a figure, with linear x and y scales."""

    def __init__(self, fig: Figure, x: float, y: float, w: float, h: float, xmax: float, ymax: float,
                 xmin: float = 0.0):
        self.fig, self.x, self.y, self.w, self.h = fig, x, y, w, h
        self.xmin, self.xmax, self.ymax = xmin, max(xmax, xmin + 1e-9), max(ymax, 1e-9)

    def px(self, v: float) -> float:
        return self.x + (v - self.xmin) / (self.xmax - self.xmin) * self.w

    def py(self, v: float) -> float:
        return self.y + self.h - v / self.ymax * self.h

    def bar(self, x0: float, x1: float, y0: float, y1: float, color: str, opacity: float = 1.0) -> None:
        """A rectangle in data coordinates."""
        left, right, top, bottom = self.px(x0), self.px(x1), self.py(y1), self.py(y0)
        self.fig.add(f'<rect x="{left:.1f}" y="{top:.1f}" width="{max(0.0, right - left):.1f}" '
                     f'height="{max(0.0, bottom - top):.1f}" fill="{color}" fill-opacity="{opacity}"/>')

    def axes(self, title: str = "", xlabel: str = "", ylabel: str = "", xticks=None, yticks=None,
             ylabels: list[tuple[float, str]] | None = None) -> None:
        f, x, y, w, h = self.fig, self.x, self.y, self.w, self.h
        f.add(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="none" stroke="#9aa3b5"/>')
        for t in xticks or []:
            p = self.px(t)
            f.add(f'<line x1="{p:.1f}" y1="{y + h}" x2="{p:.1f}" y2="{y + h + 4}" stroke="#555"/>')
            f.text(p, y + h + 16, _num(t), size=10, anchor="middle")
        for t in yticks or []:
            p = self.py(t)
            f.add(f'<line x1="{x - 4}" y1="{p:.1f}" x2="{x}" y2="{p:.1f}" stroke="#555"/>'
                  f'<line x1="{x}" y1="{p:.1f}" x2="{x + w}" y2="{p:.1f}" stroke="#e6e9f0"/>')
            f.text(x - 6, p + 3.5, _num(t), size=10, anchor="end")
        for p, label in ylabels or []:
            f.text(x - 6, p + 3.5, label, size=10, anchor="end")
        if title:
            f.text(x + w / 2, y - 8, title, size=12, anchor="middle")
        if xlabel:
            f.text(x + w / 2, y + h + 32, xlabel, size=11, anchor="middle")
        if ylabel:
            f.add(f'<text transform="translate({x - 40},{y + h / 2}) rotate(-90)" {FONT} font-size="11" '
                  f'text-anchor="middle">{_e(ylabel)}</text>')

    def vline(self, v: float, label: str = "") -> None:
        p = self.px(v)
        self.fig.add(f'<line x1="{p:.1f}" y1="{self.y}" x2="{p:.1f}" y2="{self.y + self.h}" stroke="#000" '
                     'stroke-dasharray="5,4"/>')
        if label:
            self.fig.text(p - 3, self.y + 12, label, size=10, anchor="end")

    def legend(self, items: list[tuple[str, str]]) -> None:
        """One row under the x axis label, clear of the bars."""
        lx, ly = self.x, self.y + self.h + 40
        for label, color in items:
            self.fig.add(f'<rect x="{lx:.1f}" y="{ly}" width="10" height="10" fill="{color}" fill-opacity="0.6"/>')
            self.fig.text(lx + 14, ly + 9, label, size=10)
            lx += 24 + 5.6 * len(str(label))


class Figure:
    def __init__(self, width: float, height: float, title: str = ""):
        self.width, self.height, self.parts = width, height, []
        if title:
            self.text(width / 2, 18, title, size=13, anchor="middle", weight="bold")

    def add(self, svg: str) -> None:
        self.parts.append(svg)

    def text(self, x: float, y: float, s, *, size: int = 11, anchor: str = "start", weight: str = "normal") -> None:
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" {FONT} font-size="{size}" text-anchor="{anchor}" '
                 f'font-weight="{weight}" fill="#1d2330">{_e(s)}</text>')

    def panel(self, *args, **kwargs) -> Panel:
        return Panel(self, *args, **kwargs)

    def svg(self) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
                f'viewBox="0 0 {self.width} {self.height}"><rect width="100%" height="100%" fill="#fff"/>'
                + "".join(self.parts) + "</svg>\n")


def hbars(fig: Figure, x: float, y: float, w: float, labels: list[str], series: list[tuple[str, list[float], str]],
          *, title: str = "", xlabel: str = "", value_labels: list[str] | None = None, row: float = 22) -> Panel:
    """Horizontal bars, one row per label (top to bottom), the series stacked left to right."""
    totals = [sum(vals[i] for _, vals, _ in series) for i in range(len(labels))]
    ticks = nice_ticks(max(totals, default=0) * (1.15 if value_labels else 1.0))
    p = fig.panel(x, y, w, max(row, row * len(labels)), xmax=ticks[-1], ymax=max(1, len(labels)))
    for i in range(len(labels)):
        left = 0.0
        top = len(labels) - i
        for _, vals, color in series:
            p.bar(left, left + vals[i], top - 0.85, top - 0.15, color)
            left += vals[i]
        if value_labels:
            fig.text(p.px(left) + 4, p.py(top - 0.5) + 4, value_labels[i], size=10)
    p.axes(title=title, xlabel=xlabel, xticks=ticks,
           ylabels=[(p.py(len(labels) - i - 0.5), lab) for i, lab in enumerate(labels)])
    if len(series) > 1:
        p.legend([(name, color) for name, _, color in series])
    return p
