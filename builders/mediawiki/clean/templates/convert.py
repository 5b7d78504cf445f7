"""{{convert}} / {{cvt}}: the value and unit as the page shows them, with the conversion.

    {{convert|5|km|mi}}             -> 5 kilometres (3.1 mi)
    {{convert|5|km|mi|abbr=on}}     -> 5 km (3.1 mi)        ({{cvt}} is abbr=on)
    {{convert|2|to|4|km}}           -> 2 to 4 kilometres (1.2 to 2.5 mi)
    {{convert|6|ft|2|in|m}}         -> 6 feet 2 inches (1.88 m)
    {{convert|10|m|ft|adj=on}}      -> 10-metre (33 ft)

Rounding follows Module:Convert's default: the output keeps the input's precision, adjusted by the size
of the conversion factor, and at least two significant figures. A unit missing from the table is shown
as written, without a conversion: the value is never lost.
"""
from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from wiki_qa.builders.mediawiki.clean.templates.numbers import SUPERSCRIPT
from wiki_qa.builders.mediawiki.clean.templates.registry import Call, renders
from wiki_qa.builders.mediawiki.clean.templates.units import Unit, lookup

_NUMBER = re.compile(r"^[+\-−]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:e[+\-]?\d+)?$|^[+\-−]?(?:\d+[+\s])?\d+/\d+$", re.I)
_SEPS = {"-": "–", "–": "–", "to(-)": "–", "and(-)": " and ", "to": " to ", "and": " and ", "or": " or ",
         "x": " × ", "×": " × ", "by": " by ", "+/-": " ± ", "±": " ± ", ",": ", ", "to about": " to about ",
         "or about": " or about ", "+": " + ", "then": " then "}
_OUT_SEPS = {" and ": "–", " to about ": " to ", " or about ": " or "}
_US_SPELLING = (("metre", "meter"), ("litre", "liter"))
_COMPOSITE_IN = {("ft", "in"), ("lb", "oz"), ("st", "lb"), ("mi", "yd"), ("mi", "ft"), ("yd", "ft"),
                 ("m", "cm"), ("LT", "cwt")}


def is_number(s: str) -> bool:
    return bool(_NUMBER.match(s.strip()))


def parse_number(s: str) -> float:
    s = s.strip().replace("−", "-").replace(",", "")
    if "/" in s:
        whole, _, frac = s.rpartition(" ") if " " in s else s.rpartition("+")
        num, den = frac.split("/")
        sign = -1 if s.startswith("-") else 1
        return (abs(float(whole)) if whole else 0) * sign + sign * float(num.lstrip("-")) / float(den)
    return float(s)


def show_number(s: str) -> str:
    """The input number as convert prints it: thousands separated, e-notation as ×10ⁿ, fractions with ⁄."""
    s = s.strip().replace("-", "−") if s.strip().startswith("-") else s.strip()
    if "/" in s:
        return s.replace("+", " ").replace("/", "⁄")
    m = re.match(r"^([+\-−]?)([\d,]*)(\.\d*)?(?:[eE]([+\-]?\d+))?$", s)
    if not m:
        return s
    sign, whole, frac, exp = m.groups()
    whole = whole.replace(",", "")
    if len(whole) > 3:
        whole = f"{int(whole):,}"
    out = f"{sign}{whole}{frac or ''}"
    if exp:
        out += "×10" + str(int(exp)).translate(SUPERSCRIPT)
    return out


def input_precision(s: str) -> int:
    """Digits after the point; for an integer, minus its trailing zeros (100 -> -2)."""
    s = s.strip().replace(",", "").lower()
    if "e" in s:
        mant, exp = s.split("e")
        return input_precision(mant) - int(exp)
    if "/" in s:
        return 2
    if "." in s:
        return len(s.split(".")[1])
    digits = s.lstrip("+-−")
    if not digits.strip("0"):
        return 0
    return -(len(digits) - len(digits.rstrip("0")))


def fmt(x: float, prec: int) -> str:
    if x == 0 or not math.isfinite(x):
        return "0"
    try:
        d = Decimal(repr(x))
        if prec >= 0:
            d = d.quantize(Decimal(1).scaleb(-prec), rounding=ROUND_HALF_UP)
            text = f"{d:,.{prec}f}"
        else:
            d = (d.scaleb(prec).quantize(Decimal(1), rounding=ROUND_HALF_UP)).scaleb(-prec)
            text = f"{int(d):,}"
    except (InvalidOperation, ValueError, OverflowError):
        return f"{x:,.{max(prec, 0)}f}"
    if text.startswith("-"):
        text = "−" + text[1:]
    return "0" if text.strip("−0.,") == "" else text


