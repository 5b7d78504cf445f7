"""Inline templates render to what a reader sees, one test per family, on real sentences.

Every snippet below is copied verbatim from a dump in ../shared/data/mediawiki (page text, CC BY-SA; the
dump is named beside it), and test_snippets_are_real_text_from_the_dumps checks that they still are. The
expected outputs were checked by eye against how English Wikipedia renders these templates.
"""
from __future__ import annotations

import bz2
import html
from functools import lru_cache

import pytest

from wiki_qa.builders.base import SourceStats
from wiki_qa.builders.mediawiki.clean import CleanConfig, options, to_text
from wiki_qa.builders.mediawiki.clean.templates import default_table

from .helpers import all_rows, build

EN, DB, VI = "enwiki-206pages.xml.bz2", "dbpedia-minidump-en.xml.bz2", "viwiki-truncated-no-closing-tag.xml"

# (dump, wikitext as it stands in the dump, the text a reader sees)
CASES = {
    "convert, a range with 'and'": (
        EN, "They cover between {{convert|2|and|5|km|mi}} per night; however, some studies have shown that they "
            "may traverse as far as {{convert|30|km|mi}} in a night.",
        "They cover between 2 and 5 kilometres (1.2 and 3.1 mi) per night; however, some studies have shown that "
        "they may traverse as far as 30 kilometres (19 mi) in a night."),
    "convert, a dash range shares one precision": (
        EN, "Their primary source, ''Trinervitermes'', forages in small but dense patches of "
            "{{convert|25|-|100|cm|in}}.",
        "Their primary source, Trinervitermes, forages in small but dense patches of 25–100 centimetres "
        "(9.8–39.4 in)."),
    "convert, abbr=on and an explicit precision": (
        EN, "Rainfall is fairly plentiful along the coastal part of the Tell Atlas, ranging from "
            "{{convert|400|to|670|mm|1|abbr=on}} annually, the amount of precipitation increasing from west to east.",
        "Rainfall is fairly plentiful along the coastal part of the Tell Atlas, ranging from 400 to 670 mm "
        "(15.7 to 26.4 in) annually, the amount of precipitation increasing from west to east."),
    "convert, temperatures": (
        EN, "In direct sunlight, the spacecraft could be heated to over {{convert|200|C|F}} while the parts in "
            "shadow would be {{convert|-100|C|F}}.",
        "In direct sunlight, the spacecraft could be heated to over 200 °C (392 °F) while the parts in shadow "
        "would be −100 °C (−148 °F)."),
    "convert, American spelling": (
        DB, "Since 2015, the Arkenberge hills in Pankow at {{convert|122|m|sp=us}} elevation, have been the highest "
            "point",
        "Since 2015, the Arkenberge hills in Pankow at 122 meters (400 ft) elevation, have been the highest point"),
    "cvt": (
        DB, "Including these marginal seas the coast line of the Atlantic measures {{cvt|111866|km}} compared to "
            "{{cvt|135663|km}} for the Pacific.",
        "Including these marginal seas the coast line of the Atlantic measures 111,866 km (69,510 mi) compared to "
        "135,663 km (84,297 mi) for the Pacific."),
    "lang": (
        EN, "It began to be used in English, possibly via [[French language|French]] ''{{lang|fr|anthropologie}}'', "
            "by the early 18th century.",
        "It began to be used in English, possibly via French anthropologie, by the early 18th century."),
    "lang-xx, with a nested template": (
        EN, "Aristotle was well known among medieval Muslim intellectuals and revered as \"The First Teacher\" "
            "({{lang-ar|{{big|المعلم الأول}}}}).",
        "Aristotle was well known among medieval Muslim intellectuals and revered as \"The First Teacher\" "
        "(Arabic: المعلم الأول)."),
    "lang-xx and transl": (
        EN, "'''Algeria''' ({{lang-ar|{{large|الجزائر}}}} ''{{transl|ar|al-Jazā'ir}}''; {{lang-ber|ⵍⵣⵣⴰⵢⴻⵔ}} "
            "''Dzayer''), officially '''People's Democratic Republic of Algeria''', is a [[sovereign state]] in "
            "[[North Africa]]",
        "Algeria (Arabic: الجزائر al-Jazā'ir; Berber: ⵍⵣⵣⴰⵢⴻⵔ Dzayer), officially People's Democratic Republic "
        "of Algeria, is a sovereign state in North Africa"),
    "nihongo": (
        DB, "[[Ranma Saotome]] and his father [[Genma Saotome|Genma]] fall into the cursed springs at "
            "{{nihongo|Jusenkyo|呪泉郷}}.",
        "Ranma Saotome and his father Genma fall into the cursed springs at Jusenkyo (呪泉郷)."),
    "nihongo with markup and an empty romaji": (
        DB, "[[Soun Tendo]] is a fellow practitioner of {{nihongo|''Musabetsu Kakutō Ryū''|無差別格闘流|}} or "
            "\"Anything-Goes School\" of martial arts",
        "Soun Tendo is a fellow practitioner of Musabetsu Kakutō Ryū (無差別格闘流) or \"Anything-Goes School\" "
        "of martial arts"),
    "nowrap": (
        DB, "the development of {{nowrap|2,000 MW}}-worth of new [[wind farm]]s and {{nowrap|500 MW}} of solar "
            "capacity",
        "the development of 2,000 MW-worth of new wind farms and 500 MW of solar capacity"),
    "small": (
        EN, "{{lang|grc|Ἀπόλλων}}, ''Apollōn'' ({{small|[[Genitive|GEN]]}} {{lang|grc|Ἀπόλλωνος}})",
        "Ἀπόλλων, Apollōn (GEN Ἀπόλλωνος)"),
    "val": (
        EN, "The ampere is equivalent to one [[coulomb]] (roughly {{val|6.241|e=18}} times the [[elementary "
            "charge]]) per second.",
        "The ampere is equivalent to one coulomb (roughly 6.241×10¹⁸ times the elementary charge) per second."),
    "formatnum": (
        EN, "The highest point is [[Mount Tahat]] ({{formatnum: 3003}} m).",
        "The highest point is Mount Tahat (3,003 m)."),
    "as of, lower case": (
        DB, "with over 345,000 employees {{as of|2020|lc=y}}.",
        "with over 345,000 employees as of 2020."),
    "as of": (
        DB, "{{As of|2019}} the [[Larger Urban Zones|functional urban area]] was home to about 5.2&nbsp;million "
            "people.",
        "As of 2019 the functional urban area was home to about 5.2 million people."),
    "IPAc-en": (
        EN, "'''Albedo''' ({{IPAc-en|æ|l|ˈ|b|iː|d|oʊ}}) or '''reflection coefficient'''",
        "Albedo (/ælˈbiːdoʊ/) or reflection coefficient"),
    "IPAc-en, respell and IPA-xx with a label": (
        DB, "'''Berlin''' ({{IPAc-en|b|ɜːr|ˈ|l|ɪ|n}} {{respell|bur|LIN}}, {{IPA-de|bɛʁˈliːn|lang|de-Berlin.ogg}})",
        "Berlin (/bɜːrˈlɪn/ bur-LIN, German pronunciation: [bɛʁˈliːn])"),
    "IPA-xx": (
        DB, "In German, her last name is pronounced {{IPA-de|ˈmɛʁkl̩|}},",
        "In German, her last name is pronounced [ˈmɛʁkl̩],"),
    "chem": (
        EN, "the general formula is  {{chem|C|''n''|H|2''n''−2''k''+2}}, where ''k'' is the number of independent "
            "loops.",
        "the general formula is CnH2n−2k+2, where k is the number of independent loops."),
    "ill, the older form with the language first": (
        EN, "He dedicated himself wholly to studies at the [[Gotha]] [[Gymnasium (school)|gymnasium]] "
            "({{ill|de|Gymnasium Ernestinum Gotha|Gymnasium Ernestinum Gotha|Gymnasium illustre zu Gotha}}) in "
            "[[Saxe-Gotha-Altenburg]]",
        "He dedicated himself wholly to studies at the Gotha gymnasium (Gymnasium Ernestinum Gotha) in "
        "Saxe-Gotha-Altenburg"),
    "interlanguage link with lt=": (
        DB, "her father received a pastorate at the church in {{Interlanguage link|Quitzow (Perleberg)|de|lt=Quitzow|"
            "vertical-align=sup}} (a quarter of [[Perleberg]] in Brandenburg)",
        "her father received a pastorate at the church in Quitzow (a quarter of Perleberg in Brandenburg)"),
    "birth date": (EN, " | birth_date    = {{birth date|1809|2|12}}", "| birth_date = February 12, 1809"),
    "death date and age": (
        EN, " | death_date    = {{death date and age|1865|4|15|1809|2|12}}",
        "| death_date = April 15, 1865 (aged 56)"),
    "start date": (DB, " |OriginalAirDate={{Start date|2003|6|26}}", "|OriginalAirDate=June 26, 2003"),
    "marriage": (
        EN, " | spouse        = {{marriage|[[Mary Todd Lincoln|Mary Todd]]|November 4, 1842|1865|reason=his death}}",
        "| spouse = Mary Todd (m. 1842; died 1865)"),
    "sic": (
        DB, "wrote that the film was a \"gallant attempt to promoted {{sic}} moderate Islam",
        "wrote that the film was a \"gallant attempt to promoted [sic] moderate Islam"),
    "Vietnamese start date and age, at the revision's date": (
        VI, "{{Ngày bắt đầu và tuổi|1992|12|11}}", "11 tháng 12 năm 1992; 28 năm trước"),
}


