"""Foreign terms and pronunciations: lang, lang-xx / langx, transl, IPA, IPA-xx, IPAc-en, respell, nihongo, zh.

`{{lang|fr|la Belle Époque}}` shows the text; `{{lang-fr|la Belle Époque}}` and `{{langx|fr|…}}` show it
after the language's name ("French: la Belle Époque"), as English Wikipedia does.
"""
from __future__ import annotations

from wiki_qa.builders.mediawiki.clean.templates.registry import Call, renders, renders_prefix

# ISO 639 codes -> the English names the lang-xx / IPA-xx templates print.
LANGUAGES = dict(line.split(":", 1) for line in """af:Afrikaans|am:Amharic|ar:Arabic|arc:Aramaic|az:Azerbaijani
|be:Belarusian|bg:Bulgarian|bn:Bengali|bo:Tibetan|br:Breton|bs:Bosnian|ca:Catalan|ce:Chechen|cs:Czech
|cu:Church Slavonic|cy:Welsh|da:Danish|de:German|dv:Maldivian|el:Greek|en:English|eo:Esperanto|es:Spanish
|et:Estonian|eu:Basque|fa:Persian|ff:Fula|fi:Finnish|fil:Filipino|fo:Faroese|fr:French|fy:West Frisian
|ga:Irish|gd:Scottish Gaelic|gl:Galician|gn:Guarani|grc:Ancient Greek|gsw:Swiss German|gu:Gujarati|ha:Hausa
|haw:Hawaiian|he:Hebrew|hi:Hindi|hr:Croatian|ht:Haitian Creole|hu:Hungarian|hy:Armenian|id:Indonesian
|ig:Igbo|is:Icelandic|it:Italian|iu:Inuktitut|ja:Japanese|jv:Javanese|ka:Georgian|kk:Kazakh|km:Khmer
|kn:Kannada|ko:Korean|ku:Kurdish|kw:Cornish|ky:Kyrgyz|la:Latin|lb:Luxembourgish|ln:Lingala|lo:Lao
|lt:Lithuanian|ltg:Latgalian|lv:Latvian|mg:Malagasy|mi:Māori|mk:Macedonian|ml:Malayalam|mn:Mongolian
|mr:Marathi|ms:Malay|mt:Maltese|my:Burmese|nah:Nahuatl|nb:Norwegian Bokmål|ne:Nepali|nl:Dutch
|nn:Norwegian Nynorsk|no:Norwegian|nv:Navajo|ny:Chichewa|oc:Occitan|om:Oromo|or:Odia|os:Ossetian
|pa:Punjabi|pcm:Nigerian Pidgin|pl:Polish|ps:Pashto|pt:Portuguese|qu:Quechua|rm:Romansh|ro:Romanian
|ru:Russian|rw:Kinyarwanda|sa:Sanskrit|sc:Sardinian|scn:Sicilian|sd:Sindhi|se:Northern Sami
|sh:Serbo-Croatian|si:Sinhala|sk:Slovak|sl:Slovene|sm:Samoan|sn:Shona|so:Somali|sq:Albanian|sr:Serbian
|st:Sotho|su:Sundanese|sv:Swedish|sw:Swahili|syc:Syriac|ta:Tamil|te:Telugu|tg:Tajik|th:Thai|ti:Tigrinya
|tk:Turkmen|tl:Tagalog|tn:Tswana|to:Tongan|tr:Turkish|tt:Tatar|ug:Uyghur|uk:Ukrainian|ur:Urdu|uz:Uzbek
|vi:Vietnamese|wo:Wolof|xh:Xhosa|yi:Yiddish|yo:Yoruba|zh:Chinese|zu:Zulu|ang:Old English|non:Old Norse
|got:Gothic|egy:Egyptian|akk:Akkadian|sux:Sumerian|peo:Old Persian|pal:Middle Persian|ota:Ottoman Turkish
|kab:Kabyle|ber:Berber|tzm:Central Atlas Tamazight|shi:Tashelhit|rif:Tarifit|sga:Old Irish|enm:Middle English
|fro:Old French|frm:Middle French|goh:Old High German|gmh:Middle High German|pro:Old Occitan|dsb:Lower Sorbian
|hsb:Upper Sorbian|csb:Kashubian|rue:Rusyn|yue:Cantonese|cmn:Mandarin Chinese|nan:Min Nan|hak:Hakka
|wuu:Wu Chinese|bm:Bambara|ak:Akan|tw:Twi|ee:Ewe|kg:Kongo|lg:Luganda|rn:Kirundi|ss:Swazi|ts:Tsonga
|ve:Venda|nso:Northern Sotho|ki:Kikuyu|luo:Luo|kr:Kanuri|fuc:Pulaar|snk:Soninke|dyu:Dyula|mos:Mooré
|ar-latn:Arabic|sr-latn:Serbian|sr-cyrl:Serbian|zh-hans:Chinese|zh-hant:Chinese|zh-latn:Chinese
|pt-br:Brazilian Portuguese|en-us:American English|en-gb:British English|fr-ca:Canadian French
|es-mx:Mexican Spanish|de-at:Austrian German|de-ch:Swiss Standard German|nds:Low German|lmo:Lombard
|vec:Venetian|nap:Neapolitan|fur:Friulian|lij:Ligurian|co:Corsican|an:Aragonese|ast:Asturian|ext:Extremaduran
|lad:Ladino|rom:Romani|ce-latn:Chechen|cv:Chuvash|ba:Bashkir|sah:Yakut|udm:Udmurt|kv:Komi|mhr:Eastern Mari
|myv:Erzya|mdf:Moksha|krl:Karelian|vep:Veps|liv:Livonian|smn:Inari Sami|sms:Skolt Sami|fit:Meänkieli"""
                 .replace("\n", "").split("|"))