def _to_si(x: float, u: Unit, code: str) -> float:
    if u.dim == "temperature":
        base = code.lstrip("°").split("-")[0]
        return {"C": x + 273.15, "F": (x + 459.67) * 5 / 9}.get(base, x)
    return x * u.factor


def _from_si(x: float, u: Unit, code: str) -> float:
    if u.dim == "temperature":
        base = code.lstrip("°").split("-")[0]
        return {"C": x - 273.15, "F": x * 9 / 5 - 459.67}.get(base, x)
    return x / u.factor


def _out_precision(value_text: str, x_out: float, factor_ratio: float, c: Call) -> int:
    sigfig = c.get("sigfig")
    if sigfig.isdigit() and x_out:
        return int(sigfig) - 1 - math.floor(math.log10(abs(x_out)))
    prec = input_precision(value_text) - round(math.log10(factor_ratio)) if factor_ratio > 0 else 0
    if x_out:
        prec = max(prec, 1 - math.floor(math.log10(abs(x_out))))  # at least two significant figures
    return prec


def _rounded(x: float, c: Call, explicit: str, value_text: str, ratio: float) -> str:
    rnd = c.get("round")
    if rnd.isdigit() and int(rnd) > 0:
        step = int(rnd)
        return fmt(round(x / step) * step, 0)
    if explicit and re.fullmatch(r"-?\d+", explicit):
        return fmt(x, int(explicit))
    return fmt(x, _out_precision(value_text, x, ratio, c))


def _name(u: Unit, plural: bool, c: Call) -> str:
    name = u.plural if plural else u.name
    if c.get("sp").lower() == "us":
        for uk, us in _US_SPELLING:
            name = name.replace(uk, us)
    return name


def _is_plural(value_text: str) -> bool:
    v = value_text.strip()
    if "/" in v and " " not in v and "+" not in v:
        return False  # "1⁄2 mile"
    try:
        return abs(parse_number(v)) != 1
    except ValueError:
        return True


def _unit_text(u: Unit | None, code: str, value_text: str, abbreviate: bool, c: Call) -> str:
    if u is None:
        return code
    if abbreviate or u.dim.startswith("temperature"):
        return u.symbol
    return _name(u, _is_plural(value_text), c)


def _join(values: list[str], seps: list[str]) -> str:
    out = values[0]
    for sep, v in zip(seps, values[1:]):
        out += sep + v
    return out


