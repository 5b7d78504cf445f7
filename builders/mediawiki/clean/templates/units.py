"""The unit table of {{convert}}: the common units of English Wikipedia, with their names, symbols, size
in SI units and the unit convert shows them in when the page names none (Module:Convert's defaults)."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Unit:
    dim: str  # what it measures; only units of the same dim convert
    factor: float  # in SI units of dim (temperatures: see convert.py)
    symbol: str
    name: str  # singular, British spelling (convert's default); sp=us swaps "metre" -> "meter"
    plural: str
    default: str = ""  # output unit(s) when the page gives none, space-separated


def _u(dim, factor, symbol, name, plural=None, default=""):
    return Unit(dim, factor, symbol, name, plural or name + "s", default)


UNITS: dict[str, Unit] = {
    # length
    "m": _u("length", 1, "m", "metre", default="ft"),
    "km": _u("length", 1e3, "km", "kilometre", default="mi"),
    "cm": _u("length", 1e-2, "cm", "centimetre", default="in"),
    "mm": _u("length", 1e-3, "mm", "millimetre", default="in"),
    "um": _u("length", 1e-6, "μm", "micrometre", default="in"),
    "nm": _u("length", 1e-9, "nm", "nanometre", default="in"),
    "Mm": _u("length", 1e6, "Mm", "megametre", default="mi"),
    "Gm": _u("length", 1e9, "Gm", "gigametre", default="mi"),
    "mi": _u("length", 1609.344, "mi", "mile", default="km"),
    "smi": _u("length", 1609.344, "mi", "statute mile", default="km"),
    "ft": _u("length", 0.3048, "ft", "foot", "feet", default="m"),
    "in": _u("length", 0.0254, "in", "inch", "inches", default="mm"),
    "yd": _u("length", 0.9144, "yd", "yard", default="m"),
    "nmi": _u("length", 1852, "nmi", "nautical mile", default="km mi"),
    "fathom": _u("length", 1.8288, "fathoms", "fathom", default="m ft"),
    "furlong": _u("length", 201.168, "furlongs", "furlong", default="m"),
    "chain": _u("length", 20.1168, "chains", "chain", default="m"),
    "AU": _u("length", 1.495978707e11, "AU", "astronomical unit", default="km mi"),
    "ly": _u("length", 9.4607304725808e15, "ly", "light-year", default="km"),
    "pc": _u("length", 3.0856775814913673e16, "pc", "parsec", default="ly"),
    # area
    "m2": _u("area", 1, "m²", "square metre", default="sqft"),
    "km2": _u("area", 1e6, "km²", "square kilometre", default="sqmi"),
    "cm2": _u("area", 1e-4, "cm²", "square centimetre", default="sqin"),
    "sqmi": _u("area", 2589988.110336, "sq mi", "square mile", default="km2"),
    "sqft": _u("area", 0.09290304, "sq ft", "square foot", "square feet", default="m2"),
    "sqin": _u("area", 6.4516e-4, "sq in", "square inch", "square inches", default="cm2"),
    "sqyd": _u("area", 0.83612736, "sq yd", "square yard", default="m2"),
    "ha": _u("area", 1e4, "ha", "hectare", default="acre"),
    "acre": _u("area", 4046.8564224, "acres", "acre", default="ha"),
    # volume
    "m3": _u("volume", 1, "m³", "cubic metre", default="cuft"),
    "km3": _u("volume", 1e9, "km³", "cubic kilometre", default="cumi"),
    "cm3": _u("volume", 1e-6, "cm³", "cubic centimetre", default="cuin"),
    "cc": _u("volume", 1e-6, "cc", "cubic centimetre", default="cuin"),
    "cumi": _u("volume", 4168181825.440579, "cu mi", "cubic mile", default="km3"),
    "cuft": _u("volume", 0.028316846592, "cu ft", "cubic foot", "cubic feet", default="m3"),
    "cuin": _u("volume", 1.6387064e-5, "cu in", "cubic inch", "cubic inches", default="cm3"),
    "cuyd": _u("volume", 0.764554857984, "cu yd", "cubic yard", default="m3"),
    "L": _u("volume", 1e-3, "L", "litre", default="impgal USgal"),
    "mL": _u("volume", 1e-6, "mL", "millilitre", default="USfloz"),
    "ML": _u("volume", 1e3, "ML", "megalitre", default="USgal"),
    "USgal": _u("volume", 3.785411784e-3, "US gal", "US gallon", default="L"),
    "impgal": _u("volume", 4.54609e-3, "imp gal", "imperial gallon", default="L"),
    "USfloz": _u("volume", 2.95735295625e-5, "US fl oz", "US fluid ounce", default="mL"),
    "oilbbl": _u("volume", 0.158987294928, "bbl", "barrel", default="m3"),
    "acre.ft": _u("volume", 1233.48183754752, "acre⋅ft", "acre-foot", "acre-feet", default="m3"),
    # mass
    "kg": _u("mass", 1, "kg", "kilogram", default="lb"),
    "g": _u("mass", 1e-3, "g", "gram", default="oz"),
    "mg": _u("mass", 1e-6, "mg", "milligram", default="gr"),
    "gr": _u("mass", 6.479891e-5, "gr", "grain", default="mg"),
    "t": _u("mass", 1e3, "t", "tonne", default="LT ST"),
    "lb": _u("mass", 0.45359237, "lb", "pound", default="kg"),
    "oz": _u("mass", 0.028349523125, "oz", "ounce", default="g"),
    "st": _u("mass", 6.35029318, "st", "stone", "stone", default="lb kg"),
    "LT": _u("mass", 1016.0469088, "long tons", "long ton", default="t"),
    "ST": _u("mass", 907.18474, "short tons", "short ton", default="t"),
    "carat": _u("mass", 2e-4, "carats", "carat", default="g"),
    # speed
    "m/s": _u("speed", 1, "m/s", "metre per second", "metres per second", default="ft/s"),
    "km/h": _u("speed", 1 / 3.6, "km/h", "kilometre per hour", "kilometres per hour", default="mph"),
    "mph": _u("speed", 0.44704, "mph", "mile per hour", "miles per hour", default="km/h"),
    "ft/s": _u("speed", 0.3048, "ft/s", "foot per second", "feet per second", default="m/s"),
    "kn": _u("speed", 1852 / 3600, "kn", "knot", default="km/h mph"),
    # temperature (factor = size of one degree in kelvins; offsets in convert.py)
    "C": _u("temperature", 1, "°C", "degree Celsius", "degrees Celsius", default="F"),
    "F": _u("temperature", 5 / 9, "°F", "degree Fahrenheit", "degrees Fahrenheit", default="C"),
    "K": _u("temperature", 1, "K", "kelvin", default="C F"),
    "C-change": _u("temperature change", 1, "°C", "degree Celsius", "degrees Celsius", default="F-change"),
    "F-change": _u("temperature change", 5 / 9, "°F", "degree Fahrenheit", "degrees Fahrenheit",
                   default="C-change"),
    "K-change": _u("temperature change", 1, "K", "kelvin", default="F-change"),
    # power, energy, pressure, torque
    "W": _u("power", 1, "W", "watt", default="hp"),
    "kW": _u("power", 1e3, "kW", "kilowatt", default="hp"),
    "MW": _u("power", 1e6, "MW", "megawatt", default="hp"),
    "GW": _u("power", 1e9, "GW", "gigawatt", default="hp"),
    "hp": _u("power", 745.69987158227, "hp", "horsepower", "horsepower", default="kW"),
    "bhp": _u("power", 745.69987158227, "bhp", "brake horsepower", "brake horsepower", default="kW"),
    "PS": _u("power", 735.49875, "PS", "metric horsepower", "metric horsepower", default="kW hp"),
    "J": _u("energy", 1, "J", "joule", default="cal"),
    "kJ": _u("energy", 1e3, "kJ", "kilojoule", default="kcal"),
    "MJ": _u("energy", 1e6, "MJ", "megajoule", default="kWh"),
    "cal": _u("energy", 4.184, "cal", "calorie", default="J"),
    "kcal": _u("energy", 4184, "kcal", "kilocalorie", default="kJ"),
    "kWh": _u("energy", 3.6e6, "kWh", "kilowatt-hour", default="MJ"),
    "Pa": _u("pressure", 1, "Pa", "pascal", default="psi"),
    "kPa": _u("pressure", 1e3, "kPa", "kilopascal", default="psi"),
    "MPa": _u("pressure", 1e6, "MPa", "megapascal", default="psi"),
    "psi": _u("pressure", 6894.757293168, "psi", "pound per square inch", "pounds per square inch",
              default="kPa"),
    "bar": _u("pressure", 1e5, "bar", "bar", default="psi"),
    "atm": _u("pressure", 101325, "atm", "standard atmosphere", default="kPa"),
    "mmHg": _u("pressure", 133.322387415, "mmHg", "millimetre of mercury", "millimetres of mercury",
               default="kPa"),
    "inHg": _u("pressure", 3386.388640341, "inHg", "inch of mercury", "inches of mercury", default="kPa"),
    "Nm": _u("torque", 1, "N⋅m", "newton-metre", default="lbft"),
    "lbft": _u("torque", 1.3558179483314, "lb⋅ft", "pound-foot", "pound-feet", default="Nm"),
    # per area (population density)
    "/km2": _u("per area", 1e-6, "/km²", "per square kilometre", "per square kilometre", default="/sqmi"),
    "/sqmi": _u("per area", 1 / 2589988.110336, "/sq mi", "per square mile", "per square mile",
                default="/km2"),
}

ALIASES = {
    "metre": "m", "meter": "m", "metres": "m", "meters": "m", "kilometre": "km", "kilometer": "km",
    "kilometres": "km", "kilometers": "km", "mile": "mi", "miles": "mi", "foot": "ft", "feet": "ft",
    "inch": "in", "inches": "in", "yard": "yd", "yards": "yd", "µm": "um", "μm": "um",
    "km²": "km2", "sqkm": "km2", "km^2": "km2", "mi2": "sqmi", "sq mi": "sqmi", "ft2": "sqft", "sq ft": "sqft",
    "m²": "m2", "sqm": "m2", "in2": "sqin", "yd2": "sqyd", "acres": "acre", "hectare": "ha", "hectares": "ha",
    "m³": "m3", "km³": "km3", "cm³": "cm3", "mi3": "cumi", "ft3": "cuft", "in3": "cuin", "yd3": "cuyd",
    "l": "L", "litre": "L", "liter": "L", "ml": "mL", "Ml": "ML", "gal": "USgal", "usgal": "USgal",
    "CID": "cuin", "bbl": "oilbbl", "acre-ft": "acre.ft", "acre·ft": "acre.ft",
    "tonne": "t", "tonnes": "t", "MT": "t", "kilogram": "kg", "kilograms": "kg", "pound": "lb", "pounds": "lb",
    "lbs": "lb", "ounce": "oz", "ounces": "oz", "long ton": "LT", "short ton": "ST",
    "mi/h": "mph", "kph": "km/h", "kmh": "km/h", "km/hr": "km/h", "kt": "kn", "knot": "kn", "knots": "kn",
    "°C": "C", "°F": "F", "degC": "C", "degF": "F", "°C-change": "C-change", "°F-change": "F-change",
    "N·m": "Nm", "N-m": "Nm", "lb·ft": "lbft", "ft·lbf": "lbft", "ftlbf": "lbft", "lbf·ft": "lbft",
    "PD/km2": "/km2", "PD/sqmi": "/sqmi", "/mi2": "/sqmi", "per km2": "/km2", "per sqmi": "/sqmi",
}

# "Moilbbl" (million barrels), "e6acre" (million acres), "koilbbl/d" (thousand barrels a day).
MAGNITUDES = {"k": (1e3, "thousand"), "M": (1e6, "million"), "G": (1e9, "billion"), "T": (1e12, "trillion"),
              "e3": (1e3, "thousand"), "e6": (1e6, "million"), "e9": (1e9, "billion"), "e12": (1e12, "trillion")}
_SCALABLE = ("oilbbl", "cuft", "USgal", "impgal", "acre", "ha", "m3", "km2", "sqmi", "carat", "t", "L", "cumi")


def lookup(code: str) -> Unit | None:
    code = code.strip()
    code = ALIASES.get(code, code)
    if code in UNITS:
        return UNITS[code]
    if code.endswith("/d"):
        base = lookup(code[:-2])
        if base:
            return Unit(base.dim + " per day", base.factor, base.symbol + "/d", base.name + " per day",
                        base.plural + " per day", _per_day(base.default))
    for prefix, (scale, word) in MAGNITUDES.items():
        rest = code[len(prefix):]
        if code.startswith(prefix) and rest in _SCALABLE:
            base = UNITS[rest]
            shown = base.plural if base.symbol.isalpha() else base.symbol  # "million barrels", "million m³"
            return Unit(base.dim, base.factor * scale, f"{word} {shown}", f"{word} {base.plural}",
                        f"{word} {base.plural}", _scaled(base.default, prefix))
    return None


def _per_day(default: str) -> str:
    return " ".join(d + "/d" for d in default.split())


def _scaled(default: str, prefix: str) -> str:
    return " ".join((("e" + {"k": "3", "M": "6", "G": "9", "T": "12"}.get(prefix, prefix[1:])) + d)
                    if d in _SCALABLE else d for d in default.split())
