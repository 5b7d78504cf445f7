"""Inline templates rendered to the text a reader sees: one small renderer per template family.

The families live in the modules below; importing them fills the registry. `default_table()` is the
built-in table; `build_table(user)` adds the entries of a config's `clean.templates:` on top.
"""
from __future__ import annotations

from wiki_qa.builders.mediawiki.clean.templates import (convert, dates, inline, lang, listings,  # noqa: F401
                                                        localized, numbers, quotes)
from wiki_qa.builders.mediawiki.clean.templates.registry import (Call, Context, TemplateTable, builtin_names,
                                                                 display_name, key)
from wiki_qa.builders.mediawiki.clean.templates.user import user_renderers

_DEFAULT: TemplateTable | None = None


def default_table() -> TemplateTable:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = TemplateTable()
    return _DEFAULT


def build_table(user: dict | None) -> TemplateTable:
    return TemplateTable(user_renderers(user)) if user else default_table()


__all__ = ["Call", "Context", "TemplateTable", "build_table", "builtin_names", "default_table", "display_name",
           "key"]