@lru_cache(maxsize=None)
def dump_text(path) -> str:
    raw = path.read_bytes()
    return html.unescape((bz2.decompress(raw) if path.suffix == ".bz2" else raw).decode("utf-8"))


def test_snippets_are_real_text_from_the_dumps(mediawiki_dir):
    missing = [name for name, (dump, wikitext, _) in CASES.items()
               if wikitext.strip() not in dump_text(mediawiki_dir / dump)]
    assert not missing


@pytest.mark.parametrize("name", list(CASES))
def test_family_renders_what_the_page_shows(name):
    _, wikitext, shown = CASES[name]
    assert to_text(wikitext, today="2021-01-01") == shown


@pytest.fixture(scope="module")
def built(tmp_path_factory, mediawiki_dir):
    done = {}

    def get(name):
        if name not in done:
            done[name] = build(tmp_path_factory.mktemp("tpl"), mediawiki_dir / name, chunk={"min_words": 1})
        return done[name]
    return get


def test_wikivoyage_listings_are_the_guide(built):
    """enwikivoyage-nottingham-listings.xml: three real {{see}} listings under one heading."""
    dsd, _ = built("enwikivoyage-nottingham-listings.xml")
    text = "\n".join(r["text"] for r in all_rows(dsd))
    assert "Historic sites out of town" in text  # the heading is no longer empty, so it stays
    assert ("Newstead Abbey. The beautiful home of local poet Lord Byron is 12 miles (19 km) north of the city."
            in text)
    assert ("Great Central Railway - Nottingham, Mere Way, Ruddington, NG11 6JS (6 miles (9.7 km) south of "
            "Nottingham), ☎ +44 115 940-5705, email: info@gcrn.co.uk. Sa Su 10AM-5PM. Offers journeys on historic "
            "steam and diesel locomotives" in text)
    assert "Framework Knitters' Museum, Chapel St, Ruddington NG11 6HE, ☎ +44 115 984-6914. £9. This technology" \
        in text


