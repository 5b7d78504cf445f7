"""Fidelity: how much of what a reader sees survives cleaning, wiki_qa and WikiExtractor side by side.

On every real dump in ../shared/data/mediawiki, both tools clean the same pages. Then, from the raw
wikitext (parsed by mwparserfromhell's full tree, independently of wiki_qa's renderer), every inline
template in the running text of a page is given the visible content a reader sees on the page (the
value of a {{convert}}, the text of a {{lang}}, the quote of a {{quote}}, the name of a Wikivoyage
listing, ...), and we count how many of those appear in each tool's text of that page.

Also per dump and tool, per 100k characters of output:
- holes: sentences with a gap where something was cut ("is long.", "born on .", "(; ", "of ,");
- markup remnants: the markup strings of tests/builders/mediawiki/test_clean.py plus the wiki's own File:/Category:
  names.

Usage: python bench/fidelity.py [DUMP ...] [--json OUT.json]. Prints tables; nothing is asserted.
"""
from __future__ import annotations

import argparse
import collections
import html
import json
import re
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

import mwparserfromhell
from mwparserfromhell.nodes import Heading, Tag, Template

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "mediawiki"
ENGLISH = "enwiki-206pages.xml.bz2"
REMNANTS = ["[[", "]]", "{{", "}}", "<ref", "{|", "|-", "thumb|", "px|", "Category:"]
HOLES = re.compile(
    r"\b(?:of|from|the|an|approximately|nearly|measuring|covering|between|born on|died on)\s*[.,;]"
    r"|\b(?:is|was|are|were)\s+(?:long|high|tall|wide|deep|away|in length|in area|in diameter)[.,;]"
    r"|\(\s*[,;:]|\(\s*\)|\b(?:from|between)\s+(?:and|to)\b|,\s*,", re.I)
DROPPED = {"references", "external links", "further reading", "see also", "notes", "bibliography", "sources",
           "footnotes", "citations", "notes and references"}
INLINE_TAGS = {"b", "i", "span", "small", "sup", "sub", "big", "u", "s", "font", "abbr"}
LISTINGS = {"see", "do", "buy", "eat", "drink", "sleep", "listing", "go", "vcard"}
DATES = {"birth date", "birth date and age", "death date", "death date and age", "start date", "end date",
         "start date and age", "film date", "dts", "bda", "dda", "birth year and age", "death year and age"}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


# ---- what a reader sees, family by family --------------------------------------------------------------
def key(name: str) -> str:
    name = re.sub(r"[\s_]+", " ", name).strip().lower()
    return name[len("template:"):] if name.startswith("template:") else name


def family(k: str) -> str | None:
    if k in ("convert", "cvt"):
        return "convert"
    if k in ("lang", "langx") or k.startswith("lang-"):
        return "lang"
    if k in ("ipa",) or k.startswith(("ipa-", "ipac-")):
        return "IPA"
    if k.startswith("nihongo"):
        return "nihongo"
    if k in ("quote", "blockquote", "quotation", "cquote", "quote box", "bquote"):
        return "quote"
    if k in DATES:
        return "dates"
    if k in ("ill", "interlanguage link"):
        return "ill"
    if k in ("chem", "chem2"):
        return "chem"
    if k in ("small", "smaller"):
        return "small"
    if k.startswith("formatnum:"):
        return "formatnum"
    if k in LISTINGS:
        return "listing"
    if k in ("transl", "nowrap", "abbr", "val", "as of"):
        return k
    return None


def plain(t: Template, k) -> str:
    return text_of(t.get(k).value) if t.has(k) else ""


def positional(t: Template) -> list[str]:
    return [text_of(p.value) for p in t.params if not p.showkey]


def text_of(code) -> str:
    """What the wikitext of a parameter shows: strip_code without the footnotes (it keeps <ref> text)."""
    for ref in code.filter_tags(matches=lambda n: str(n.tag).strip().lower() == "ref"):
        try:
            code.remove(ref)
        except ValueError:
            pass
    return norm(code.strip_code())


def number(s: str) -> str | None:
    s = s.replace(",", "").strip()
    return s if re.fullmatch(r"-?\d+(?:\.\d+)?", s) else None


