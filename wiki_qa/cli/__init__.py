"""`wiki-qa`: the command line. The one place where exceptions become exit codes.

0 done; 2 bad input or config (one line naming the file and the problem); 1 anything else.
A traceback is shown only with --debug. Every line this process writes to stderr (errors, warnings, log
records of any library, the --debug traceback) goes through wiki_qa.secrets.redact. Each module here registers the
verbs of one room (`register(subparsers)`); the CLI sits at the top of the room graph and may import any room.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings

from wiki_qa.cli import build, cache, evalexport, fetch, llm, publish, quality, viz
from wiki_qa.errors import UserError, WikiQAError
from wiki_qa.secrets import install_log_redaction, redact


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wiki-qa", description="Build fine-tuning datasets from wikis, news "
                                "and benchmarks.")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = p.add_subparsers(dest="verb", required=True, metavar="VERB")

    for verbs in (build, cache, fetch, llm, publish, evalexport, quality, viz):
        verbs.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(levelname)s %(message)s")
    install_log_redaction()
    if not args.debug:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        warnings.filterwarnings("ignore")
        import datasets

        datasets.logging.set_verbosity_error()
        if getattr(args, "quiet", False) or os.environ.get("CI") or not sys.stderr.isatty():
            datasets.disable_progress_bars()
    try:
        return int(args.func(args) or 0)
    except UserError as e:
        if args.debug:
            _print_traceback()
        print(f"wiki-qa: error: {_one_line(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wiki-qa: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the CLI's last line of defence
        code = getattr(e, "exit_code", 1) if isinstance(e, WikiQAError) else 1
        if args.debug:
            _print_traceback()
            return code
        print(f"wiki-qa: error: {_one_line(f'{type(e).__name__}: {e}')} (run with --debug for details)",
              file=sys.stderr)
        return code


def _one_line(msg: str) -> str:
    return " ".join(redact(msg).split())[:1000]


def _print_traceback() -> None:
    """--debug: the whole traceback, redacted (exception messages may hold URLs with credentials)."""
    import traceback

    print(redact(traceback.format_exc()), file=sys.stderr, end="")