def test_wikipedias_see_hatnote_is_not_a_listing():
    stats = SourceStats()
    assert to_text("{{see|History of Berlin}}\nBerlin is the capital.", stats=stats) == "Berlin is the capital."
    assert stats.tallies["templates_dropped"] == {"See": 1}


def test_dropped_templates_are_counted_by_name_in_the_report(built):
    _, report = built("enwiki-pear.xml")
    dropped = report["source"]["tallies"]["templates_dropped"]
    # infoboxes, citations and hatnotes go on purpose, and the report says so by name
    assert dropped["Taxobox"] == 1 and dropped["Citation needed"] == 1 and dropped["Other uses"] == 1
    assert "Convert" not in dropped and "Cite web" not in dropped  # rendered / cut inside a <ref> unseen


def test_user_templates_from_yaml():
    cfg = CleanConfig(templates={"Tooltip": "drop", "Nowrap": "[{1}]", "Sfrac": {"keep_args": [1, 2], "sep": "/"},
                                 "Coord": {"format": "{1}°{2}′{3}"}})
    opt = options(cfg)
    text = "{{tooltip|a|b}} {{nowrap|2,000 MW}} {{sfrac|1|2}} {{coord|13|19|N}} {{convert|5|km|mi}}"
    assert to_text(text, options=opt) == "[2,000 MW] 1/2 13°19′N 5 kilometres (3.1 mi)"
    assert default_table().keeps("tooltip")  # the built-in table is untouched by one config


def test_user_template_format_cannot_reach_python_objects():
    opt = options(CleanConfig(templates={"X": "{1.__class__} {0} {name}"}))
    assert to_text("{{x|a|name=n}}", options=opt) == "n"


def test_bad_template_spec_is_a_config_error():
    with pytest.raises(ValueError, match="keep_args or format"):
        CleanConfig(templates={"X": {"sep": "/"}})


def test_labels_are_english_wikipedias_so_other_wikis_get_the_text_alone(mediawiki_dir):
    """viwiki "Thụy Điển": vi.wikipedia prints "tiếng Thụy Điển:", never "Swedish:"; convert keeps symbols."""
    wikitext = ("'''Thụy Điển''' ({{lang-sv|Sverige}}, {{IPA-sv|ˈsvæ̌rjɛ||Sv-Sverige.ogg}}, [[tiếng Anh]]: Sweden), "
                "tên chính thức là '''Vương quốc Thụy Điển''' ({{lang-sv|Konungariket Sverige}}, tiếng Anh: "
                "Kingdom of Sweden)")
    assert wikitext in dump_text(mediawiki_dir / VI)
    assert to_text(wikitext, lang="vi") == ("Thụy Điển (Sverige, [ˈsvæ̌rjɛ], tiếng Anh: Sweden), tên chính thức "
                                            "là Vương quốc Thụy Điển (Konungariket Sverige, tiếng Anh: Kingdom of "
                                            "Sweden)")
    assert to_text("{{convert|2|and|5|km|mi}}", lang="vi") == "2–5 km (1.2–3.1 mi)"
