"""`wiki-qa cache repair [PATH]`: move a damaged LLM response cache aside so the next build starts a new one."""
from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser("cache", help="look after the LLM response cache")
    sub = p.add_subparsers(dest="cache_verb", required=True, metavar="ACTION")
    r = sub.add_parser("repair", help="move a damaged cache file aside (a build then starts a new one)")
    r.add_argument("path", nargs="?", help="the sqlite file (default: $WIKI_QA_CACHE/llm.sqlite, "
                   "~/.cache/wiki_qa/llm.sqlite)")
    r.set_defaults(func=repair_handler)


def repair_handler(args) -> int:
    import os

    from wiki_qa.llm.cache_check import complete, repair
    from wiki_qa.paths import cache_dir

    path = args.path or cache_dir("llm.sqlite")
    if not os.path.exists(path):
        print(f"{path}: no cache file, nothing to do")
        return 0
    aside = repair(path)  # a file that is not SQLite at all: exit 2, untouched
    if aside:
        print(f"{path}: damaged; moved aside to {aside}")
    elif created := complete(path):
        print(f"{path}: not damaged, but it lacked {', '.join(created)}: created")
    else:
        print(f"{path}: not damaged, nothing to do")
    return 0
