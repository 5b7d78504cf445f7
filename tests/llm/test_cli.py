import argparse

from wiki_qa.cli import llm as cli


def test_register_adds_serve_llm_verb():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="verb")
    cli.register(sub)
    args = ap.parse_args(["serve-llm", "--port", "9999", "--parallel", "2"])
    assert args.func is cli.handler and args.port == 9999 and args.parallel == 2