# The first positional argument of IPAc-en that are labels, not sounds.
_IPAC_LABELS = {"lang": "English pronunciation:", "local": "local pronunciation:", "pron": "pronounced",
                "pronunciation": "pronounced", "us": "US:", "uk": "UK:", "au": "Australian:", "ca": "Canadian:",
                "nz": "NZ:", "ie": "Irish:", "sa": "South African:", "also": "also", "or": "or",
                "ipa": "", "audio": "", "i": "", "in": "", "uk,": "UK:", "us,": "US:"}


def language(code: str) -> str:
    code = code.strip().lower()
    return LANGUAGES.get(code) or LANGUAGES.get(code.split("-")[0], "")


def _with_extras(text: str, c: Call) -> str:
    extras = []
    tr = c.first("translit", "tr", "transl")
    if tr:
        extras.append(f"romanized: {tr}")
    lit = c.first("lit", "literal")
    if lit:
        extras.append(f"lit. '{lit}'")
    return ", ".join([text] + extras)


@renders("lang", "lang-x", "script/lang", "language", "lang2")
def _lang(c: Call) -> str:
    return c.first("text", 2)


@renders("transl", "transliteration", "translit", "rtl-lang", "ltr-lang")
def _transl(c: Call) -> str:
    pos = [p for p in c.positional() if p]
    return c.get("text") or (pos[-1] if len(pos) > 1 else "")


def _labelled(name: str, text: str, c: Call) -> str:
    label = c.get("label")
    if label.lower() == "none" or c.flag("nolabel"):
        name = ""
    elif label:
        name = label
    return (f"{name}: " if name else "") + _with_extras(text, c)


def _named(code: str, c: Call, first: int) -> str:
    """{{lang-fr|text|translit|translation}} (first=1) and {{langx|fr|text|translit|translation}} (first=2)."""
    text = c.first("text", first)
    if not text:
        return ""
    if c.get(first + 1) and not c.first("translit", "tr", "transl"):
        c.params["translit"] = c.get(first + 1)
    if c.get(first + 2) and not c.get("lit"):
        c.params["lit"] = c.get(first + 2)
    return _labelled(language(code), text, c)


@renders_prefix("lang-")
def _lang_xx(c: Call) -> str:
    return _named(c.name.split("-", 1)[1], c, 1)


