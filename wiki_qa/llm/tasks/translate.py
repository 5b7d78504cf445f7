"""translate: rows into the users' languages, with checks that catch bad translations.

    generate: {task: translate, target_lang: yo, columns: [prompt, completion]}
    generate: {task: translate, target_langs: [yo, ha, ig, pcm], back_translate: true, min_chrf: 30}

Any rows: instruction sets and MMLU (prompt/completion), generated QA, chunks (text). Each chosen column is
cut into pieces of at most `max_piece_tokens` (at paragraph, then sentence breaks: pieces.py), a piece into
its sentences, and a row's pieces are packed into *units*: one request each, holding the masked sentences
(protect.py) as a JSON list to translate item by item, so the model sees the whole piece as context but a
sentence it drops is an empty or missing item, and the whitespace and line breaks between sentences never
pass through the model. The engine sends units like any task's rows (cache, retries, cost, --dry-run, batch
mode); `collect` puts each row back together from its units. A row is kept only if every unit passed every
check, in this order:

- `wrong_language` / `untranslated`: language ID (wiki_qa.langid) of the unit's translation, and its chrF
  against the source (an echo of the source is untranslated whatever language ID says). Nigerian Pidgin is
  English-lexified: for a pcm target, English detected is not a wrong language; chrF decides untranslated.
- `truncated`: fewer translated sentences than sent, or a sentence left empty.
- `protected_lost`: a masked token missing, repeated or invented, or a line break added to a sentence.
- `length_ratio`: translated / source characters outside [min_length_ratio, max_length_ratio].
- with `back_translate`: `low_chrf` (chrF of the round trip against the source under `min_chrf`) and
  `back_translation_failed`.

A unit that fails is asked again once (the engine's re-ask, with the reason), then dropped; the reason and
its figures go to build_report.json (`llm.translate`). Kept rows carry `meta.translation`: source and target
language, model, the original of every translated column, chrF of the round trip.

MMLU-style rows keep their answer: a column whose text is one line of another translated column (the
completion that is option B of the prompt) is not translated on its own but copied from that line of the
translation, and option letters are masked, so letters, order and answer index survive.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import ClassVar, Literal

import datasets
from pydantic import Field, model_validator

from wiki_qa import langid
from wiki_qa.llm import parsing as P
from wiki_qa.llm.tasks import pieces as Q
from wiki_qa.llm.tasks import protect
from wiki_qa.llm.tasks.base import LANGUAGES, Task, TaskConfig, fill, item_meta, register
from wiki_qa.tokens import count_tokens

UNIT = "_unit"
OUT = "_out"
CHECKS = ("wrong_language", "untranslated", "truncated", "protected_lost", "length_ratio")
SAMPLES = 20  # dropped rows shown with their figures in the report


class TranslateConfig(TaskConfig):
    task: Literal["translate"] = "translate"
    target_lang: str | None = None
    target_langs: list[str] | None = None
    source_lang: str | None = None          # default: the row's `lang` (en when it has none)
    columns: list[str] | None = None        # default: prompt and completion, or text for chunk rows
    max_piece_tokens: int = Field(600, ge=32)   # source tokens per request (pieces are packed up to it)
    back_translate: bool = False            # translate back and store chrF against the source
    min_chrf: float | None = Field(None, ge=0, le=100)  # with back_translate: drop rows under it (low_chrf)
    check_language: bool = True
    min_language_letters: int = Field(20, ge=0)  # shorter translations skip language ID (names, numbers)
    # A translation detected as another language with less confidence (wiki_qa.langid's score) is kept:
    # short sentences full of names get wild guesses (Igbo read as Tsonga at 0.19).
    min_language_score: float = Field(0.3, ge=0, le=1)
    untranslated_chrf: float = Field(90.0, ge=0, le=100)  # chrF against the source at or above: untranslated
    min_length_ratio: float = Field(0.35, gt=0)  # per sentence; dropped sentences are `truncated`
    max_length_ratio: float = Field(3.0, gt=0)

    @model_validator(mode="after")
    def _one_target(self):
        if bool(self.target_lang) == bool(self.target_langs):
            raise ValueError("translate needs target_lang (one language) or target_langs (a list), not both")
        if self.min_chrf is not None and not self.back_translate:
            raise ValueError("min_chrf needs back_translate: true")
        return self

    def targets(self) -> list[str]:
        return [langid.normalize(x) for x in (self.target_langs or [self.target_lang])]


def name_of(code: str) -> str:
    return LANGUAGES.get(code, code)


@register
class Translate(Task):
    name = "translate"
    VERSION = 1
    max_reasks: ClassVar[int] = 1  # a failed check is asked again once, then the row is dropped
    Config = TranslateConfig

    def __init__(self, cfg: TranslateConfig | None = None):
        super().__init__(cfg)
        # Why a unit failed, for `output_rows` of the same process (the engine hands it only the examples):
        # parse() and output_rows() of one unit always run in the same map call.
        self._verdicts: dict[str, dict] = {}

    def __getstate__(self):
        return {**self.__dict__, "_verdicts": {}}

    # -- one unit: the request ------------------------------------------------------------------------
    def prompt(self, row) -> list[dict]:
        u = json.loads(row[UNIT])
        segs = [protect.mask(s["text"]).text for s in u["segments"]]
        user = fill(self.template("translate"), source=name_of(u["src"]), target=name_of(u["tgt"]),
                    n=len(segs), instruction=self.instruction(row),
                    segments=json.dumps({"segments": segs}, ensure_ascii=False, indent=1))
        return self.messages(user)

    def schema(self, row) -> dict:
        n = len(json.loads(row[UNIT])["segments"])
        return {"type": "object", "properties": {"translations": {"type": "array", "items": {"type": "string"},
                "minItems": n, "maxItems": n}}, "required": ["translations"], "additionalProperties": False}

    def estimate(self, row) -> tuple[int, int]:
        # Yoruba/Igbo diacritics and Hausa hooked letters cost cl100k about twice the English tokens.
        src = sum(count_tokens(s["text"]) for s in json.loads(row[UNIT])["segments"])
        return 1, 2 * src + 20

    # -- one unit: the reply and its checks -------------------------------------------------------------
    def parse(self, row, response):
        u = json.loads(row[UNIT])
        data = P.parse_json(response)
        items = data.get("translations") if isinstance(data, dict) else data
        if not isinstance(items, list):
            items = P.items_of(data, "translations")
        if len(items) > len(u["segments"]) or not all(isinstance(x, str) for x in items):
            raise P.ParseError(f"expected {len(u['segments'])} translations as strings, got {len(items)}")
        verdict = check_unit(u, items, self.cfg)
        if verdict["reason"]:
            self._verdicts[row["id"]] = verdict
            return [], [verdict["reason"]]
        self._verdicts.pop(row["id"], None)
        return [verdict], []

    # -- one unit: the output row (collect() puts rows together from these) --------------------------------
    def output_rows(self, row: dict, examples: list[dict], keep: list[str]):
        if examples:
            out = {"ok": True, **examples[0]}
        else:
            out = {"ok": False, **self._verdicts.pop(row["id"], {"reason": "request_failed"})}
        yield {**{c: row[c] for c in keep}, OUT: json.dumps(out, ensure_ascii=False)}

    def output_features(self, features: datasets.Features, keep: list[str]) -> datasets.Features:
        return datasets.Features({**{c: features[c] for c in keep}, OUT: datasets.Value("string")})

    # -- whole splits: rows -> units -> the engine -> rows ---------------------------------------------
    def map_splits(self, dsd, generate, model: str):
        try:
            units = datasets.DatasetDict({s: expand(dsd[s], self) for s in dsd})
        except ValueError as e:
            from wiki_qa.errors import UserError

            raise UserError(str(e)) from None
        forward = generate(units)
        back = generate(datasets.DatasetDict({s: back_units(forward[s]) for s in forward})) \
            if self.cfg.back_translate else None
        report = new_report(self.cfg, model)
        out = datasets.DatasetDict({s: collect(dsd[s], forward[s], back[s] if back is not None else None, self,
                                               model, report) for s in dsd})
        return out, finish_report(report)

    def request_rows(self, rows):
        """--dry-run: the units of each row (their back translations counted at the same size)."""
        for row in rows:
            ds = datasets.Dataset.from_list([row])
            for unit in _rows(expand(ds, self)):
                yield unit
                if self.cfg.back_translate:
                    yield unit


# -- the checks -------------------------------------------------------------------------------------------
def check_unit(u: dict, replies: list[str], cfg: TranslateConfig) -> dict:
    """{"reason": None | a CHECKS name, "detail": figures, "translations": restored texts}."""
    masked = [protect.mask(s["text"]) for s in u["segments"]]
    if cfg.check_language:
        bad = language_gate(" ".join(protect.strip_tokens(m.text) for m in masked),
                            " ".join(protect.strip_tokens(r) for r in replies), u["src"], u["tgt"], cfg)
        if bad:
            return bad
    bad = truncation(masked, replies)
    if bad:
        return bad
    out = []
    for i, (m, reply) in enumerate(zip(masked, replies)):
        restored = protect.restore(reply, m)
        bad = None if restored.ok else {"reason": "protected_lost", "detail": restored.problem()}
        bad = bad or length_ratio(m.text, reply, cfg)
        if bad:
            return {**bad, "segment": i}
        out.append(restored.text)
    return {"reason": None, "translations": out}


def language_gate(source: str, translation: str, src: str, tgt: str, cfg: TranslateConfig) -> dict | None:
    if sum(ch.isalpha() for ch in translation) < cfg.min_language_letters:
        return None  # names, numbers, one-word options: nothing to tell a language by
    sim = chrf(translation, source)
    if sim >= cfg.untranslated_chrf:
        return {"reason": "untranslated", "detail": f"chrF {sim:.1f} against the source"}
    d = langid.detect(translation)
    if d.lang in (tgt, langid.UNDETERMINED) or (tgt == "pcm" and d.lang == "en") or d.score < cfg.min_language_score:
        return None  # the target, English read from Pidgin, or a guess too unsure to drop a row for
    if d.lang == src:
        return {"reason": "untranslated", "detail": f"detected {d.lang}", "detected": d.lang}
    return {"reason": "wrong_language", "detail": f"detected {d.lang}, expected {tgt}", "detected": d.lang}


def truncation(masked: list, replies: list[str]) -> dict | None:
    """Sentences dropped: fewer items than sent, or items left empty (the end of a long piece, typically)."""
    empty = [i for i, (m, r) in enumerate(zip(masked, replies)) if m.text.strip() and not r.strip()]
    if len(replies) < len(masked) or empty:
        got = len(replies) - len(empty)
        where = f"; first missing: sentence {min(empty + [len(replies)]) + 1}"
        return {"reason": "truncated", "detail": f"{got} of {len(masked)} sentences translated{where}"}
    return None


def length_ratio(source: str, reply: str, cfg: TranslateConfig) -> dict | None:
    a, b = protect.strip_tokens(source), protect.strip_tokens(reply)
    if len(a) < 10:
        return None  # "Yes", "B", a number: a ratio of a few characters says nothing
    r = len(b) / len(a)
    if not cfg.min_length_ratio <= r <= cfg.max_length_ratio:
        return {"reason": "length_ratio", "detail": f"{r:.2f} ({len(b)} / {len(a)} characters; allowed "
                f"{cfg.min_length_ratio}-{cfg.max_length_ratio})", "ratio": round(r, 3)}
    return None


def chrf(hypothesis: str, reference: str) -> float:
    from sacrebleu.metrics import CHRF

    return CHRF().sentence_score(hypothesis, [reference]).score


# -- rows <-> units ---------------------------------------------------------------------------------------
def columns_of(cfg: TranslateConfig, column_names: list[str]) -> list[str]:
    if cfg.columns:
        missing = [c for c in cfg.columns if c not in column_names]
        if missing:
            raise ValueError(f"generate.columns: no column {missing[0]!r} (columns: {', '.join(column_names)})")
        return list(cfg.columns)
    if "prompt" in column_names and "completion" in column_names:
        return ["prompt", "completion"]
    if "text" in column_names:
        return ["text"]
    raise ValueError("generate.columns: say which columns to translate (no prompt/completion or text column)")


def derived_columns(row: dict, cols: list[str]) -> dict[str, tuple[str, int]]:
    """Columns whose text is one option line of another column (MMLU's completion = option B's text):
    {column: (other column, its sentence number)}. They are copied from that sentence of the translation."""
    out = {}
    for c in cols:
        v = (row.get(c) or "").strip()
        if not v:
            continue
        for other in cols:
            if other == c or other in out or not isinstance(row.get(other), str):
                continue
            k = 0
            for p in Q.split(row[other], 10**9):
                for _, sent, _ in Q.spans(p.text):
                    m = protect.LINE_MARKER.match(sent)
                    if m and sent[m.end():].strip() == v:
                        out[c] = (other, k)
                        break
                    k += 1
            if c in out:
                break
    return out


def expand(ds: datasets.Dataset, task: Translate) -> datasets.Dataset:
    """One engine row per unit: id `{row id}/translate/{lang}/{u}`, title, text (the unit's source, for
    --dry-run and the engine's checks), `_unit` (JSON: row index, languages, segments)."""
    cfg = task.cfg
    cols = columns_of(cfg, ds.column_names)
    out: dict[str, list] = {"id": [], "title": [], "text": [], UNIT: []}
    for r, row in enumerate(_rows(ds)):
        src = langid.normalize(cfg.source_lang or row.get("lang") or "en")
        if src == langid.UNDETERMINED:
            src = "en"
        derived = derived_columns(row, cols)
        pieces = []  # per piece: its sentence segments
        for c in cols:
            text = row.get(c)
            if c in derived or not isinstance(text, str) or not text.strip():
                continue
            k = 0
            for p in Q.split(text, cfg.max_piece_tokens):
                segs = []
                for pre, sent, sep in Q.spans(p.text):
                    segs.append({"col": c, "k": k, "pre": pre, "text": sent, "sep": sep})
                    k += 1
                if segs:
                    segs[-1]["sep"] += p.sep
                    pieces.append(segs)
        for lang in cfg.targets():
            for u, group in enumerate(_pack(pieces, cfg.max_piece_tokens)):  # no text: no unit, row copied
                unit = {"row": r, "src": src, "tgt": lang, "dir": "forward", "segments": group,
                        "derived": derived}
                out["id"].append(f"{row.get('id', r)}/translate/{lang}/{u}")
                out["title"].append(row.get("title") or "")
                out["text"].append("\n\n".join(s["text"] for s in group))
                out[UNIT].append(json.dumps(unit, ensure_ascii=False))
    return datasets.Dataset.from_dict(out, features=datasets.Features({c: datasets.Value("string") for c in out}))


def back_units(forward: datasets.Dataset) -> datasets.Dataset:
    """The kept forward units, as requests back into the source language (their translations as source)."""
    out: dict[str, list] = {"id": [], "title": [], "text": [], UNIT: []}
    for row in _rows(forward):
        res = json.loads(row[OUT])
        if not res["ok"]:
            continue
        u = json.loads(row[UNIT])
        segs = [{**s, "text": t} for s, t in zip(u["segments"], res["translations"])]
        back = {**u, "src": u["tgt"], "tgt": u["src"], "dir": "back", "segments": segs}
        out["id"].append(row["id"] + "/back")
        out["title"].append(row["title"])
        out["text"].append("\n\n".join(s["text"] for s in segs))
        out[UNIT].append(json.dumps(back, ensure_ascii=False))
    return datasets.Dataset.from_dict(out, features=datasets.Features({c: datasets.Value("string") for c in out}))


def collect(ds: datasets.Dataset, forward: datasets.Dataset, back: datasets.Dataset | None, task: Translate,
            model: str, report: dict) -> datasets.Dataset:
    """The translated rows (input order; per row, one per target language) from the units' results."""
    cfg = task.cfg
    cols = columns_of(cfg, ds.column_names)
    back_of = {}
    if back is not None:
        for row in _rows(back):
            back_of[row["id"].removesuffix("/back")] = json.loads(row[OUT])
    groups: dict[tuple[int, str], list] = {}
    for row in _rows(forward):
        u = json.loads(row[UNIT])
        groups.setdefault((u["row"], u["tgt"]), []).append((row["id"], u, json.loads(row[OUT])))
    rows_out: dict[str, list] = {c: [] for c in ds.column_names}
    extra_orig = "meta" not in ds.column_names
    if extra_orig:
        for c in cols:
            rows_out[f"orig_{c}"] = []
        rows_out["translation"] = []
    for r, row in enumerate(_rows(ds)):
        for lang in cfg.targets():
            units = groups.get((r, lang), [])
            verdict = _verdict(units, back_of, cfg)
            report["rows_in"] += 1
            if verdict.get("reason"):
                _count_drop(report, row, lang, verdict)
                continue
            new = _assemble(row, cols, units, lang)
            info = {"source_lang": units[0][1]["src"] if units else "en", "target_lang": lang, "model": model,
                    "checks": list(CHECKS) if cfg.check_language else list(CHECKS[2:])}
            if verdict.get("chrf") is not None:
                info["chrf"] = verdict["chrf"]
                report["chrf"].append(verdict["chrf"])
            report["rows_out"] += 1
            report["by_lang"].setdefault(lang, Counter())["kept"] += 1
            if extra_orig:
                for c in cols:
                    new[f"orig_{c}"] = row.get(c)
                new["translation"] = json.dumps(info, ensure_ascii=False, sort_keys=True)
            else:
                new["meta"] = item_meta(row.get("meta"), {"translation": {**info, "orig": {c: row.get(c)
                                                                                     for c in cols}}})
            for c in rows_out:
                rows_out[c].append(new[c])
    feats = dict(ds.features)
    for c in rows_out:
        feats.setdefault(c, datasets.Value("string"))
    return datasets.Dataset.from_dict(rows_out, features=datasets.Features(feats), split=ds.split)


def new_report(cfg: TranslateConfig, model: str) -> dict:
    return {"source_lang": cfg.source_lang or "row lang (en)", "target_langs": cfg.targets(), "model": model,
            "checks": list(CHECKS) if cfg.check_language else list(CHECKS[2:]),
            "back_translate": cfg.back_translate, "min_chrf": cfg.min_chrf, "rows_in": 0, "rows_out": 0,
            "dropped": Counter(), "by_lang": {}, "wrong_language_detected": Counter(), "samples": [],
            "chrf": []}


def finish_report(report: dict) -> dict:
    chrfs = report.pop("chrf")
    out = {**report, "dropped": dict(report["dropped"]),
           "by_lang": {k: dict(v) for k, v in report["by_lang"].items()},
           "wrong_language_detected": dict(report["wrong_language_detected"])}
    if chrfs:
        out["back_translation"] = {"rows": len(chrfs), "chrf_mean": round(sum(chrfs) / len(chrfs), 2),
                                   "chrf_min": round(min(chrfs), 2)}
    return out


def _verdict(units: list, back_of: dict, cfg: TranslateConfig) -> dict:
    for uid, u, res in units:
        if not res["ok"]:
            return res
    if not cfg.back_translate or not units:
        return {}
    sources, backs = [], []
    for uid, u, res in units:
        b = back_of.get(uid)
        if b is None or not b["ok"]:
            return {"reason": "back_translation_failed",
                    "detail": (b or {}).get("reason") or "no back translation"}
        sources += [s["text"] for s in u["segments"]]
        backs += b["translations"]
    score = round(chrf(" ".join(backs), " ".join(sources)), 2)
    if cfg.min_chrf is not None and score < cfg.min_chrf:
        return {"reason": "low_chrf", "detail": f"chrF {score} < {cfg.min_chrf}", "chrf": score}
    return {"chrf": score}


def _assemble(row: dict, cols: list[str], units: list, lang: str) -> dict:
    new = dict(row)
    parts: dict[str, dict[int, tuple]] = {}
    derived = units[0][1].get("derived", {}) if units else {}
    for uid, u, res in units:
        for s, t in zip(u["segments"], res["translations"]):
            parts.setdefault(s["col"], {})[s["k"]] = (s["pre"], t, s["sep"])
    for c, ps in parts.items():
        new[c] = "".join(pre + t + sep for _, (pre, t, sep) in sorted(ps.items()))
    for c, (other, k) in derived.items():
        sent = parts.get(other, {}).get(k, (None, None))[1]
        m = protect.LINE_MARKER.match(sent) if sent else None
        new[c] = sent[m.end():].strip() if m else new[c]
    if "id" in new:
        new["id"] = f"{row['id']}/{lang}"
    if "lang" in new:
        new["lang"] = lang
    return new


def _count_drop(report: dict, row: dict, lang: str, verdict: dict) -> None:
    reason = verdict["reason"]
    report["dropped"][reason] += 1
    report["by_lang"].setdefault(lang, Counter())[reason] += 1
    if verdict.get("detected"):
        report["wrong_language_detected"][verdict["detected"]] += 1
    if verdict.get("chrf") is not None:
        report["chrf"].append(verdict["chrf"])
    if len(report["samples"]) < SAMPLES:
        report["samples"].append({"id": row.get("id"), "lang": lang, "reason": reason,
                                  "detail": str(verdict.get("detail", ""))[:200]})


def _pack(pieces: list[list[dict]], budget: int) -> list[list[dict]]:
    """Pieces (lists of sentence segments) in order, packed into units of at most `budget` source tokens
    (a bigger piece alone)."""
    units, cur, size = [], [], 0
    for segs in pieces:
        n = sum(count_tokens(s["text"]) for s in segs)
        if cur and size + n > budget:
            units.append(cur)
            cur, size = [], 0
        cur.extend(segs)
        size += n
    if cur:
        units.append(cur)
    return units


def _rows(ds: datasets.Dataset):
    for batch in ds.iter(batch_size=1000):
        yield from (dict(zip(batch, vals)) for vals in zip(*batch.values()))
