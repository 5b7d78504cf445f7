"""Wikivoyage listings: {{see|name=…|address=…|content=…}} and its siblings are the guide itself.

Rendered as the page shows them: the name (and alt name), address and directions, phone, e-mail, hours,
price, then the description. On Wikipedia {{see}} is a hatnote with positional arguments only: it is
dropped like any other hatnote.
"""
from __future__ import annotations

from wiki_qa.builders.mediawiki.clean.templates.convert import render_convert
from wiki_qa.builders.mediawiki.clean.templates.registry import Call, renders

_LISTING_KEYS = ("name", "content", "address", "alt", "description")


@renders("see", "do", "buy", "eat", "drink", "sleep", "listing", "go", "around", "vcard", "marker", "listing/en",
         "vcard/en")
def _listing(c: Call) -> str | None:
    if not any(k in c.params for k in _LISTING_KEYS):
        return None  # Wikipedia's {{see}}: a hatnote, dropped and counted
    name = c.get("name")
    if c.name == "marker":
        return name
    head = name
    if c.get("alt"):
        head += f" ({c.get('alt')})"
    where = c.get("address")
    if c.get("directions"):
        where = f"{where} ({c.get('directions')})" if where else f"({c.get('directions')})"
    contact = []
    if c.get("phone"):
        contact.append(f"☎ {c.get('phone')}")
    if c.get("tollfree"):
        contact.append(f"toll-free: {c.get('tollfree')}")
    if c.get("fax"):
        contact.append(f"fax: {c.get('fax')}")
    if c.get("email"):
        contact.append(f"email: {c.get('email')}")
    first = ", ".join(p for p in [head, where, *contact] if p)
    times = []
    if c.get("hours"):
        times.append(c.get("hours"))
    if c.get("checkin"):
        times.append(f"Check-in: {c.get('checkin')}")
    if c.get("checkout"):
        times.append(f"check-out: {c.get('checkout')}")
    parts = [first, ", ".join(times), c.get("price"), c.first("content", "description")]
    return " ".join(_sentence(p) for p in parts if p)


def _sentence(p: str) -> str:
    return p if p.endswith((".", "!", "?", "…", ":")) else p + "."


@renders("mi", "km", "miles")
def _distance(c: Call) -> str:
    """Wikivoyage's {{mi|6}} -> 6 miles (9.7 km), {{km|5}} -> 5 km (3.1 mi)."""
    if not c.get(1):
        return ""
    unit = "mi" if c.name in ("mi", "miles") else "km"
    params = {"1": c.get(1), "2": unit}
    if unit == "km":
        params["abbr"] = "on"
    return render_convert(Call("convert", params, c.ctx))