def needle(k: str, fam: str, t: Template) -> str | None:
    """A regex for the visible content of this call in normalized output, or None if it has none to test."""
    pos = positional(t)
    text = None
    if fam == "convert" or fam == "val":
        if "output" in plain(t, "disp"):
            return None  # {{convert|…|disp=output only}}: the page shows only the converted value
        n = number(pos[0]) if pos else None
        return rf"(?<!\d)(?<!\d\.){re.escape(n)}(?!\d)" if n else None
    if fam == "formatnum":
        n = number(str(t.name).split(":", 1)[1])
        return rf"(?<!\d)(?<!\d\.){re.escape(n)}(?!\d)" if n else None
    if fam == "lang":
        text = plain(t, "text") or (plain(t, 2) if k in ("lang", "langx") else plain(t, 1))
    elif fam == "transl":
        text = pos[-1] if len(pos) > 1 else ""
    elif fam == "nihongo":
        text = (pos[0] if pos and pos[0] else pos[1] if len(pos) > 1 else "")
    elif fam in ("nowrap", "small", "abbr"):
        text = pos[0] if pos else ""
    elif fam == "as of":
        if t.has("alt"):
            text = plain(t, "alt")  # the alternative text replaces "As of <date>"
        else:
            return rf"[Aa]sof\w{{0,12}}?{re.escape(pos[0])}" if pos and pos[0].isdigit() else None
    elif fam == "IPA":
        if k.startswith("ipac-"):
            text = "".join(p for p in pos if p.lower() not in ("lang", "local", "pron", "us", "uk", "also"))
        elif k == "ipa" and len(pos) > 1 and re.fullmatch(r"[a-z]{2,3}", pos[0]):
            text = pos[1]
        else:
            text = pos[0] if pos else ""
        text = text.strip("/[]")
    elif fam == "dates":
        ymd = [p for p in pos[0:3] if p.isdigit()]  # the (first) date: death date and age has its own first
        if not ymd:
            return None
        if len(ymd) >= 3 and 1 <= int(ymd[1]) <= 12:
            y, m, d = ymd[0], MONTHS[int(ymd[1]) - 1], str(int(ymd[2]))
            return rf"{m}{d},{y}|{d}{m}{y}"
        return rf"(?<!\d){re.escape(ymd[0])}(?!\d)"
    elif fam == "quote":
        text = plain(t, "text") or plain(t, "quote") or (pos[0] if pos else "")
    elif fam == "ill":
        text = plain(t, "lt") or (pos[0] if pos else "")
    elif fam == "chem":
        text = "".join(pos)
    elif fam == "listing":
        if not (t.has("name") or t.has("content")):
            return None  # Wikipedia's {{see}} hatnote, not a listing
        text = plain(t, "name")
    text = (text or "")[:40].strip()
    if len(re.sub(r"\W", "", text)) < 2:
        return None
    return re.escape(compact(text))


def occurrences(wikitext: str) -> list[tuple[str, str]]:
    """(family, needle regex) for each inline template in the running text of the page: top-level or in
    inline formatting, outside the reference/link sections, not on a line of template or table parameters
    (`| party = … {{small|…}}` of an infobox the parser could not close)."""
    out = []
    code = mwparserfromhell.parse(wikitext)
    skipping = None
    offset = 0

    def param_line(pos: int) -> bool:
        line = wikitext[wikitext.rfind("\n", 0, pos) + 1:pos].lstrip()
        return line.startswith(("|", "!"))

    def visit(nodes, base: int | None) -> None:
        nonlocal skipping, offset
        for node in nodes:
            here = offset if base is None else base
            if base is None:
                offset += len(str(node))
            if isinstance(node, Heading):
                title = norm(node.title.strip_code()).lower()
                if skipping is not None and node.level <= skipping:
                    skipping = None
                if skipping is None and title in DROPPED:
                    skipping = node.level
            elif skipping is not None:
                continue
            elif isinstance(node, Template):
                k = key(str(node.name))
                fam = family(k)
                if fam and not param_line(here):
                    n = needle(k, fam, node)
                    if n:
                        out.append((fam, n))
            elif isinstance(node, Tag) and node.contents is not None and \
                    str(node.tag).lower() in INLINE_TAGS:
                visit(node.contents.nodes, here)
    visit(code.nodes, None)
    return out


def norm(s: str) -> str:
    s = unicodedata.normalize("NFC", html.unescape(s))
    s = s.replace("\u00a0", " ").replace("\u2009", " ").replace("\u202f", " ").replace("''", "")
    s = s.replace("−", "-").replace("_", " ")
    s = re.sub(r"(?<=\d),(?=\d{3})", "", s)
    return re.sub(r"\s+", " ", s).strip()


def compact(s: str) -> str:
    """Whitespace out: a quote's line breaks or a pronunciation's spaces are not what is being measured."""
    return re.sub(r"\s+", "", s)


# ---- the two tools ---------------------------------------------------------------------------------
def ours(dump: Path) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """({title: wikitext}, {title: wiki_qa text}, the wiki's File:/Category: names)."""
    from wiki_qa.builders.base import SourceStats
    from wiki_qa.builders.mediawiki.config import MediaWikiConfig
    from wiki_qa.builders.mediawiki.inspect import inspect_dump
    from wiki_qa.builders.mediawiki.source import MediaWikiSource

    src = MediaWikiSource(MediaWikiConfig(path=str(dump)))
    stats = SourceStats()
    raw, text = {}, {}
    for shard in src.shards():
        for doc in src.read(shard, stats):
            raw[doc["title"]] = doc["text"]
            text[doc["title"]] = src.to_text(doc, stats)
    info = inspect_dump(str(dump))
    localized = sorted({info["namespaces"][k] for k in (-2, 6, 14) if k in info["namespaces"]} - {"Category"})
    return raw, text, localized


