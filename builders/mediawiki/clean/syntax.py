"""The site-specific names the cleaner needs, from the dump's <siteinfo>."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class WikiSyntax:
    """Built once per dump by the reader: localized File:/Category: names and every namespace name."""

    file_prefixes: frozenset[str] = frozenset({"file", "image", "media"})
    category_prefixes: frozenset[str] = frozenset({"category"})
    namespace_prefixes: frozenset[str] = frozenset()
