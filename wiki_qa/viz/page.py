"""`wiki-qa report DIR`: an HTML page with SVG plots about one build folder.

Reads the save_to_disk folder (rows) and build_report.json (counts, rejections, timings, cost). Every
string taken from the data is HTML-escaped: rows are wiki text and may hold `<script>`.
"""
from __future__ import annotations

import datetime
import html
import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

from wiki_qa.errors import UserError
from wiki_qa.rows import SPLITS
from wiki_qa.viz import MAIN_PLOT, REPORT_DIR, judged

log = logging.getLogger("wiki_qa")
SAMPLE_CHARS = 700
QUALITY_MARK = "<!-- wiki_qa:quality -->"
OLD_MAIN_PLOT = "report/lengths.png"  # the PNG the report drew before its plots were SVG


# ---- reading a build ---------------------------------------------------------------------------------
def load_build(out_dir) -> tuple[dict, dict]:
    """(split -> Dataset, build report or {}) for a build folder; UserError if it is not one."""
    folder = Path(out_dir)
    if not folder.is_dir():
        raise UserError(f"{out_dir}: no such build folder")
    if not (folder / "dataset_dict.json").exists() and not (folder / "state.json").exists():
        raise UserError(f"{out_dir}: not a build folder (no dataset_dict.json); run `wiki-qa build` first")
    report: dict = {}
    if (folder / "build_report.json").exists():
        try:
            report = json.loads((folder / "build_report.json").read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise UserError(f"{folder / 'build_report.json'}: not valid JSON ({e})") from None
        if not isinstance(report, dict):
            raise UserError(f"{folder / 'build_report.json'}: not a JSON object")
    from datasets import Dataset, load_from_disk

    try:
        loaded = load_from_disk(str(folder))
    except Exception as e:  # noqa: BLE001 - a broken folder is the user's input, not our bug
        raise UserError(f"{out_dir}: cannot load the dataset ({type(e).__name__}: {e})") from None
    splits = {"data": loaded} if isinstance(loaded, Dataset) else dict(loaded)
    order = [s for s in SPLITS if s in splits] + sorted(s for s in splits if s not in SPLITS)
    return {s: splits[s] for s in order}, report


def text_fields(columns: list[str]) -> list[str]:
    """The columns whose token lengths matter for training, in the order a reader expects them."""
    return [c for c in ("messages", "prompt", "completion", "chosen", "rejected", "text") if c in columns]


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):  # messages: [{role, content}]
        return "\n".join(str(m.get("content") or "") if isinstance(m, dict) else str(m) for m in value)
    return str(value)


def _indices(n: int, max_rows: int) -> list[int] | None:
    """Evenly spaced rows when a split is larger than max_rows (deterministic; None = all rows)."""
    if n <= max_rows:
        return None
    if max_rows <= 1:
        return [0]
    return [int(i * (n - 1) / (max_rows - 1)) for i in range(max_rows)]


def token_lengths(splits: dict, report: dict, max_rows: int) -> tuple[dict, dict[str, bool]]:
    """field -> split -> {tokens: rows}, and split -> whether its rows were sampled. Chunk rows that reached
    the output as the chunker made them take the chunker's own counts (build_report.json `chunk_lengths`):
    nothing is tokenized again. Other rows (generated examples, example sources, a build whose steps
    dropped chunks) are counted, evenly spaced rows when a split has more than max_rows."""
    known = chunker_lengths(splits, report)
    if known is not None:
        return {"text": known}, {s: False for s in splits}
    from wiki_qa.tokens import counter

    count = counter("cl100k_base")
    out: dict[str, dict[str, dict[int, int]]] = defaultdict(dict)
    sampled: dict[str, bool] = {}
    for split, ds in splits.items():
        idx = _indices(ds.num_rows, max_rows)
        sampled[split] = idx is not None
        part = ds if idx is None else ds.select(idx)
        for field in text_fields(ds.column_names):
            hist: dict[int, int] = {}
            for batch in part.select_columns([field]).iter(batch_size=256):
                for value in batch[field]:
                    n = count(_as_text(value))
                    hist[n] = hist.get(n, 0) + 1
            out[field][split] = hist
    return dict(out), sampled


