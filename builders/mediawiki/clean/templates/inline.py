"""Small inline families whose visible text is (mostly) one of their arguments, or a fixed character.

`{{nowrap|5 km}}`, `{{small|(1990)}}`, `{{abbr|NASA|National Aeronautics…}}`, `{{chem|H|2|O}}`,
`{{ill|Target|fr|Cible}}`, `{{sic|hte}}`, `{{!}}`, `{{ndash}}`, `{{hlist|a|b}}`, `{{flag|France}}`, ...
"""
from __future__ import annotations

from wiki_qa.builders.mediawiki.clean.templates.numbers import SUPERSCRIPT
from wiki_qa.builders.mediawiki.clean.templates.registry import Call, renders, renders_prefix


def _arg1(c: Call) -> str:
    return c.get(1)


def _last(c: Call) -> str:
    pos = [p for p in c.positional() if p]
    return pos[-1] if pos else c.get("text")


# Families that show one argument: the first, or the last (after a language or script code).
for _names, _fn in [
    (("nowrap", "nobr", "nobreak", "small", "smaller", "big", "larger", "large", "huge", "midsize", "nobold",
      "noitalic", "sc", "smallcaps", "small caps", "sc1", "sup", "sub", "vanchor", "visible anchor", "em", "strong", "var", "mvar", "math",
      "bold", "italic", "ital", "serif", "sans-serif", "mono", "monospace", "code", "kbd", "samp", "tt",
      "plain", "no italic", "noitalics", "not italic", "uppercase", "highlight", "mark", "strikethrough",
      "strike", "underline", "tooltip", "hover title", "abbr", "abbrlink", "abbreviation",
      "proper name", "nihongo2", "linktext nowrap", "plainlink", "clade name", "flag", "flagu",
      "flagcountry", "flag country", "flaglink"), _arg1),
    (("resize", "font", "color", "colored", "script", "sc2", "native name", "lang-zxx"), _last),
]:
    for _n in _names:
        renders(_n)(_fn)


@renders("linktext")
def _linktext(c: Call) -> str:
    return "".join(c.positional())


@renders("ill", "interlanguage link", "interlanguage link multi", "link-interwiki", "ill2", "illm")
def _ill(c: Call) -> str:
    return c.first("lt", 1)


@renders("sic")
def _sic(c: Call) -> str:
    pos = c.positional()
    if pos and pos[0] == "?":
        pos = pos[1:]
    return "".join(pos) if pos else "[sic]"


@renders("keypress", "key press", "kbd key")
def _keys(c: Call) -> str:
    return " + ".join(p for p in c.positional() if p)


@renders("angbr", "angle bracket", "angle brackets", "ipa-angbr")
def _angbr(c: Call) -> str:
    return f"⟨{c.get(1)}⟩"


@renders("chem", "chem2", "ce", "chemf")
def _chem(c: Call) -> str:
    return "".join(c.positional())


@renders("circa", "c.", "ca.")
def _circa(c: Call) -> str:
    return ("c. " + c.get(1)).strip() if c.get(1) else "c."


@renders("floruit", "fl.")
def _floruit(c: Call) -> str:
    return ("fl. " + c.get(1)).strip() if c.get(1) else "fl."


@renders("née", "nee")
def _nee(c: Call) -> str:
    return "née"


@renders("isbn", "issn")
def _isbn(c: Call) -> str:
    return f"{c.name.upper()} {', '.join(p for p in c.positional() if p)}"


@renders("n/a", "na")
def _na(c: Call) -> str:
    return c.get(1, "N/A")


@renders("lit", "literally")
def _lit(c: Call) -> str:
    return "lit. " + ", ".join(f"'{p}'" for p in c.positional() if p)


@renders("gloss")
def _gloss(c: Call) -> str:
    return f"‘{c.get(1)}’"


@renders("hlist", "flatlist", "cslist")
def _hlist(c: Call) -> str:
    return " · ".join(p for p in c.positional() if p)


