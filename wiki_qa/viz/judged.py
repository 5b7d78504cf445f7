"""The report's view of item quality: the judge's score histogram and kept/dropped counts, the achieved
question mix, and the evidence spans (build_report.json sections `judge` and `items`)."""
from __future__ import annotations

import html
from pathlib import Path

JUDGE_PLOT = "judge_scores.svg"


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _table(rows, header) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def rejections(report: dict) -> list[tuple[str, str, int]]:
    """(group, reason, count) for the rejection plot: judge drops and removed near-duplicate questions."""
    out = []
    for reason, n in ((report.get("judge") or {}).get("dropped") or {}).items():
        if n:
            out.append(("judge", reason, int(n)))
    dq = report.get("dedup_questions") or {}
    for kind in ("exact", "near"):
        if dq.get(kind):
            out.append(("dedup", f"{kind} duplicate question", int(dq[kind])))
    return out


def plot(report: dict, rdir: Path) -> str | None:
    """The score histogram (bars coloured kept/dropped at min_score); returns the file name, or None."""
    judge = report.get("judge") or {}
    hist = judge.get("histogram") or {}
    if not any(hist.values()) and not judge.get("unjudged"):
        return None
    from wiki_qa.viz import plots

    plots.judge_scores(hist, int(judge.get("min_score") or 1), int(judge.get("unjudged") or 0), rdir / JUDGE_PLOT,
                       model=str(judge.get("model") or "?"))
    return JUDGE_PLOT


def section(report: dict, image: str | None) -> str:
    """HTML for the judge and item-quality sections ("" when the build has neither)."""
    judge, items = report.get("judge") or {}, report.get("items") or {}
    out = []
    if judge:
        out.append("<h2>Judge scores</h2>")
        out.append(f"<p>Model <code>{_e(judge.get('model'))}</code> scored {_e(judge.get('judged', 0))} items from "
                   f"1 to 5; items under <b>{_e(judge.get('min_score'))}</b> were dropped. Kept "
                   f"<b>{_e(judge.get('kept', 0))}</b>, dropped {_e(judge.get('judge_low', 0))} as judge_low and "
                   f"{_e(judge.get('judge_failed', 0))} as judge_failed.</p>")
        if image:
            out.append(f'<img src="{_e(image)}" alt="judge score histogram">')
        rows = [(k, v) for k, v in (judge.get("histogram") or {}).items()]
        if judge.get("unjudged"):
            rows.append(("no score", judge["unjudged"]))
        out.append(_table(rows, ("score", "items")))
        split_rows = [(s, v.get("judged"), v.get("kept"), v.get("judge_low"), v.get("judge_failed"))
                      for s, v in (judge.get("by_split") or {}).items()]
        out.append(_table(split_rows, ("split", "judged", "kept", "judge_low", "judge_failed")))
        vs = judge.get("vs_generation") or {}
        if vs:
            out.append("<p>Judge / generation: " + ", ".join(f"{_e(k)} {_e(v)}x" for k, v in vs.items()
                                                             if v is not None) + "</p>")
    if items:
        out.append("<h2>Question mix and evidence</h2>")
        mix = items.get("question_mix") or {}
        kinds = sorted({k for part in ("target", "planned_kept", "looks_like") for k in mix.get(part) or {}})
        if kinds:
            def share(part, k):
                v = (mix.get(part) or {}).get(k)
                return "" if v is None else (v if isinstance(v, (int, float)) else f"{v['share']} ({v['items']})")
            out.append(_table([(k, share("target", k), share("planned_kept", k), share("looks_like", k))
                               for k in kinds], ("type", "target share", "planned, kept", "looks like (English)")))
            if mix.get("agreement") is not None:
                out.append(f"<p>Questions that look like their planned type: {_e(mix['agreement'])}.</p>")
        diff = (items.get("difficulty") or {}).get("planned_kept") or {}
        if diff:
            out.append(_table([(k, v["items"], v["share"]) for k, v in diff.items()], ("difficulty", "kept", "share")))
        ev = items.get("evidence") or {}
        out.append(f"<p>{_e(ev.get('with_span', 0))} of {_e(items.get('items', 0))} kept items carry an evidence span; "
                   f"{_e(ev.get('round_trip', 0))} round-trip (<code>chunk[start:end] == quote</code>).</p>")
    return "\n".join(out)
