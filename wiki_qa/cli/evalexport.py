"""`wiki-qa export-eval DIR --harness lm-eval`: registered into the main CLI."""
from __future__ import annotations


def _export(args) -> int:
    from wiki_qa.evalexport import export_eval

    done = export_eval(args.dir, args.output, harness=args.harness, kind=args.kind, name=args.name)
    skipped = sum(n for why in done["skipped"].values() for n in why.values())
    print(f"export-eval: {done['output']} ({done['kind']}; tasks {', '.join(done['tasks'])}; "
          f"test {done['splits'].get('test', 0)}, val {done['splits'].get('val', 0)}"
          + (f"; {skipped} rows skipped, see export.json" if skipped else "") + ")")
    print(f"run: lm_eval --include_path {done['output']} --tasks {done['tasks'][-1]} --model ...")
    return 0


def register(subparsers) -> None:
    from wiki_qa.evalexport import HARNESSES, KINDS

    p = subparsers.add_parser("export-eval", help="write an eval task folder (harness config + data) from a build",
                              description="The build's test split is the eval set, val the few-shot examples.")
    p.add_argument("dir", metavar="DIR", help="a build folder written by `wiki-qa build`")
    p.add_argument("--harness", default="lm-eval", choices=HARNESSES, help="the eval harness (default lm-eval)")
    p.add_argument("--output", "-o", metavar="OUT", help="the task folder (default: DIR-lm-eval beside DIR)")
    p.add_argument("--kind", default="auto", choices=KINDS,
                   help="mc (lettered options) or qa (generative, exact match and F1); auto: from the rows")
    p.add_argument("--name", help="task name (default: wiki_qa_ and the build's name)")
    p.set_defaults(func=_export)
