"""Date templates: {{birth date|1912|6|23}} -> June 23, 1912; {{death date and age|1954|6|7|1912|6|23}} ->
June 7, 1954 (aged 41); {{as of|2010|5}} -> As of May 2010; {{circa}}, {{marriage}}, {{start date}}, ...

Month-day-year unless the call says df=y (as these templates do). Ages "(age 65)" are computed at the
revision's date (Context.today), which is what the page showed then and keeps builds repeatable; with no
date known the age is left out rather than made up.
"""
from __future__ import annotations

import re

from wiki_qa.builders.mediawiki.clean.templates.registry import Call, renders

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
_MONTH_NUM = {m.lower(): i + 1 for i, m in enumerate(MONTHS)} | {m[:3].lower(): i + 1 for i, m in enumerate(MONTHS)}


def _int(s: str) -> int | None:
    s = s.strip()
    if s.isdigit():
        return int(s)
    return _MONTH_NUM.get(s.lower().rstrip("."))


def ymd(c: Call, start: int = 1) -> tuple[int | None, int | None, int | None]:
    y, m, d = (_int(c.get(start + k)) for k in range(3))
    if y is None and c.get(start):
        # a date written out: {{start date|2004-05-14}} or {{dts|14 May 2004}}
        return parse_date(c.get(start))
    return y, m, d


def parse_date(s: str) -> tuple[int | None, int | None, int | None]:
    m = re.match(r"^(\d{3,4})-(\d{1,2})(?:-(\d{1,2}))?", s)
    if m:
        return int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None
    parts = re.findall(r"\w+", s)
    y = next((int(p) for p in parts if p.isdigit() and len(p) >= 3), None)
    mo = next((_MONTH_NUM[p.lower()] for p in parts if p.lower() in _MONTH_NUM), None)
    d = next((int(p) for p in parts if p.isdigit() and len(p) <= 2), None)
    return y, mo, d


def day_first(c: Call) -> bool:
    return c.flag("df") or c.get("df").lower() in ("dmy",) or c.get("format").lower() == "dmy"


def show_date(y, m, d, dmy: bool) -> str:
    if y is None:
        return ""
    if m is None or not 1 <= m <= 12:
        return str(y)
    if d is None:
        return f"{MONTHS[m - 1]} {y}"
    return f"{d} {MONTHS[m - 1]} {y}" if dmy else f"{MONTHS[m - 1]} {d}, {y}"


def age_at(birth: tuple, at: tuple | None) -> int | None:
    if at is None or birth[0] is None:
        return None
    y, m, d = at
    by, bm, bd = birth[0], birth[1] or 1, birth[2] or 1
    return y - by - ((m, d) < (bm, bd))


@renders("birth date", "birth-date", "dob", "bda", "birth date and age", "birth date and age2", "start date",
         "start-date", "end date", "end-date", "death date", "film date", "date", "dts", "sort date",
         "start date and age", "end date and age", "release date", "first aired", "death-date")
def _date(c: Call) -> str:
    name = c.name
    y, m, d = ymd(c)
    text = show_date(y, m, d, day_first(c))
    if not text:
        return c.get(1)
    if name in ("birth date and age", "bda", "birth date and age2"):
        age = age_at((y, m, d), c.ctx.today)
        return f"{text} (age {age})" if age is not None else text
    if name in ("start date and age", "end date and age"):
        age = age_at((y, m, d), c.ctx.today)
        if age is None:
            return text
        ago = f"{age} years ago" if age != 1 else "1 year ago"
        return f"{text} ({ago})" if c.flag("paren") or c.flag("p") else f"{text}; {ago}"
    if name == "film date":
        places = [c.get(k) for k in (4, 5, 6) if c.get(k)]
        return f"{text} ({', '.join(places)})" if places else text
    return text


@renders("death date and age", "dda", "death-date and age")
def _death_date_and_age(c: Call) -> str:
    death, birth = ymd(c, 1), ymd(c, 4)
    text = show_date(*death, day_first(c))
    age = age_at(birth, (death[0], death[1] or 12, death[2] or 28)) if death[0] else None
    return f"{text} (aged {age})" if age is not None and text else text


@renders("birth year and age", "death year and age", "birth year")
def _year_and_age(c: Call) -> str:
    year = _int(c.get(1))
    if year is None:
        return c.get(1)
    if c.name == "death year and age":
        born = _int(c.get(2))
        if born is None:
            return str(year)
        return f"{year} (aged {year - born - 1}–{year - born})"
    if c.name == "birth year":
        return str(year)
    month = _int(c.get(2))
    at = c.ctx.today
    if at is None:
        return str(year)
    if month:
        return f"{MONTHS[month - 1]} {year} (age {age_at((year, month, 1), at)})"
    return f"{year} (age {at[0] - year - 1}–{at[0] - year})"


@renders("as of")
def _as_of(c: Call) -> str:
    pre, post = c.get("pre"), c.get("post")
    if c.get("alt"):
        return f"{pre}{c.get('alt')}{post}"
    y, m, d = ymd(c)
    text = show_date(y, m, d, not c.get("df").lower() == "us")
    if c.flag("bare"):
        return text
    lead = "Since" if c.flag("since") else "As of"
    if c.flag("lc"):
        lead = lead.lower()
    return f"{pre}{lead} {text}{post}"


@renders("marriage", "married")
def _marriage(c: Call) -> str:
    who, start, end = c.get(1), c.get(2), c.get(3)
    kind = c.get("end").lower()
    if not start:
        return who
    span = f"m. {start}"
    if end:
        span += {"d": f"; died {end}", "died": f"; died {end}", "div": f"; div. {end}",
                 "divorced": f"; div. {end}", "sep": f"; sep. {end}", "separated": f"; sep. {end}",
                 "annulled": f"; ann. {end}"}.get(kind, f"–{end}")
    return f"{who} ({span})" if who else f"({span})"


@renders("age")
def _age(c: Call) -> str:
    born = ymd(c, 1)
    until = ymd(c, 4)
    at = until if until[0] else c.ctx.today
    age = age_at(born, at)
    return str(age) if age is not None else ""
