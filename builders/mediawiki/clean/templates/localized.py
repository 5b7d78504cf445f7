"""Localized names of the families, as the dumps in ../shared/data and the wikis of the seed languages use
them. Each maps to a built-in family; dates get the wiki's own date format.

Vietnamese Wikipedia (viwiki): {{Ngày bắt đầu và tuổi|1992|12|11}} -> 11 tháng 12 năm 1992; 32 năm trước
"""
from __future__ import annotations

from wiki_qa.builders.mediawiki.clean.templates.dates import age_at, ymd
from wiki_qa.builders.mediawiki.clean.templates.registry import Call, renders


def _vi_date(y, m, d) -> str:
    if y is None:
        return ""
    if m is None:
        return f"năm {y}"
    if d is None:
        return f"tháng {m} năm {y}"
    return f"{d} tháng {m} năm {y}"


@renders("ngày sinh", "ngày bắt đầu", "ngày kết thúc", "ngày mất", "ngày")
def _vi(c: Call) -> str:
    return _vi_date(*ymd(c))


@renders("ngày sinh và tuổi", "ngày bắt đầu và tuổi")
def _vi_and_age(c: Call) -> str:
    born = ymd(c)
    text = _vi_date(*born)
    age = age_at(born, c.ctx.today)
    if age is None or not text:
        return text
    return f"{text} ({age} tuổi)" if c.name == "ngày sinh và tuổi" else f"{text}; {age} năm trước"


@renders("ngày mất và tuổi")
def _vi_death(c: Call) -> str:
    death, born = ymd(c, 1), ymd(c, 4)
    text = _vi_date(*death)
    age = age_at(born, (death[0], death[1] or 12, death[2] or 28)) if death[0] else None
    return f"{text} ({age} tuổi)" if age is not None and text else text
