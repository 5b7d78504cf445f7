"""`wiki-qa build`, `inspect` and `configs`."""
from __future__ import annotations

import json
import sys

from wiki_qa.secrets import redact


def register(sub) -> None:
    b = sub.add_parser("build", help="run a build from a YAML config (or a shipped config name)")
    b.add_argument("config")
    b.add_argument("--set", action="append", metavar="KEY=VALUE", help="override any config key, e.g. "
                   "chunk.max_tokens=512 (repeatable)")
    b.add_argument("--limit", type=int, help="read at most N documents per input file")
    b.add_argument("--output", help="output folder (default: output.dir or out/NAME)")
    b.add_argument("--dry-run", action="store_true", help="estimate chunks, LLM requests, tokens and cost; "
                   "spend nothing")
    b.add_argument("--engine", choices=["local", "ray"])
    b.add_argument("--ray-address", help="Ray cluster address (with --engine ray), e.g. auto")
    b.add_argument("--num-proc", type=int, help="processes for parsing/cleaning (datasets num_proc)")
    b.add_argument("--refresh", action="store_true", help="ignore caches (datasets and LLM responses)")
    b.add_argument("--quiet", action="store_true", help="no progress bars")
    b.add_argument("--force", action="store_true", help="replace output.dir even if it holds files that are not "
                   "an earlier build (never /, the home folder or the working folder)")
    b.set_defaults(func=_build)

    i = sub.add_parser("inspect", help="siteinfo, namespaces, page/redirect counts, schema version of a dump")
    i.add_argument("file")
    i.add_argument("--json", action="store_true")
    i.add_argument("--limit", type=int, help="look at the first N pages only")
    i.set_defaults(func=_inspect)

    c = sub.add_parser("configs", help="list the configs shipped with wiki_qa")
    c.set_defaults(func=_configs)


def _build(args) -> int:
    from wiki_qa import progress
    from wiki_qa.config import load_config
    from wiki_qa.orchestrator import run

    overrides = list(args.set or [])
    if args.limit is not None:
        overrides.append(f"limit={args.limit}")
    if args.engine:
        overrides.append(f"engine={args.engine}")
    if args.ray_address:
        overrides.append(f"ray_address={args.ray_address}")
    cfg = load_config(args.config, overrides)
    progress.enable(not args.quiet)
    if args.dry_run:
        from wiki_qa.orchestrator import dry_run

        print(json.dumps(dry_run(cfg, num_proc=args.num_proc), indent=2))
        return 0
    report = run(cfg, output=args.output, num_proc=args.num_proc, refresh=args.refresh, force=args.force)
    out = args.output or cfg.out_dir
    s = report["splits"]
    src = report["source"]
    print(f"{cfg.name}: {s['train']} train / {s['val']} val / {s['test']} test rows -> {out} "
          f"({src['documents']} documents from {src['pages_seen']} pages, {report['chunks']} chunks"
          + (", TRUNCATED input" if src["truncated"] else "") + f", {report['timings_s']['total']:.1f}s)")
    for w in src.get("warnings", [])[:5]:
        print(f"warning: {redact(w)}", file=sys.stderr)
    return 0


def _inspect(args) -> int:
    from wiki_qa.builders.mediawiki.inspect import inspect_dump, render
    from wiki_qa.io import expand

    for path in expand(args.file, what="inspect"):
        info = inspect_dump(path, limit=args.limit)
        print(json.dumps(info, indent=2, ensure_ascii=False) if args.json else render(info))
    return 0


def _configs(args) -> int:
    from wiki_qa.config import shipped_configs

    for name, path in shipped_configs().items():
        print(f"{name:32s} {path}")
    return 0
