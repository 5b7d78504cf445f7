"""Which BBC page layout an HTML page is, and whether it is an article or an index, from its own markup.

The URL is never consulted: the same URL shape has held articles and indexes over the years, and the old
World Service `.shtml` articles (`/zhongwen/simp/chinese_news/2012/12/121210_hongkong_politics.shtml`) look
like nothing a URL rule expects. Each layout has a marker the BBC's publishing systems put in every page:

| layout    | years           | marker                                   | article when                          |
|-----------|-----------------|------------------------------------------|---------------------------------------|
| ws_shtml  | about 2010-2018 | Topcat `wsads`/`ws.env` documentType,     | documentType 'story' (else: index)    |
|           |                 | `<meta name="generator" content="Topcat`  |                                       |
| cps_html  | about 2014-2020 | `<body id="asset-type-XXX">` (CPS asset)  | XXX is sty, csp, map, pgl (not idx...)|
| simorgh   | 2019 on (WS)    | `window.SIMORGH_DATA`                    | the embedded document has blocks      |
| next_data | 2023 on         | `<script id="__NEXT_DATA__">`            | the embedded document has blocks      |
| ssr_html  | about 2021-2023 | `data-component="text-block"`            | always (index pages have no text block)|
| generic   | anything else   | JSON-LD *Article, og:type article        | one of those is present               |
"""
from __future__ import annotations

import re

from .htmlview import HtmlView

_TOPCAT_DOCTYPE = re.compile(r"""documentType\s*[:=]\s*['"](\w+)['"]""")
_CPS_ASSET = re.compile(r"asset-type-([a-z]+)$")

CPS_ARTICLE_ASSETS = {"sty", "csp", "map", "pgl", "stm"}  # story, correspondent story, media asset, gallery

# Layout names for the report (stats tallies), in the order of the table above plus the JSON documents.
LAYOUTS = ("ws_shtml", "cps_html", "simorgh", "next_data", "ssr_html", "generic", "ws_json")


def html_layout(page: HtmlView) -> tuple[str, bool]:
    """(layout, is_article) for an HTML page without embedded article JSON."""
    doctype = next((m for m in map(_TOPCAT_DOCTYPE.search, page.scripts()) if m), None)
    if doctype or page.meta.get("generator", "").startswith("Topcat"):
        if doctype:
            return "ws_shtml", doctype.group(1).lower() == "story"
        return "ws_shtml", page.has("//div[contains(concat(' ', @class, ' '), ' bodytext ')]")
    asset = _CPS_ASSET.match(page.body_id)
    if asset:
        return "cps_html", asset.group(1) in CPS_ARTICLE_ASSETS
    if page.has("//*[@data-component='text-block']"):
        return "ssr_html", True
    return "generic", bool(page.article_ld) or page.meta.get("og:type") == "article"