@renders("ubl", "unbulleted list", "plainlist", "plain list", "bulleted list", "blist", "ordered list")
def _lines(c: Call) -> str:
    return "\n".join(p for p in c.positional() if p)


@renders("lsj")
def _lsj(c: Call) -> str:
    # {{LSJ|lo/gos|λόγος|ref}}: the link target is Beta Code, the Greek word is what shows
    return c.get(2) or c.get(1)


_CHARS = {
    "!": "|", "=": "=", "!!": "||", "pipe": "|", "nbsp": " ", "spaces": " ", "space": " ", "thinsp": " ",
    "ndash": "–", "en dash": "–", "–": "–", "mdash": "—", "em dash": "—", "—": "—", "snd": " – ",
    "spaced ndash": " – ", "spnd": " – ", "sndash": " – ", "mdashb": " — ", "spaced mdash": " — ",
    "·": " · ", "dot": " · ", "middot": "·", "•": " • ", "bull": " • ", "bullet": " • ", "'s": "'s",
    "'": "'", "' \"": "'\"", "\" '": "\"'", "shy": "", "zwsp": "", "wbr": "", "-": "", "clear": "",
    "okina": "ʻ", "ayin": "ʿ", "hamza": "ʾ", "=)": "", "ampersand": "&", "&": "&", "colon": ":", "sqrt": "√",
    "degree": "°", "times": "×", "minus": "−", "plus-minus": "±", "pm": "±",
}


def _char(c: Call) -> str:
    return _CHARS[c.name]


for _n in _CHARS:
    renders(_n)(_char)


@renders("lc:", "lcfirst:", "uc:", "ucfirst:")
def _case(c: Call) -> str:
    v = c.get(1)
    if c.name == "lc:":
        return v.lower()
    if c.name == "uc:":
        return v.upper()
    if c.name == "lcfirst:":
        return v[:1].lower() + v[1:]
    return v[:1].upper() + v[1:]


@renders_prefix("script/")
def _script(c: Call) -> str:
    return c.first("text", 1)


for _n in ("vr", "nq"):
    renders(_n)(_arg1)


@renders("ipaslink", "ipa link")
def _ipa_symbol(c: Call) -> str:
    return f"[{c.get(1)}]" if c.get(1) else ""


_MUSIC = {"flat": "♭", "b": "♭", "sharp": "♯", "#": "♯", "natural": "♮", "doubleflat": "𝄫", "bb": "𝄫",
          "doublesharp": "𝄪", "x": "𝄪"}


@renders("music")
def _music(c: Call) -> str:
    return _MUSIC.get(c.get(1).lower(), "")


_SHIP_PREFIXES = ("uss", "hms", "hmas", "hmcs", "hmnzs", "rms", "ss", "sms", "ins", "usns", "usat", "usc&gs",
                  "hnlms", "hdms", "fs", "ns", "mv", "rv", "ms")


def _ship(c: Call) -> str:
    name = f"{c.name.upper()} {c.get(1)}".strip()
    return f"{name} ({c.get(2)})" if c.get(2) else name


for _n in _SHIP_PREFIXES:
    renders(_n)(_ship)


@renders("us patent", "us patent reference")
def _us_patent(c: Call) -> str:
    number = c.get(1)
    return f"U.S. patent {int(number):,}" if number.isdigit() else f"U.S. patent {number}"


@renders("epc article", "epc rule", "epc 1973 article", "epc 1973 rule", "pct article", "pct rule")
def _treaty(c: Call) -> str:
    treaty, _, kind = c.name.rpartition(" ")
    return f"{kind.capitalize()} {c.get(1)} {treaty.upper().replace('EPC 1973', 'EPC 1973')}"


@renders("bibleref", "bibleverse", "bibleref2", "bible verse")
def _bible(c: Call) -> str:
    book, verse = c.get(1), c.get(2)
    return f"{book} {verse}".strip()


@renders("e", "e-")
def _e(c: Call) -> str:
    return f"×10{c.get(1).translate(SUPERSCRIPT)}" if c.get(1) else ""
