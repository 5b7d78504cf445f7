"""The fake server's translator: real parallel sentences for wiki_qa's translate prompts, and hostile answers.

fake_openai.py hands it every request whose prompt is a translate prompt. The test configures it with
POST /config {"translator": {"pairs": [[english, lang, translation], ...], "faults": {english: fault},
"names": {"Yoruba": "yo", ...}}}, one
pair per sentence: each segment (sentence) of a request is looked up by its masked English (masked with the
project's own protect.py, so the tokens are the ones the client sent), and answered with the masked
translation (the same tokens put where the protected text stands in the real translation).

Faults, per English sentence, on every ask (a persistently bad model), or only on the first with "once:":
- untranslated: the masked source sent back;
- wrong_language: a real sentence of another language's pairs (Hausa for Yoruba, Yoruba for the others),
  with the segment's tokens kept, as a model that answered in the wrong language would;
- truncated: the sentence dropped: left out at the end of the reply (fewer items), or an empty item inside;
- lost_number / lost_placeholder: the translation without the token of its first number / placeholder;
- unknown English (no pair): "[untranslatable]" (a test that sees it has a bug), or with "fallback": "tag",
  "[yo] " + the masked English (for structure tests on text with no parallel data, such as MMLU; they turn
  language checks off);
- back translation (a request into English) answers with the English source of the pair, or, for an
  English sentence in "back_faults", another pair's English (a round trip that lost the meaning).
"""
from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

TOKEN = re.compile(r"⟦(\d+)⟧")
PROTECT = Path(__file__).resolve().parents[2] / "wiki_qa" / "llm" / "tasks" / "protect.py"


def _protect():
    """The project's protect.py, loaded from its file: importing it as wiki_qa.llm.tasks.protect would import
    the package (datasets and all), which costs the server seconds on a loaded machine."""
    spec = importlib.util.spec_from_file_location("wiki_qa_protect", PROTECT)
    mod = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # dataclasses look it up there
    spec.loader.exec_module(mod)
    return mod

WRONG = {"yo": "ha", "ha": "yo", "ig": "yo", "pcm": "yo"}
STATE: dict = {"index": {}, "back": {}, "by_lang": {}, "faults": {}, "originals": {}}


def configure(cfg: dict | None) -> None:
    protect = _protect()
    cfg = cfg or {}
    STATE.update(index={}, back={}, by_lang={}, faults=dict(cfg.get("faults") or {}), originals={},
                 fallback=cfg.get("fallback"), back_faults=set(cfg.get("back_faults") or []), english=[])
    names = dict(cfg.get("names") or {})  # language name in the prompt -> code
    for en, lang, target in cfg.get("pairs") or []:
        m = protect.mask(en)
        STATE["originals"][m.text] = m.originals
        STATE["english"].append(en)
        STATE["index"][(m.text, lang)] = (en, _masked_like(target, m))
        STATE["by_lang"].setdefault(lang, []).append(target)
        STATE["back"][(_masked_like(target, m), lang)] = (en, m.text)
    STATE["names"] = names


def is_translate(user: str) -> bool:
    return user.startswith("Translate each segment below from ")


def answer(msgs: list[dict]) -> dict:
    user = next(m["content"] for m in msgs if m["role"] == "user")
    reask = sum(1 for m in msgs if m["role"] == "user") > 1
    src_name, tgt_name = re.match(r"Translate each segment below from (.+?) to (.+?)\.\s", user).groups()
    segments = json.loads(user[user.rindex("\n\n{") + 2:])["segments"]
    out = []
    for seg in segments:
        if tgt_name == "English":  # back translation
            lang = STATE["names"].get(src_name, src_name)
            en, back = STATE["back"].get((seg, lang), (None, "[untranslatable]"))
            if en in STATE["back_faults"]:  # another sentence, with this one's tokens: only the meaning is lost
                other = min((x for x in STATE["english"] if x != en), key=lambda x: abs(len(x) - len(en)))
                back = " ".join([re.sub(r"\d+", "", other)] + [f"⟦{t}⟧" for t in TOKEN.findall(seg)])
            if STATE["fallback"] == "tag" and back == "[untranslatable]":
                back = re.sub(r"^((?:⟦\d+⟧)?)\[\w+\] ", r"\1", seg)
            out.append(back)
            continue
        lang = STATE["names"].get(tgt_name, tgt_name)
        en, target = STATE["index"].get((seg, lang), (None, None))
        if target is None:
            head, rest = re.match(r"((?:⟦\d+⟧)?)(.*)", seg, re.S).groups()  # a list marker stays first
            out.append(f"{head}[{lang}] {rest}" if STATE["fallback"] == "tag" else "[untranslatable]")
            continue
        fault = STATE["faults"].get(en)
        if fault and fault.startswith("once:"):
            fault = None if reask else fault[5:]
        out.append(hostile(fault, seg, target, lang) if fault else target)
    while out and out[-1] is None:  # dropped sentences at the end: a shorter list
        out.pop()
    return {"translations": ["" if t is None else t for t in out]}


def hostile(fault: str, seg: str, target: str, lang: str) -> str:
    if fault == "untranslated":
        return seg
    if fault == "wrong_language":
        others = STATE["by_lang"].get(WRONG.get(lang, "yo")) or ["Wannan ba harshen da aka nema ba ne."]
        tokens = " ".join(f"⟦{t}⟧" for t in TOKEN.findall(seg))
        return f"{others[len(seg) % len(others)]} {tokens}".strip()
    if fault == "truncated":
        return None
    if fault in ("lost_number", "lost_placeholder"):
        return _drop_token(target, seg, number=fault == "lost_number")
    raise ValueError(f"unknown fault {fault!r}")


def _drop_token(target: str, seg: str, number: bool) -> str:
    """The translation without the token of the source's first number (or placeholder)."""
    for i, orig in enumerate(STATE["originals"].get(seg, []), 1):
        is_number = bool(re.fullmatch(r"[-+]?\d+(?:[.,:/]\d+)*", orig))
        if is_number == number and (number or orig.startswith("{")) and f"⟦{i}⟧" in target:
            return re.sub(r"\s{2,}", " ", target.replace(f"⟦{i}⟧", "", 1)).strip()
    raise ValueError(f"no {'number' if number else 'placeholder'} to lose in {seg!r}")


def _masked_like(target: str, m) -> str:
    """The translation with the source's protected strings replaced by the source's tokens."""
    out = target
    for i, orig in enumerate(m.originals, 1):
        left = r"(?<![\w.,])" if orig[:1].isalnum() else ""
        right = r"(?![\w])" if orig[-1:].isalnum() else ""
        out = re.sub(left + re.escape(orig) + right, lambda _: m.token(i), out, count=1)
    return out