@renders("langx")
def _langx(c: Call) -> str:
    return _named(c.get(1), c, 2)


@renders("in lang", "in language")
def _in_lang(c: Call) -> str:
    names = [language(p) or p for p in c.positional() if p]
    return f"(in {' and '.join(names)})" if names else ""


def _bracket(ipa: str, default: str = "[]") -> str:
    if not ipa or ipa[0] in "/[⟨(" or ipa[-1] in "/]⟩":
        return ipa
    return f"{default[0]}{ipa}{default[1]}"


@renders("ipa", "ipa2")
def _ipa(c: Call) -> str:
    pos = c.positional()
    if len(pos) >= 2 and language(pos[0]) and pos[1]:
        # the current form: {{IPA|fr|ʁ|…}} with the language first
        return f"{language(pos[0])} pronunciation: {_bracket(pos[1])}"
    return _bracket(c.get(1), "//") if c.get(1) else ""


@renders_prefix("ipa-")
def _ipa_xx(c: Call) -> str:
    code = c.name.split("-", 1)[1]
    ipa = _bracket(c.get(1))
    if not ipa:
        return ""
    label = c.get(2).lower()
    if label == "lang":
        return f"{language(code) or code} pronunciation: {ipa}"
    if label == "pron":
        return f"pronounced {ipa}"
    if label == "local":
        return f"local pronunciation: {ipa}"
    return ipa


@renders_prefix("ipac-")
def _ipac(c: Call) -> str:
    pos = c.positional()
    labels = []
    while pos and pos[0].strip().lower() in _IPAC_LABELS:
        label = _IPAC_LABELS[pos.pop(0).strip().lower()]
        if label:
            labels.append(label)
    sounds = "".join(pos).replace("_", " ").strip()
    if not sounds:
        return " ".join(labels)
    return " ".join(labels + [f"/{sounds}/"])


@renders("respell", "pronounced")
def _respell(c: Call) -> str:
    out = ""
    for p in c.positional():
        if not p:
            continue
        if out and not out.endswith(" ") and not p.startswith("_"):
            out += "-"
        out += p.replace("_", " ")
    return out


@renders("nihongo", "nihongo4", "nihongo krt", "nihongo foot")
def _nihongo(c: Call) -> str:
    english, kanji, romaji = c.first("1"), c.get(2), c.get(3)
    extra = [c.get(4), c.get(5)]
    inside = ", ".join(p for p in [kanji, romaji, *extra] if p)
    if english:
        return f"{english} ({inside})" if inside else english
    head = kanji
    rest = ", ".join(p for p in [romaji, *extra] if p)
    return f"{head} ({rest})" if head and rest else head or rest


@renders("nihongo3")
def _nihongo3(c: Call) -> str:
    english, kanji, romaji = c.get(1), c.get(2), c.get(3)
    inside = ", ".join(p for p in [kanji, english, c.get(4)] if p)
    head = romaji or english
    if head == english:
        inside = ", ".join(p for p in [kanji, c.get(4)] if p)
    return f"{head} ({inside})" if inside else head


_ZH = [("c", "Chinese"), ("t", "traditional Chinese"), ("s", "simplified Chinese"), ("p", "pinyin"),
       ("tp", "Tongyong Pinyin"), ("w", "Wade–Giles"), ("j", "Jyutping"), ("cy", "Cantonese Yale"),
       ("poj", "Pe̍h-ōe-jī"), ("l", "lit.")]


@renders("zh", "chinese", "zh-full")
def _zh(c: Call) -> str:
    parts = [f"{label}: {c.get(k)}" for k, label in _ZH if c.get(k)]
    return "; ".join(parts)


@renders("korean", "ko")
def _korean(c: Call) -> str:
    hangul, hanja, rr = c.first("hangul", 1), c.first("hanja", 2), c.first("rr", 3)
    parts = [("Korean: " + hangul) if hangul else "", ("Hanja: " + hanja) if hanja else "",
             ("RR: " + rr) if rr else ""]
    return "; ".join(p for p in parts if p)
