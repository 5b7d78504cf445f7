"""`wiki-qa fetch`: download a Wikimedia wiki's dump (or snapshot a MediaWiki site through its API) into
the wiki_qa cache, without building. A later `wiki-qa build` with the same source finds it there."""
from __future__ import annotations


def register(sub) -> None:
    f = sub.add_parser("fetch", help="download a Wikimedia wiki's dump by name (yo, yowiki, yo.wikipedia.org) "
                       "or read a MediaWiki site through its API, into the wiki_qa cache")
    f.add_argument("wiki", nargs="?", help="a language code, db name or host of a Wikimedia wiki")
    f.add_argument("--dump", default="latest", help="latest (the newest finished run; asked again now) or a "
                   "run's date, YYYYMMDD")
    f.add_argument("--mirror", action="append", metavar="URL", help="a dumps mirror's base URL, tried in the "
                   "order given (default https://dumps.wikimedia.org)")
    f.add_argument("--api", metavar="URL", help="a MediaWiki site's api.php, instead of a Wikimedia wiki")
    f.add_argument("--namespace", action="append", metavar="NS", help="with --api: namespaces to read "
                   "(number or name; default 0)")
    f.add_argument("--contact", help="your e-mail or URL, for the User-Agent (default: $WIKI_QA_CONTACT)")
    f.add_argument("--quiet", action="store_true", help="no progress bars")
    f.set_defaults(func=_fetch)


def _fetch(args) -> int:
    from wiki_qa import progress
    from wiki_qa.builders.mediawiki.config import MediaWikiConfig
    from wiki_qa.errors import UserError

    progress.enable(not args.quiet)
    if bool(args.wiki) == bool(args.api):
        raise UserError("wiki-qa fetch: give a wiki name (wiki-qa fetch yo) or --api URL, one of them")
    try:
        cfg = MediaWikiConfig(wiki=args.wiki, api=args.api, dump=args.dump, contact=args.contact,
                              namespaces=args.namespace or [0], **({"mirrors": args.mirror} if args.mirror else {}))
    except ValueError as e:
        raise UserError(f"wiki-qa fetch: {_first_error(e)}") from None
    if cfg.wiki:
        from wiki_qa.builders.mediawiki.fetch import fetch_dump

        got = fetch_dump(cfg.wiki, cfg.dump, cfg.mirrors, cfg.contact, recheck=True)
    else:
        from wiki_qa.builders.mediawiki.api import snapshot

        got = snapshot(cfg.api, cfg.namespaces, cfg.contact, recrawl=True)
    import sys

    for w in got.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for line in got.summary():
        print(line)
    return 0


def _first_error(e: ValueError) -> str:
    errors = getattr(e, "errors", None)
    if callable(errors):
        first = errors()[0]
        return str(first.get("msg", e)).removeprefix("Value error, ")
    return str(e)