def chunker_lengths(splits: dict, report: dict) -> dict[str, dict[int, int]] | None:
    """split -> {tokens: rows} from the chunker, when the rows are its chunks, all of them, as text."""
    lengths = report.get("chunk_lengths") or {}
    cfg = report.get("config") or {}
    if lengths.get("unit") != "tokens (cl100k_base)" or cfg.get("generate") \
            or (cfg.get("format") or {}).get("type", "text") != "text":
        return None
    by_split = lengths.get("by_split") or {}
    out = {s: {int(k): int(v) for k, v in (by_split.get(s) or {}).items()} for s in splits}
    if any("text" not in ds.column_names or sum(out[s].values()) != ds.num_rows for s, ds in splits.items()):
        return None  # a step after the chunker dropped or changed rows (dedup, decontamination)
    return out


def per_document(splits: dict) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """doc_id -> split -> rows, and doc_id -> its first title (Arrow group-bys over two columns)."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    titles: dict[str, str] = {}
    for split, ds in splits.items():
        if "doc_id" not in ds.column_names or not ds.num_rows:
            continue
        cols = ["doc_id"] + (["title"] if "title" in ds.column_names else [])
        table = ds.select_columns(cols).with_format("arrow")[:]
        aggs = [("doc_id", "count")] + ([("title", "first")] if "title" in cols else [])
        grouped = table.group_by("doc_id", use_threads=False).aggregate(aggs).to_pydict()
        for i, d in enumerate(grouped["doc_id"]):
            counts[d][split] = grouped["doc_id_count"][i]
            if "title_first" in grouped:
                titles.setdefault(d, grouped["title_first"][i])
    return dict(counts), titles


def rejection_reasons(report: dict) -> list[tuple[str, str, int]]:
    """(group, reason, count) from every section of build_report.json that records dropped input."""
    out: list[tuple[str, str, int]] = []

    def add(group, mapping):
        for k, v in (mapping or {}).items():
            if isinstance(v, (int, float)) and v:
                out.append((group, str(k), int(v)))

    add("source", (report.get("source") or {}).get("skipped"))
    add("stages", report.get("dropped"))
    for key in ("dedup", "dedup_generated"):
        d = report.get(key) or {}
        name = "dedup" if key == "dedup" else "dedup"
        suffix = "" if key == "dedup" else " (generated)"
        for kind in ("exact", "near"):
            if d.get(kind):
                out.append((name, f"{kind} duplicate{suffix}", int(d[kind])))
    dec = report.get("decontaminate") or {}
    if dec.get("removed"):
        out.append(("decontaminate", "overlaps an eval set", int(dec["removed"])))
    llm = report.get("llm") or {}
    add("generation", {f"chunk failed: {k}": v for k, v in (llm.get("failures") or {}).items()})
    add("generation", {f"item dropped: {k}": v for k, v in (llm.get("dropped_items") or {}).items()})
    quality = report.get("quality") or {}
    add("quality", quality.get("removed") or quality.get("rejected"))
    return out


def stage_timings(report: dict) -> list[tuple[str, float, str]]:
    t = report.get("timings_s") or {}
    wall = [(k, float(t[k]), "wall") for k in ("stages", "generate", "format", "write") if t.get(k) is not None]
    inside = [(k, float(t[k]), "inside") for k in ("read", "clean", "chunk") if t.get(k) is not None]
    known = {k for k, _, _ in wall + inside} | {"total"}
    wall += [(k, float(v), "wall") for k, v in t.items() if k not in known and isinstance(v, (int, float))]
    return wall + inside


# ---- writing -----------------------------------------------------------------------------------------
def write_page(out_dir, *, sample: int = 5, max_rows: int = 5_000, update_card: bool = True) -> Path:
    from wiki_qa.viz import plots

    folder = Path(out_dir)
    splits, report = load_build(folder)
    rdir = folder / REPORT_DIR
    rdir.mkdir(parents=True, exist_ok=True)
    for old in [*rdir.glob("*.png"), *rdir.glob("*.svg")]:
        old.unlink()
    name = report.get("name") or folder.name
    cfg = report.get("config") or {}

    lengths, sampled = token_lengths(splits, report, max_rows)
    chunk = cfg.get("chunk") or {}
    limits = {"text": int(chunk["max_tokens"])} if chunk.get("by", "tokens") == "tokens" and chunk.get(
        "max_tokens") and (cfg.get("format") or {}).get("type", "text") == "text" and not cfg.get("generate") else {}
    plots.lengths(lengths, rdir / Path(MAIN_PLOT).name, max_tokens=limits,
                  title=f"{name}: token lengths per split and field")
    images = {"lengths": Path(MAIN_PLOT).name}

    counts, titles = per_document(splits)
    if counts:
        plots.per_document(counts, titles, rdir / "documents.svg")
        images["documents"] = "documents.svg"
    reasons = rejection_reasons(report) + judged.rejections(report)
    if reasons:
        plots.rejections(reasons, rdir / "rejections.svg")
        images["rejections"] = "rejections.svg"
    timings = stage_timings(report)
    llm = report.get("llm") or {}
    cost = llm.get("cost_usd") if llm else None
    if timings:
        plots.stages(timings, rdir / "stages.svg", cost_usd=cost)
        images["stages"] = "stages.svg"

    judge_image = judged.plot(report, rdir)
    page = render_html(name, folder, splits, report, lengths, sampled, counts, reasons, timings, images, sample)
    page = page.replace(QUALITY_MARK, judged.section(report, judge_image), 1)
    index = rdir / "index.html"
    index.write_text(page, encoding="utf-8")
    if update_card:
        link_plot_in_card(folder)
    return index


def link_plot_in_card(folder: Path) -> None:
    """A card written before the report existed (`wiki-qa report` on an old build) gets the plot too."""
    readme = folder / "README.md"
    if not readme.exists():
        return
    from wiki_qa.publish.card import main_plot_markdown

    line = main_plot_markdown(folder)
    text = readme.read_text(encoding="utf-8")
    if OLD_MAIN_PLOT in text and (folder / MAIN_PLOT).exists():  # a card of a build from before the SVG plots
        readme.write_text(text.replace(OLD_MAIN_PLOT, MAIN_PLOT), encoding="utf-8")
        return
    if not line or MAIN_PLOT in text:
        return
    lines = text.split("\n")
    at = next((i for i, x in enumerate(lines) if x.startswith("# ")), None)
    if at is None:
        lines[:0] = [line, ""]
    else:
        lines[at + 1:at + 1] = ["", line]
    readme.write_text("\n".join(lines), encoding="utf-8")


def _shown_path(folder: Path) -> str:
    """The folder's name as the user will find it (a build writes `.NAME.tmp-PID` and renames it to NAME).
    Only the name: the report is published with the build, and the full path shows the builder's home."""
    import re

    m = re.fullmatch(r"\.(.+)\.tmp-\d+", folder.name)
    return m.group(1) if m else folder.resolve().name


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(rows, header, cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1180px;
color:#1d2330;background:#fff;padding:0 16px}
h1{margin-bottom:4px}h2{border-bottom:2px solid #e3e7ef;padding-bottom:4px;margin-top:32px}
.meta{color:#5b6478;font-size:14px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:14px}
th,td{border:1px solid #d5dbe6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef2f8}
td.num,th.num{text-align:right}
img{max-width:100%;border:1px solid #e3e7ef;margin:8px 0}
table.rows td{max-width:760px}
.cell{white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;max-height:220px;
overflow:auto;display:block}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{background:#f5f7fb;border:1px solid #e3e7ef;border-radius:6px;padding:10px 16px;min-width:120px}
.card b{display:block;font-size:22px}
"""


def _stat_rows(lengths, sampled) -> list[tuple]:
    from wiki_qa.viz.plots import quantile

    rows = []
    for field, per in lengths.items():
        for split, hist in per.items():
            n = sum(hist.values())
            if n:
                rows.append((field, split + (" (sampled)" if sampled.get(split) else ""), n, min(hist),
                             int(quantile(hist, 0.5)), int(quantile(hist, 0.95)), max(hist),
                             sum(k * v for k, v in hist.items())))
    return rows


LLM_KEYS = ("requests", "cache_hits", "retries", "prompt_tokens", "completion_tokens", "cost_usd", "examples",
            "requests_per_s", "elapsed_s")


def llm_tables(title: str, llm: dict) -> str:
    """One LLM pass (the generation, or the judge): its counts, then its rate-limit waits and its Batch API
    jobs, each shown even when empty, so a reader sees that nothing waited and nothing was batched."""
    counts = _table([(k, llm.get(k)) for k in LLM_KEYS if llm.get(k) is not None]
                    + [(f"outcome: {k}", v) for k, v in (llm.get("outcomes") or {}).items()], (title, "value"))
    # where the time went when a rate limit binds (seconds, summed over workers)
    waits = [("rate_limited", llm.get("rate_limited") or 0)] + [
        (f"waited on limit: {k} (s)", v) for k, v in (llm.get("limit_wait_s") or {}).items()]
    out = [counts, _table(waits, (f"{title}: rate limits (429 replies, seconds waited)", "value"))]
    batch = llm.get("batch") or {}
    if batch:
        out.append(_table([(f"batch: {k}", v if not isinstance(v, (dict, list)) else json.dumps(v))
                           for k, v in batch.items()], (f"{title}: Batch API jobs", "value")))
    else:
        out.append(f"<p>{_e(title)}: no Batch API jobs (every request was sent online).</p>")
    return "\n".join(out)


def render_html(name, folder, splits, report, lengths, sampled, counts, reasons, timings, images,
                sample) -> str:
    src = report.get("source") or {}
    total = sum(ds.num_rows for ds in splits.values())
    llm = report.get("llm") or {}
    cards = [("rows", total)] + [(s, ds.num_rows) for s, ds in splits.items()]
    if src.get("documents") is not None:
        cards.append(("documents", src["documents"]))
    if report.get("chunks") is not None:
        cards.append(("chunks", report["chunks"]))
    if llm:
        cards.append(("LLM cost", f"${float(llm.get('cost_usd') or 0):.4f}"))
    t = (report.get("timings_s") or {}).get("total")
    if t is not None:
        cards.append(("build time", f"{float(t):.1f} s"))
    versions = ", ".join(f"{k} {v}" for k, v in (report.get("versions") or {}).items())
    files = [Path(str(f.get("path", ""))).name for f in src.get("files") or []]

    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{_e(name)} - wiki_qa report</title><style>{CSS}</style></head><body>",
           f"<h1>{_e(name)}</h1>",
           f'<p class="meta">Build folder <code>{_e(_shown_path(folder))}</code>'
           + (f" &middot; input {_e(', '.join(files))}" if files else "")
           + (f" &middot; {_e(versions)}" if versions else "")
           + (f" &middot; finished {_e(report['finished_at'])}" if report.get("finished_at") else "")
           + f" &middot; report written {_e(datetime.datetime.now().isoformat(timespec='seconds'))}</p>",
           '<div class="cards">' + "".join(f'<div class="card">{_e(k)}<b>{_e(v)}</b></div>' for k, v in cards)
           + "</div>"]
    if src.get("truncated"):
        out.append("<p><b>The input was truncated</b> (a dump cut off mid-page).</p>")
    limit = (report.get("config") or {}).get("limit")
    if limit:
        out.append(f"<p><b>Partial build</b>: at most {_e(limit)} documents were read per input file (--limit).</p>")

    out += ["<h2>Token lengths per split and field</h2>",
            f'<img src="{_e(images["lengths"])}" alt="token length histograms">',
            _table(_stat_rows(lengths, sampled), ("field", "split", "rows", "min", "median", "p95", "max",
                                                  "total tokens"))]
    if any(sampled.values()):
        out.append('<p class="meta">Splits marked "sampled" were measured on evenly spaced rows.</p>')

    out.append("<h2>Examples per source document</h2>")
    if counts:
        totals = sorted(((sum(v.values()), d) for d, v in counts.items()), reverse=True)
        out.append(f'<img src="{_e(images["documents"])}" alt="rows per source document">')
        out.append(f"<p>{len(counts)} documents gave {sum(n for n, _ in totals)} rows; the most rows from one "
                   f"document: {totals[0][0]} (<code>{_e(totals[0][1])}</code>).</p>")
    else:
        out.append("<p>The rows have no <code>doc_id</code> column.</p>")

    out.append("<h2>Rejection reasons</h2>")
    if reasons:
        out.append(f'<img src="{_e(images["rejections"])}" alt="rejection reasons">')
        out.append(_table(reasons, ("stage", "reason", "count")))
    elif report:
        out.append("<p>Nothing was skipped or rejected.</p>")
    else:
        out.append("<p>No build_report.json in this folder.</p>")

    out.append("<h2>Cost and time per stage</h2>")
    if timings:
        out.append(f'<img src="{_e(images["stages"])}" alt="time per stage">')
    trows = [(k, f"{v:.3f}", "wall clock" if kind == "wall" else "inside stages, summed over workers")
             for k, v, kind in timings]
    if (report.get("timings_s") or {}).get("total") is not None:
        trows.append(("total", f"{float(report['timings_s']['total']):.3f}", "wall clock"))
    out.append(_table(trows, ("stage", "seconds", "measured as")) if trows else "<p>No timings recorded.</p>")
    if llm:
        out.append(llm_tables("LLM step", llm))
        judge_llm = (report.get("judge") or {}).get("llm")
        if judge_llm:
            out.append(llm_tables("Judge", judge_llm))
    else:
        out.append("<p>No LLM step in this build: it cost nothing.</p>")

    out.append(QUALITY_MARK)  # the judge / question mix / evidence sections (viz/judged.py) go here
    out.append(f"<h2>Sample rows (up to {sample} per split)</h2>")
    for split, ds in splits.items():
        out.append(f"<h3>{_e(split)} ({ds.num_rows} rows)</h3>")
        if not ds.num_rows:
            out.append("<p>empty</p>")
            continue
        idx = _indices(ds.num_rows, sample) or list(range(ds.num_rows))
        rows = ds.select(idx).to_list()
        cols = [c for c in ("id", "title") if c in ds.column_names] + text_fields(ds.column_names)
        head = "".join(f"<th>{_e(c)}</th>" for c in cols)
        body = []
        for r in rows:
            cells = []
            for c in cols:
                v = _as_text(r.get(c)) if c != "messages" else "\n".join(
                    f"[{m.get('role')}] {m.get('content')}" for m in r.get(c) or [])
                if len(v) > SAMPLE_CHARS:
                    v = v[:SAMPLE_CHARS] + f" … (+{len(v) - SAMPLE_CHARS} chars)"
                cells.append(f'<td><span class="cell">{_e(v)}</span></td>')
            body.append("<tr>" + "".join(cells) + "</tr>")
        out.append(f'<table class="rows"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')
    out.append('<p class="meta">Written by <code>wiki-qa report</code>.</p></body></html>')
    return "\n".join(out)