@renders("convert", "cvt", "convert/2", "cvt2")
def render_convert(c: Call) -> str:
    pos = c.positional()
    if not pos or not pos[0]:
        return ""
    values, seps, i = [pos[0]], [], 1
    while i + 1 < len(pos) and pos[i] in _SEPS and is_number(pos[i + 1]):
        seps.append(_SEPS[pos[i]])
        values.append(pos[i + 1])
        i += 2
    in_code = pos[i] if i < len(pos) else ""
    i += 1
    in_unit = lookup(in_code)
    # composite input: {{convert|6|ft|2|in|m}}
    sub = None
    if (len(values) == 1 and i + 1 < len(pos) and is_number(pos[i]) and
            (in_code, pos[i + 1]) in _COMPOSITE_IN and lookup(pos[i + 1])):
        sub = (pos[i], pos[i + 1], lookup(pos[i + 1]))
        i += 2
    out_code = pos[i] if i < len(pos) and pos[i] and not is_number(pos[i]) else ""
    if out_code:
        i += 1
    explicit = pos[i] if i < len(pos) and re.fullmatch(r"-?\d+", pos[i] or "") else ""
    abbr = c.get("abbr").lower() or ("on" if c.name.startswith("cvt") else "")
    in_abbr = abbr in ("on", "in", "values")
    out_abbr = abbr not in ("off", "in")
    adj = c.get("adj").lower()
    disp = c.first("disp", "order").lower()

    shown = [show_number(v) for v in values]
    in_text = _join(shown, seps)
    if sub:
        in_text = (f"{in_text} {_unit_text(in_unit, in_code, values[0], in_abbr, c)} {show_number(sub[0])} "
                   f"{_unit_text(sub[2], sub[1], sub[0], in_abbr, c)}")
    elif adj in ("on", "mid", "yes", "y"):
        name = in_unit.symbol if (in_abbr or in_unit is None or in_unit.dim.startswith("temperature")) \
            else _name(in_unit, False, c)
        in_text = f"{in_text}-{name if in_unit else in_code}"
        if adj == "mid":
            post = pos[i + (1 if explicit else 0)] if i + (1 if explicit else 0) < len(pos) else ""
            in_text += post
    else:
        last = values[-1]
        in_text = f"{in_text} {_unit_text(in_unit, in_code, last, in_abbr, c)}".strip()
    if abbr == "values":
        in_text = _join(shown, seps)
    if in_unit is None:
        return in_text  # unknown unit: show the value as written

    outputs = []
    for code in (out_code or in_unit.default).split():
        if code == "ftin":
            outputs.append(_feet_inches(values, seps, in_unit, in_code, sub))
            continue
        u = lookup(code)
        if u is None or u.dim != in_unit.dim:
            continue
        outs = []
        for v in values:
            try:
                x = _to_si(parse_number(v), in_unit, in_code)
            except (ValueError, ZeroDivisionError):
                outs = []
                break
            if sub:
                x += _to_si(parse_number(sub[0]), sub[2], sub[1])
            ratio = in_unit.factor / u.factor if u.factor else 1
            y = _from_si(x, u, code)
            outs.append(_rounded(y, c, explicit, v if not sub else sub[0], ratio if not sub else
                                 sub[2].factor / u.factor))
        if not outs:
            continue
        out_seps = [_OUT_SEPS.get(s, s) for s in seps]
        text = _join(outs, out_seps)
        outputs.append(text if abbr == "values" else f"{text} {_unit_text(u, code, outs[-1], out_abbr, c)}")
    if not outputs:
        return in_text
    out_text = "; ".join(outputs)
    if disp in ("flip", "flip2"):
        flipped = " ".join(outputs[0].split(" ")[:-1])
        u = lookup((out_code or in_unit.default).split()[0])
        name = _unit_text(u, "", flipped, in_abbr, c) if u else ""
        return f"{flipped} {name} ({_join(shown, seps)} {in_unit.symbol})"
    if disp == "or":
        return f"{in_text} or {out_text}"
    if disp in ("output only", "out"):
        return out_text
    if disp in ("output number only", "number"):
        return out_text.split(" ")[0]
    if disp == "comma":
        return f"{in_text}, {out_text}"
    if disp == "slash":
        return f"{in_text}/{out_text}"
    if disp == "sqbr":
        return f"{in_text} [{out_text}]"
    if disp == "unit":
        return _unit_text(in_unit, in_code, "2", in_abbr, c)
    return f"{in_text} ({out_text})"


def _feet_inches(values, seps, in_unit, in_code, sub) -> str:
    outs = []
    for v in values:
        x = _to_si(parse_number(v), in_unit, in_code)
        if sub:
            x += _to_si(parse_number(sub[0]), sub[2], sub[1])
        halves = round(x / 0.0254 * 2)  # to the half inch, as convert shows 4 ft 8+1⁄2 in
        feet, rest = divmod(halves, 24)
        inches = f"{rest // 2}+1⁄2" if rest % 2 else f"{rest // 2}"
        outs.append(f"{feet} ft {inches} in")
    return _join(outs, [_OUT_SEPS.get(s, s) for s in seps])


@renders("railgauge", "rail gauge", "track gauge")
def _rail_gauge(c: Call) -> str:
    m = re.fullmatch(r"([\d.]+)\s*(mm|m|ft|in)?", c.get(1))
    if not m:
        return c.get(1)
    return render_convert(Call("convert", {"1": m.group(1), "2": m.group(2) or "mm", "3": "ftin" if
                                           (m.group(2) or "mm") == "mm" else "mm", "abbr": "on"}, c.ctx))


@renders("pop density", "popdensity")
def _pop_density(c: Call) -> str:
    try:
        people, area = parse_number(c.get(1)), parse_number(c.get(2))
    except ValueError:
        return ""
    unit = lookup(c.get(3) or "km2")
    if not area or unit is None:
        return ""
    per = people / area
    prec = int(c.get("prec")) if re.fullmatch(r"-?\d+", c.get("prec")) else 0
    out_unit = lookup(c.get(4) or unit.default)
    text = f"{fmt(per, prec)}/{unit.symbol}"
    if out_unit is not None and out_unit.dim == unit.dim:
        other = per * out_unit.factor / unit.factor
        text += f" ({fmt(other, prec)}/{out_unit.symbol})"
    return text
