"""The dataset card (README.md): YAML metadata + provenance, written into every build folder.

The same text goes to the Hub. There, `datasets.push_to_hub` owns the `configs`/`dataset_info` YAML keys;
hub.py merges our metadata and this build's body section (one section per config) into that card.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from wiki_qa.publish.public import public_path, public_paths
from wiki_qa.secrets import mask_secrets, redact

# Hub task categories of generated rows, by LLM task (the source's own categories apply otherwise).
TASKS = {"qa": ["question-answering", "text-generation"], "mcq": ["multiple-choice", "question-answering"],
         "paraphrase": ["text-generation"], "qa_multihop": ["question-answering", "text-generation"]}
UNKNOWN_LICENSE = {"id": "unknown", "name": "unknown", "note": "The source's licence is not recorded."}
LANG_ALIASES = {"simple": "en"}  # simplewiki is English
MAIN_PLOT = "report/lengths.svg"  # written by `wiki-qa report` (wiki_qa.viz); linked when present


def main_plot_markdown(out_dir: Path | None) -> str:
    """The card's image line for the report's main plot (relative path), or "" if there is no report."""
    if out_dir is None or not (Path(out_dir) / MAIN_PLOT).exists():
        return ""
    return f"![Token lengths per split]({MAIN_PLOT}) ([full report](report/index.html))"


def size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M")):
        if n < limit:
            return label
    return "100M<n<1B"


def _row_languages(out_dir: Path) -> list[str]:
    """Languages actually present in the rows (a multi-language build), read from the `lang` column."""
    langs: set[str] = set()
    try:
        from datasets import load_from_disk

        dd = load_from_disk(str(out_dir))
        for ds in dd.values():
            if "lang" in ds.column_names and len(ds):
                langs.update(x for x in ds.unique("lang") if x)
    except Exception:  # card writing must never break a build: fall back to the config's lang
        pass
    return sorted(langs)


def card_metadata(report: dict, out_dir: Path | None = None) -> dict:
    cfg = report.get("config") or {}
    source = cfg.get("source") or {}
    stype = source.get("type", "text")
    facts = report.get("source") or {}
    license_id = (facts.get("license") or UNKNOWN_LICENSE)["id"]
    langs = set(_row_languages(out_dir) if out_dir else [])
    if source.get("lang"):
        langs.add(str(source["lang"]))
    langs = sorted({LANG_ALIASES.get(x, x) for x in langs})
    gen = cfg.get("generate") or {}
    generated = gen and facts.get("kind", "documents") == "documents"
    tasks = (TASKS.get(gen.get("task")) if generated else None) or facts.get("task_categories") \
        or ["text-generation"]
    total = sum((report.get("splits") or {}).values())
    meta: dict[str, Any] = {"license": license_id}
    if langs:
        meta["language"] = langs
    meta.update({"task_categories": tasks, "size_categories": [size_category(total)],
                 "pretty_name": report.get("name") or "wiki_qa build",
                 "tags": sorted({"wiki_qa", f"source:{stype}", f"format:{_format_name(cfg)}"}
                                | ({"synthetic"} if gen else set()))})
    return meta


def _table(rows: list[tuple], header: tuple) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def render_body(report: dict, config_yaml: str, *, config_name: str | None = None, hub: str | None = None) -> str:
    """The markdown body for one build (one Hub config). Headings are level 2+ so sections can stack.
    `hub` (ORG/NAME) switches the "Load" snippet to `load_dataset(hub, config_name)`."""
    # belt and braces: callers pass a masked echo with public paths; an older report may lack either
    report = public_paths(mask_secrets(report), None)
    cfg = report.get("config") or {}
    source = cfg.get("source") or {}
    stype = source.get("type", "text")
    lic = (report.get("source") or {}).get("license") or UNKNOWN_LICENSE
    name = config_name or report.get("name") or "default"
    src = report.get("source") or {}
    splits = report.get("splits") or {}
    out = [f"## Config `{name}`", "",
           f"Built by wiki_qa from a `{stype}` source in `{_format_name(cfg)}` "
           f"format. Versions: " + ", ".join(f"{k} {v}" for k, v in (report.get("versions") or {}).items()) + ".", ""]

    out += ["### Splits", "", _table([(s, n) for s, n in splits.items()] + [("total", sum(splits.values()))],
                                     ("split", "rows")), ""]
    empty = [s for s, n in splits.items() if not n]
    if empty and (hub or (cfg.get("output") or {}).get("push_to_hub")):
        kept = [s for s, n in splits.items() if n]
        out += [f"Splits without rows ({', '.join(empty)}) are left out of this config on the Hub, so "
                f"`load_dataset` gives {', '.join(kept)} only.", ""]

    out += ["### Source", ""]
    limit = cfg.get("limit")
    if limit:
        out += [f"**Partial build**: at most {limit} documents were read per input file (`--limit {limit}`), so "
                "the counts below cover only what was read and the input files were not hashed.", ""]
    files = src.get("files") or []
    if files:
        out += [_table([(f"`{public_path(str(f.get('path', '')), None)}`",
                         f"`{f['sha256']}`" if f.get("sha256") else "not hashed (partial read)")
                        for f in files], ("file", "sha256")), ""]
    counts = [(k, src.get(k)) for k in ("pages_seen", "documents") if src.get(k) is not None]
    if report.get("chunks") is not None:
        counts.append(("chunks", report["chunks"]))
    if src.get("truncated"):
        counts.append(("input cut off mid-page (truncated)", True))
    if counts:
        out += [_table(counts, ("count", "value")), ""]
    skipped = src.get("skipped") or {}
    rejected = [(f"source: {k}", v) for k, v in skipped.items() if v]
    quality = report.get("quality") or {}
    for k, v in (quality.get("removed") or quality.get("rejected") or {}).items():
        rejected.append((f"quality: {k}", v))
    llm = report.get("llm") or {}
    for k, v in (llm.get("failures") or {}).items():
        rejected.append((f"generation: {k}", v))
    out += ["### Rejected / skipped", "",
            _table(rejected, ("reason", "count")) if rejected else "Nothing was skipped or rejected.", ""]

    gen = cfg.get("generate")
    if gen:
        out += ["### Generation", "",
                "Synthetic examples were generated by the model "
                f"`{(cfg.get('llm') or gen).get('model', '?')}` with task "
                f"`{gen.get('task', '?')}`. Parameters:", "", "```json",
                json.dumps({k: v for k, v in gen.items() if k not in ("prompt", "system_prompt")}, indent=2,
                           sort_keys=True, default=str), "```", ""]
        for key in ("system_prompt", "prompt"):
            if gen.get(key):
                out += [f"{key.replace('_', ' ').capitalize()}:", "", "```text", str(gen[key]), "```", ""]
        if llm:
            outcomes = llm.get("outcomes") or {}
            stats = [(k, llm.get(k)) for k in ("requests", "cache_hits", "retries", "prompt_tokens",
                                                "completion_tokens", "cost_usd") if llm.get(k) is not None]
            stats += [(f"outcome: {k}", v) for k, v in outcomes.items()]
            out += [_table(stats, ("llm", "value")), ""]

    out += translation_section(llm.get("translate"), gen or {})
    out += quality_sections(report)
    out += preference_section(report)
    out += ["### Licence", "", f"**{lic['name']}** (from the `{stype}` source). {lic['note']}", ""]
    if gen:
        out += [f"Generated text is also subject to the terms of the model `{gen.get('model', '?')}` "
                "(e.g. OpenAI's terms, or the Gemma terms for Gemma models) -- check them before training or "
                "redistributing.", ""]

    hub = hub or (cfg.get("output") or {}).get("push_to_hub")
    out += ["### Load", "", "```python"]
    if hub:
        hub_config = config_name or (cfg.get("output") or {}).get("hub_config_name") or "default"
        out += ["from datasets import load_dataset", f'ds = load_dataset("{hub}", "{hub_config}")']
    else:
        local_name = report.get("name") or name
        out += ["from datasets import load_from_disk", f'ds = load_from_disk("{local_name}")  # this folder']
    out += ["```", "", "### Build configuration", "", "Reproduce with `wiki-qa build CONFIG` using:", "",
            "```yaml", redact(config_yaml.strip()), "```", ""]
    return "\n".join(out)


def render_card(report: dict, config_yaml: str, out_dir: Path | None = None,
                *, config_name: str | None = None) -> str:
    meta = card_metadata(report, out_dir)
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    title = report.get("name") or "wiki_qa build"
    plot = main_plot_markdown(out_dir)
    plot = f"{plot}\n\n" if plot else ""
    return f"---\n{head}---\n\n# {title}\n\n{plot}{render_body(report, config_yaml, config_name=config_name)}"


def write_card(out_dir: str | os.PathLike, report: dict, config_yaml: str) -> str:
    """Write README.md into the build folder and return its text (called for every save_to_disk output)."""
    out_dir = Path(out_dir)
    text = render_card(report, config_yaml, out_dir)
    (out_dir / "README.md").write_text(text, encoding="utf-8")
    return text


def _format_name(cfg: dict) -> str:
    """`format:` is a name in YAML shorthand and a {type, system, template} mapping once resolved."""
    fmt = cfg.get("format", "unknown")
    return fmt.get("type", "unknown") if isinstance(fmt, dict) else str(fmt)


# -- the judge, evidence and question mix (LLM builds with a judge: / qa-like tasks) -------------------------
def translation_section(tr: dict | None, gen: dict) -> list[str]:
    """What was translated, from and into which languages, by which model, with which checks."""
    if not tr:
        return []
    cols = gen.get("columns") or ["prompt", "completion (or text)"]
    out = ["### Translation", "",
           f"Columns {', '.join(f'`{c}`' for c in cols)} were machine-translated from {tr.get('source_lang')} into "
           f"{', '.join(tr.get('target_langs') or [])} by the model `{tr.get('model')}`, sentence by sentence, "
           "with code, URLs, numbers, placeholders and list markers masked so they pass through unchanged. "
           f"Every row was checked ({', '.join(tr.get('checks') or [])}"
           + (", and a round trip back into the source language scored with chrF" if tr.get("back_translate")
              else "")
           + "); a row failing a check was asked again once, then dropped. Each kept row keeps its original "
           "text in `meta.translation.orig`.", "",
           _table([("rows in", tr.get("rows_in")), ("rows kept", tr.get("rows_out"))]
                  + [(f"dropped: {k}", v) for k, v in sorted((tr.get("dropped") or {}).items())],
                  ("translation", "rows")), ""]
    bt = tr.get("back_translation")
    if bt:
        out += [f"Round trip chrF: mean {bt['chrf_mean']}, lowest {bt['chrf_min']} over {bt['rows']} rows"
                + (f"; rows under {tr['min_chrf']} dropped." if tr.get("min_chrf") is not None else "."), ""]
    return out


def quality_sections(report: dict) -> list[str]:
    """"Judged" and "Items" sections: who judged the data at what threshold, and what the kept items are."""
    out: list[str] = []
    judge = report.get("judge") or {}
    sig = judge.get("signal") or {}
    if judge and sig.get("degenerate"):
        # Saying "judged by" would claim a check that did not happen (issue 23).
        out += ["### Judge", "",
                f"The model `{judge.get('model', '?')}` was asked to score every item from 1 to 5, but its scores "
                f"carry no signal: {'; '.join(sig.get('problems') or [])}. Read `meta.judge` as noise, not as a "
                f"quality check. Items scoring under {judge.get('min_score')} were still dropped: "
                f"{judge.get('kept', 0)} of {judge.get('judged', 0)} items kept.", ""]
    elif judge:
        out += ["### Judged", "",
                f"Every generated item was scored from 1 to 5 against its source passage by the model "
                f"`{judge.get('model', '?')}` (answer supported, question understandable alone, answer complete "
                f"and correct, worth asking). Items scoring under **{judge.get('min_score')}** were dropped: "
                f"{judge.get('kept', 0)} of {judge.get('judged', 0)} items kept. Each row's `meta.judge` holds its "
                "score and the judge's reason.", "",
                _table([(k, v) for k, v in (judge.get("histogram") or {}).items()]
                       + ([("no score (judge failed)", judge["unjudged"])] if judge.get("unjudged") else []),
                       ("score", "items")), ""]
    rt = report.get("roundtrip") or {}
    if rt:
        out += ["### Round trip", "",
                f"Every question was answered again from its passage by `{rt.get('model', '?')}`, which saw neither "
                f"the item's answer nor its evidence; an item was kept only when the two answers agree (token F1 "
                f">= {rt.get('min_f1')}): {rt.get('kept', 0)} of {rt.get('checked', 0)} items kept. Each row's "
                "`meta.roundtrip` holds that answer and its F1.", ""]
    items = report.get("items") or {}
    ev = items.get("evidence") or {}
    if ev.get("with_span"):
        out += ["### Evidence", "", f"{ev['with_span']} of {items.get('items', 0)} items carry the passage span "
                f"that supports the answer (`meta.evidence`: chunk id, character offsets, quoted text); "
                f"{ev.get('round_trip', 0)} spans were checked to quote their chunk exactly.", ""]
    mix = (items.get("question_mix") or {}).get("planned_kept")
    if mix:
        out += ["### Question mix", "", _table([(k, v["items"], v["share"]) for k, v in mix.items()],
                                               ("planned type", "kept items", "share")), ""]
    return out


# -- preference pairs (a preference: section) ------------------------------------------------------------------
STRATEGY_TEXT = {
    "contrastive": "the model `{model}` rewrote the chosen answer to be worse ({worse})",
    "weaker_model": "a second model, `{model}`, answered the prompt",
    "corrupt": "no LLM: a name or number swapped from the same passage, a length-matched vague answer, or the "
               "answer cut mid-sentence",
    "sample_and_judge": "`{model}` answered the prompt several times; the judge `{judge}` scored the answers shown "
                        "in a shuffled order, the best became chosen and the worst rejected (ties dropped)",
}


def preference_section(report: dict) -> list[str]:
    """How the rejected side of each pair was made, what the checks dropped, and the judge's verdicts."""
    p = report.get("preference") or {}
    if not p:
        return []
    judge = p.get("judge") or {}
    rows = []
    for name, s in (p.get("strategies") or {}).items():
        how = STRATEGY_TEXT.get(name, name).format(model=(p.get("models") or {}).get(name, "?"),
                                                   worse=p.get("worse", "?"), judge=judge.get("model", "?"))
        rows.append((name, how, s.get("rows", 0), s.get("pairs", 0)))
    checks = p.get("checks") or {}
    furniture = ", ".join(checks.get("furniture") or [])
    out = ["### Preference pairs", "",
           f"{p.get('pairs', 0)} pairs from {p.get('pairs_in', 0)} prompt/completion rows. Each row's rejected side "
           "was made on purpose by one strategy (in `meta.preference`, with its attempt, temperature, judge scores "
           "and the order the judge saw the answers in):", "",
           _table(rows, ("strategy", "how the rejected side was made", "rows", "pairs")), "",
           "Every pair was checked: chosen and rejected differ after normalization; the rejected side has "
           f"{checks.get('min_word_ratio')}-{checks.get('max_word_ratio')}x the chosen side's words; neither reply "
           f"was cut off at the token limit; neither holds prompt furniture ({furniture}); "
           f"both are in the build's language (language check: {checks.get('language', '?')}).", ""]
    if judge.get("confirm"):
        out += [f"The judge `{judge.get('model')}` scored chosen and rejected, shown in a shuffled order: the "
                "`status` column says confirmed, or swapped (the judge preferred the made rejected side"
                + (", so the sides were swapped)" if judge.get("on_swapped") == "swap" else "; dropped)")
                + "; ties were dropped.", ""]
    dropped = [(k, v) for k, v in sorted((p.get("dropped") or {}).items(), key=lambda kv: -kv[1])]
    out += [_table(dropped, ("dropped pairs: reason", "pairs")) if dropped else "No pair was dropped.", ""]
    status = p.get("status") or {}
    if status:
        out += [_table(sorted(status.items()), ("status", "pairs")), ""]
    return out