def wikiextractor(dump: Path, work: Path) -> dict[str, str]:
    if dump.suffix == ".7z":
        import py7zr

        with py7zr.SevenZipFile(dump) as z:
            z.extractall(work / "x7z")
        dump = next((work / "x7z").iterdir())
    out = work / "we"
    subprocess.run([sys.executable, "-m", "wikiextractor.WikiExtractor", str(dump), "--processes", "1",
                    "--json", "-q", "-o", str(out)], check=True, capture_output=True, timeout=1800)
    pages = {}
    for f in sorted(out.rglob("wiki_*")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                pages[d["title"]] = d["text"]
    return pages


# ---- measure -----------------------------------------------------------------------------------------
def measure(dump: Path, show_misses: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="wiki_qa-fidelity-") as tmp:
        raw, mine, localized = ours(dump)
        theirs = wikiextractor(dump, Path(tmp))
    fams: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for title, wikitext in raw.items():
        per_needle = collections.Counter(occurrences(wikitext))
        outs = {"wiki_qa": compact(norm(mine.get(title, ""))), "wikiextractor": compact(norm(theirs.get(title, "")))}
        for (fam, pat), n in per_needle.items():
            fams[fam]["n"] += n
            for tool, out in outs.items():
                found = min(n, len(re.findall(pat, out)))
                fams[fam][tool] += found
                if show_misses and tool == "wiki_qa" and found < n:
                    print(f"   miss {fam} {title!r}: {pat!r}", file=sys.stderr)
        if show_misses:
            spaced = norm(mine.get(title, ""))
            for m in HOLES.finditer(spaced):
                ctx = spaced[max(0, m.start() - 60):m.end() + 20]
                print(f"   hole {title!r}: {ctx!r}", file=sys.stderr)
    result = {"dump": dump.name, "pages": len(raw), "families": {k: dict(v) for k, v in sorted(fams.items())}}
    for tool, texts in (("wiki_qa", mine), ("wikiextractor", {t: theirs.get(t, "") for t in raw})):
        joined = "\n".join(texts.values())
        chars = max(len(joined), 1)
        holes = len(HOLES.findall(joined))
        rem = sum(joined.count(m) for m in REMNANTS) + sum(joined.count(f"{n}:") for n in localized)
        result[tool] = {"chars": len(joined), "holes_per_100k": round(holes * 1e5 / chars, 2),
                        "remnants_per_100k": round(rem * 1e5 / chars, 2), "holes": holes, "remnants": rem}
    return result


def report(results: list[dict]) -> str:
    lines = []
    for r in results:
        lines.append(f"== {r['dump']} ({r['pages']} pages)")
        if r["families"]:
            lines.append(f"   {'family':12s} {'n':>5s}  {'wiki_qa':>8s}  {'WikiExtractor':>13s}")
            for fam, c in r["families"].items():
                n = c["n"]
                lines.append(f"   {fam:12s} {n:5d}  {100 * c['wiki_qa'] / n:7.1f}%  "
                             f"{100 * c['wikiextractor'] / n:12.1f}%")
        for tool in ("wiki_qa", "wikiextractor"):
            t = r[tool]
            lines.append(f"   {tool:14s} holes {t['holes_per_100k']:6.2f} / 100k chars ({t['holes']}),  "
                         f"markup remnants {t['remnants_per_100k']:6.2f} / 100k chars ({t['remnants']})")
    english = next((r for r in results if r["dump"] == ENGLISH), None)
    if english:
        lines.append(f"\ntarget: >= 95% kept in each family with >= 10 occurrences on {ENGLISH}")
        for fam, c in english["families"].items():
            if c["n"] >= 10:
                share = c["wiki_qa"] / c["n"]
                lines.append(f"   {fam:12s} {100 * share:5.1f}% {'ok' if share >= 0.95 else 'MISSED'} "
                             f"(WikiExtractor {100 * c['wikiextractor'] / c['n']:.1f}%)")
    worst = max((r["wiki_qa"]["remnants_per_100k"] for r in results), default=0)
    lines.append(f"target: markup remnants <= 1 per 100k characters on every dump: worst {worst:.2f} "
                 f"{'ok' if worst <= 1 else 'MISSED'}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dumps", nargs="*", type=Path)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--misses", action="store_true", help="print wiki_qa's misses and holes (to stderr)")
    a = ap.parse_args(argv)
    dumps = a.dumps or sorted(p for p in DATA.iterdir() if p.name.endswith((".xml", ".bz2", ".7z")))
    results = []
    for d in dumps:
        try:
            results.append(measure(d, a.misses))
        except Exception as e:  # noqa: BLE001 - e.g. the history dump whose only page is a redirect
            print(f"{d.name}: skipped ({type(e).__name__}: {str(e)[:200]})", file=sys.stderr)
    print(report(results))
    if a.json:
        a.json.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
