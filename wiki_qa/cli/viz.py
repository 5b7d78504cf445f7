"""`wiki-qa report DIR`: registered into the main CLI."""
from __future__ import annotations


def _report(args) -> int:
    from wiki_qa.viz import write_page

    index = write_page(args.dir, sample=args.sample, max_rows=args.max_rows, update_card=not args.no_card)
    print(f"report: {index}")
    return 0


def register(subparsers) -> None:
    r = subparsers.add_parser("report", help="HTML report with plots for a build folder (DIR/report/index.html)")
    r.add_argument("dir", metavar="DIR", help="a build folder written by `wiki-qa build`")
    r.add_argument("--sample", type=int, default=5, help="rows shown per split (default 5)")
    r.add_argument("--max-rows", type=int, default=5_000,
                   help="token lengths are measured on at most this many rows per split (default 5000)")
    r.add_argument("--no-card", action="store_true", help="leave the folder's README.md card unchanged")
    r.set_defaults(func=_report)
