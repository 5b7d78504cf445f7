"""Quotations: {{quote|text|author|source}}, {{blockquote|text=…}}, {{cquote}}, {{quote box}}, ...

A block quote is its own paragraph, followed by a line "— author, source" as the page shows it.
"""
from __future__ import annotations

from wiki_qa.builders.mediawiki.clean.templates.registry import Call, renders


def _block(text: str, author: str, source: str) -> str:
    if not text:
        return ""
    sign = ", ".join(p for p in (author, source) if p)
    return f"\n\n{text}\n" + (f"— {sign}\n\n" if sign else "\n")


@renders("quote", "blockquote", "quotation", "bquote", "quote/core", "poem quote", "poemquote", "verse",
         "block quote", "quote text", "gquote", "bq")
def _quote(c: Call) -> str:
    return _block(c.first("text", "quote", "quotetext", "content", 1),
                  c.first("author", "sign", "cite", "by", "character", "2"),
                  c.first("source", "title", "work", "publication", 3))


@renders("cquote", "rquote", "centered pull quote", "pull quote", "quote frame", "imagequote", "sidequote",
         "cquote2")
def _pull_quote(c: Call) -> str:
    # {{cquote|text|||author|source}}: arguments 4 and 5 on the older forms
    return _block(c.first("text", "quote", 1), c.first("author", "sign", 4, 2),
                  c.first("source", "title", 5, 3))


@renders("quote box", "quotebox", "quote box2")
def _quote_box(c: Call) -> str:
    return _block(c.first("quote", "text", 1), c.first("author", "sign"), c.first("source", "title"))


@renders("\"", "qq", "quoted", "qi")
def _inline_quote(c: Call) -> str:
    return f"“{c.first('text', 1)}”" if c.first("text", 1) else ""
