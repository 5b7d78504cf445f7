"""Page furniture: sections that are lists of links and citations, and headings left with nothing under them.

Section names are per language, as the real dumps in ../shared/data and the wikis of the seed languages
spell them (Welsh "Cyfeiriadau", Swahili "Viungo vya nje", Yoruba "Itokasi", Vietnamese "Tham khảo", ...).
The default `clean.drop_sections` is all of them: a name from one language hardly ever titles a prose
section in another.
"""
from __future__ import annotations

from typing import Iterator

DROP_SECTIONS: dict[str, list[str]] = {
    "en": ["References", "External links", "Further reading", "See also", "Notes", "Bibliography", "Sources",
           "Footnotes", "Citations", "Notes and references", "References and notes", "External link",
           "Related pages"],  # Simple English Wikipedia says "Related pages" for "See also"
    "cy": ["Cyfeiriadau", "Dolenni allanol", "Gweler hefyd", "Ffynonellau", "Darllen pellach", "Nodiadau"],
    "sw": ["Viungo vya nje", "Marejeo", "Tazama pia", "Vyanzo", "Maelezo"],
    "yo": ["Itokasi", "Ìtọ́kasí", "Àwọn ìtọ́kasí"],
    "ha": ["Manazarta", "Hanyoyin haɗi na waje"],
    "ig": ["Edensibịa"],
    "vi": ["Tham khảo", "Chú thích", "Liên kết ngoài", "Xem thêm", "Đọc thêm", "Thư mục"],
    "fo": ["Slóðir", "Keldur", "Ytri slóðir"],
    "pl": ["Przypisy", "Bibliografia", "Linki zewnętrzne", "Zobacz też"],
    "el": ["Παραπομπές", "Εξωτερικοί σύνδεσμοι", "Δείτε επίσης", "Βιβλιογραφία", "Σημειώσεις"],
    "de": ["Einzelnachweise", "Weblinks", "Siehe auch", "Literatur", "Anmerkungen"],
    "fr": ["Références", "Liens externes", "Voir aussi", "Notes et références", "Bibliographie"],
    "es": ["Referencias", "Enlaces externos", "Véase también", "Bibliografía"],
}


def default_drop_sections() -> list[str]:
    seen, out = set(), []
    for names in DROP_SECTIONS.values():
        for n in names:
            if n.casefold() not in seen:
                seen.add(n.casefold())
                out.append(n)
    return out


def with_headings(sections: list[tuple[int, str, str]], keep_headings: bool) -> Iterator[str]:
    """The parts of the page in order. A heading is kept only when its section, or one of its
    subsections, still has text: one pass from the end with a stack of open levels (linear)."""
    has_text = [False] * len(sections)
    stack: list[tuple[int, bool]] = []  # (level, subtree has text) of sections after this one
    for i in range(len(sections) - 1, -1, -1):
        level, _, body = sections[i]
        below = False
        while stack and stack[-1][0] > level:
            below = stack.pop()[1] or below
        has_text[i] = bool(body) or below
        stack.append((level, has_text[i]))
    for (level, title, body), keep in zip(sections, has_text):
        if not keep:
            continue
        if keep_headings and level and title:
            yield title
        if body:
            yield body
