"""Numbers: {{val|1.234|0.005|e=7|u=m}} -> 1.234±0.005×10⁷ m; {{formatnum:1234567}} -> 1,234,567;
{{nts|1234}} -> 1,234; {{frac|3|1|2}} -> 3 1/2."""
from __future__ import annotations

import re

from wiki_qa.builders.mediawiki.clean.templates.registry import Call, renders

SUPERSCRIPT = str.maketrans("0123456789-−+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻⁺")
_PLAIN_NUMBER = re.compile(r"^([+\-−]?)(\d+)(\.\d+)?$")
# Wikis that group digits differently from English (formatnum follows the wiki's language).
_SEPARATORS = {"vi": (".", ","), "de": (".", ","), "es": (".", ","), "it": (".", ","), "pt": (".", ","),
               "pl": (" ", ","), "fr": (" ", ","), "ru": (" ", ","), "sw": (",", "."), "yo": (",", ".")}


def group(number: str, lang: str = "en") -> str:
    m = _PLAIN_NUMBER.match(number.strip().replace(",", ""))
    if not m:
        return number.strip()
    sign, whole, frac = m.groups()
    thousands, point = _SEPARATORS.get(lang, (",", "."))
    whole = f"{int(whole):,}".replace(",", thousands)
    return sign + whole + ((point + frac[1:]) if frac else "")


@renders("formatnum:", "formatnum")
def _formatnum(c: Call) -> str:
    v = c.get(1)
    if c.get(2).upper() in ("R", "NOSEP"):
        return v.replace(",", "")
    return group(v, c.ctx.lang)


@renders("nts", "nt", "number table sorting", "ntsh")
def _nts(c: Call) -> str:
    return "" if c.name == "ntsh" else group(c.get(1))


def _unit(c: Call, key: str, link_key: str) -> str:
    return c.get(key) or c.get(link_key)


@renders("val")
def _val(c: Call) -> str:
    number = c.get(1)
    if c.get("fmt").lower() == "commas":
        number = group(number)
    out = number
    plus, minus = c.get(2), c.get(3)
    if plus.startswith("(") and plus.endswith(")"):
        out += plus
    elif plus and minus:
        out += f" +{plus.lstrip('+')} −{minus.lstrip('-−')}"
    elif plus:
        out += f"±{plus.lstrip('±')}"
    elif c.get("p") or c.get("s"):
        out = c.get("p") + out + c.get("s")
    exp = c.get("e")
    if exp:
        out = (out + "×" if out else "") + "10" + exp.translate(SUPERSCRIPT)
    unit = _unit(c, "u", "ul")
    per = _unit(c, "up", "upl")
    if unit:
        out += ("" if unit in ("%", "°", "′", "″") else " ") + unit
    if per:
        out += "/" + per
    return out


@renders("frac", "fraction", "sfrac", "sfracnobreak")
def _frac(c: Call) -> str:
    pos = [p for p in c.positional() if p]
    if len(pos) == 3:
        return f"{pos[0]} {pos[1]}/{pos[2]}"
    if len(pos) == 2:
        return f"{pos[0]}/{pos[1]}"
    return f"1/{pos[0]}" if pos else ""


_CURRENCY = {"usd": "US$", "us$": "US$", "eur": "€", "gbp": "£", "jpy": "¥", "cny": "CN¥", "inr": "₹",
             "aud": "A$", "cad": "CA$", "chf": "CHF ", "rub": "₽", "krw": "₩", "ngn": "₦", "kes": "KSh ",
             "zar": "R", "brl": "R$", "mxn": "MX$", "sek": "kr ", "nok": "kr ", "dkk": "kr "}


@renders("currency")
def _currency(c: Call) -> str:
    amount, code = c.get(1), c.get(2, "USD")
    return f"{_CURRENCY.get(code.lower(), code + ' ')}{amount}"


@renders("us$", "usd")
def _usd(c: Call) -> str:
    return f"US${c.get(1)}" if c.get(1) else "US$"
