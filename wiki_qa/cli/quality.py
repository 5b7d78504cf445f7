"""`wiki-qa check` and `wiki-qa review`.

Handlers return the exit code: 0 ok, 1 format errors (so `check` can gate CI). Bad input is raised as
UserError, which the main CLI turns into one line + exit 2.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from wiki_qa.errors import UserError


def register(subparsers) -> None:
    p = subparsers.add_parser("check", help="OpenAI fine-tuning data checks, token counts and training cost",
                              description="Check a built dataset folder (or .jsonl), or a build CONFIG (.yaml).")
    p.add_argument("target", metavar="DIR|CONFIG")
    p.add_argument("--config", metavar="YAML", help="take the `check:` section from this build config")
    p.add_argument("--epochs", help="override check.epochs (an integer or 'auto')")
    p.add_argument("--model", help="override check.model (must have a price in check.prices)")
    p.add_argument("--max-seq-tokens", type=int, help="override check.max_seq_tokens")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument("--report", metavar="FILE", help="also write the JSON report to FILE")
    p.set_defaults(func=check_command)

    r = subparsers.add_parser("review", help="export a split for human review and import the edits")
    rs = r.add_subparsers(dest="review_cmd", metavar="export|import", required=True)
    e = rs.add_parser("export", help="write a split to CSV/JSONL for reviewers")
    e.add_argument("dir", metavar="DIR")
    e.add_argument("--split", default="train")
    e.add_argument("--to", required=True, metavar="FILE", help="review.csv or review.jsonl")
    e.set_defaults(func=review_export_command)
    i = rs.add_parser("import", help="apply a reviewed CSV/JSONL (edits, deletions) to DIR, atomically")
    i.add_argument("file", metavar="FILE")
    i.add_argument("dir", metavar="DIR")
    i.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    i.add_argument("--json", action="store_true", help="print the change report as JSON")
    i.set_defaults(func=review_import_command)


# ------------------------------------------------------------------------------------------------------ check

def _check_section(path: str):
    """The `check:` section of a build YAML, read directly (no need for the full BuildConfig here)."""
    import yaml
    from pydantic import ValidationError

    from wiki_qa.quality.config import CheckConfig

    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise UserError(f"cannot read config ({type(e).__name__})", path=path) from None
    try:
        return CheckConfig.model_validate((doc.get("check") if isinstance(doc, dict) else None) or {})
    except ValidationError as e:
        raise UserError(_one_line(e), path=path) from None


def _with_overrides(base, args):
    from pydantic import ValidationError

    from wiki_qa.quality.config import CheckConfig

    data = base.model_dump() if base is not None else {}
    if args.epochs is not None:
        data["epochs"] = args.epochs if args.epochs == "auto" else _int(args.epochs, "--epochs")
    if args.model is not None:
        data["model"] = args.model
    if args.max_seq_tokens is not None:
        data["max_seq_tokens"] = args.max_seq_tokens
    try:
        return CheckConfig.model_validate(data)
    except ValidationError as e:
        raise UserError(_one_line(e)) from None


def _one_line(e) -> str:
    err = e.errors()[0]
    where = ".".join(map(str, ("check", *err["loc"])))
    return f"{where}: {err['msg']}"


def _int(v: str, flag: str) -> int:
    try:
        return int(v)
    except ValueError:
        raise UserError(f"{flag} must be an integer or 'auto', not {v!r}") from None


def check_command(args) -> int:
    target = Path(args.target)
    if target.suffix.lower() in (".yaml", ".yml"):
        return _check_build_config(args, target)
    from wiki_qa.quality.check import (
        check_splits,
        config_from_report,
        format_report,
        load_splits,
    )

    splits, build_report = load_splits(target)   # UserError (exit 2) for a missing/invalid DIR
    # Thresholds: --config YAML's check section, else the one the build echoed into build_report.json.
    base = _check_section(args.config) if args.config else config_from_report(build_report)
    cfg = _with_overrides(base, args)
    report = check_splits(splits, cfg)
    report["path"] = str(target)
    _emit(report, args, format_report)
    return 0 if report["ok"] else 1


def _emit(report: dict, args, human) -> None:
    if getattr(args, "report", None):
        Path(args.report).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else human(report))


def _check_build_config(args, path: Path) -> int:
    """`check CONFIG`: check the config's output folder if it was built, else print the build's dry-run
    estimate (documents, chunks, LLM requests/tokens/cost). The config and estimate live in other rooms
    (wiki_qa.config.load_config, wiki_qa.orchestrator.dry_run), so they are imported here, lazily."""
    from wiki_qa.config import load_config
    from wiki_qa.quality.check import check_dir, format_report

    build = load_config(str(path))
    cfg = _with_overrides(build.check, args)
    out_dir = Path(build.out_dir)
    if out_dir.exists():
        report = check_dir(out_dir, cfg)
        _emit(report, args, format_report)
        return 0 if report["ok"] else 1
    from wiki_qa.orchestrator import dry_run

    print(f"{out_dir} is not built yet; dry-run estimate:", file=sys.stderr)
    print(json.dumps(dry_run(build), indent=2, default=str, ensure_ascii=False))
    return 0


# ----------------------------------------------------------------------------------------------------- review

def review_export_command(args) -> int:
    from wiki_qa.quality.review import export_review

    out = export_review(args.dir, args.to, split=args.split)
    print(f"wrote {out['rows']} {out['split']} rows ({out['format']}) to {out['file']}; "
          f"columns: {', '.join(out['columns'])}")
    return 0


def review_import_command(args) -> int:
    from wiki_qa.quality.review import ReviewError, import_review

    try:
        rep = import_review(args.file, args.dir, dry_run=args.dry_run)
    except ReviewError as e:
        # Every problem on its own line, so a reviewer can fix them all in one go.
        for line in e.errors:
            print(f"{args.file}: {line}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(rep, indent=2, ensure_ascii=False))
        return 0
    for c in rep["edited"]:
        print(f"edited  {c['split']} {c['id']}: {', '.join(c['fields'])}")
    for d in rep["deleted"]:
        print(f"deleted {d['split']} {d['id']} ({d['reason']})")
    sizes = ", ".join(f"{s} {v['before']}->{v['after']}" for s, v in rep["splits"].items())
    verb = "would change" if rep["dry_run"] else ("wrote" if rep["written"] else "no changes to")
    print(f"{verb} {rep['dir']}: {len(rep['edited'])} edited, {len(rep['deleted'])} deleted, "
          f"{rep['unchanged']} unchanged; {sizes}")
    return 0


# ------------------------------------------------------------------------------------------------ standalone
