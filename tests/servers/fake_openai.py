"""A fault-injecting OpenAI-compatible chat server on 127.0.0.1, for tests and the benchmark.

Run: python tests/servers/fake_openai.py [--port 0] [--latency 0.05] [--faults '{"429": 0.2}']
It prints `LISTENING <base_url>` once ready. Control endpoints: GET /stats, POST /reset, POST /config.

Answers are a deterministic function of the *chunk* in the prompt (not of the whole conversation), so a
re-asked chunk gets the same items back, and a run with faults must produce the output of a fault-free run.
Faults hit only the first `fault_attempts` sends of an identical request body, chosen by a hash, so
every run with the same config sees the same faults.

Faults (rates in [0,1], summed): invalid_json, 429 (with Retry-After), 500, length (finish_reason=length,
cut-off JSON), drip (a reply that never ends), slow (sleeps `slow_s`, past the client timeout), drop (closes
the connection).
Markers in the chunk text force per-chunk behaviour: FAULT_OVERFLOW (400 context length),
FAULT_GARBAGE (never valid JSON), FAULT_PARTIAL (adds a placeholder and a duplicate item),
FAULT_WRONG_ANSWER (qa: the first item's answer and quote are another sentence than its question asks
about). `judge_constant`: the judge gives every item that score and its prompt's example reason.

Batch API: /v1/files (upload, retrieve, content) and /v1/batches (create, retrieve, list, cancel). A batch
moves validating -> in_progress -> completed on successive retrieves (`batch_polls` retrieves in progress),
so tests never depend on time. `batch_outcomes` lists the end state of the first batches in creation order
("completed", "failed", "expired"; later ones complete); an expired batch has answered only its first
`batch_expire_after` lines, the rest are in its error file as batch_expired. Lines whose passage holds
FAULT_BATCH_ERROR fail with a 500 in the error file; `batch_invalid_first` turns the first N lines of the
first batch into unusable replies (to exercise re-asks).

Round-two faults (issue 24), each applied by `fault_first` to a fresh request: html200 (a `html_bytes` HTML
page with status 200), huge (a `huge_bytes` JSON body, streamed), usage_strings / usage_negative (odd
`usage`), retry_after_huge (a 429 with `Retry-After: retry_after_huge`). `redirect_all` answers every /v1
request with a 307 to that URL; `refuse_chat` refuses online chat (403) as a batch-only key would;
`models_status` 404 hides /v1/models; `error_message` replaces the text of every error reply.
`batch_tamper` lists what the first batch's output file does wrong: foreign_id, null_id, duplicate, drop,
malformed, huge_line (a `huge_bytes` line); `batch_fail_message` is a failed job's reason. DELETE /v1/files/ID
deletes a file; `file_rate_bps` sends and reads file contents at that many bytes per second.

Preference requests (issue 21) misbehave on markers in the good reply or the request: PREF_SAME (the worse
reply is the good one in capitals: identical once normalized), PREF_LONG (three times as long), PREF_SHORT
(two words), PREF_FURNITURE (a `###` heading, "Paraphrased Text:" or "Note:"), PREF_PARAS (two paragraphs),
PREF_CUT (cut off at max_tokens, every time), PREF_RAMBLE (on and on, until the schema's maxLength closes the
string, as a grammar-constrained server does), PREF_LANG (as many words of Yoruba), PREF_RETRY (identical at
the request's first seed, fine at the next). Answers to a bare request start with "Surely", "Perhaps" or
"Certainly" by the request's seed; the judge scores "Perhaps" replies 3 and others 8, all 5 when the request
holds PREF_TIE, the other way round with JUDGE_SWAP, and position A 9 and the rest 2 with
`judge_prefers: "first"`.

`budget` enforces per-minute limits like a provider tier: {"rpm", "tpm", "input_tpm", "output_tpm",
"burst_s": seconds of budget a bucket holds (default 1), "headers": send x-ratelimit-* headers}. Tokens are
counted as the replies' `usage` reports them; a request over budget gets a 429 (kind "429_budget").
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import re
import sys
import time

from aiohttp import web

try:
    from tests.servers import translator
except ImportError:  # run as a script: tests/servers is sys.path[0]
    import translator

CFG = {"models": ["fake-model", "gpt-4o-mini"], "api_key": None, "latency": 0.0, "latency_dist": "fixed",
       "sigma": 0.5, "faults": {}, "fault_attempts": 1, "slow_s": 5.0, "retry_after": "0.2",
       "max_concurrent": None, "reject_json_schema": False, "seed": 0, "budget": None,
       # faults given in order to the first fresh requests, whatever their text: lets a test be sure each
       # kind occurs at least once, independent of how the prompts hash
       "fault_first": [],
       "batch_polls": 2, "batch_outcomes": [], "batch_expire_after": 0, "batch_invalid_first": 0,
       "html_bytes": 2 * 2 ** 20, "huge_bytes": 64 * 2 ** 20, "retry_after_huge": "1000000",
       "redirect_all": None, "refuse_chat": False, "models_status": 200, "error_message": None,
       "batch_tamper": [], "batch_fail_message": "validation failed (injected)", "file_rate_bps": None,
       # judge_prefers "first": the preference judge always scores position A highest (position bias)
       "judge_prefers": None, "judge_constant": None}
STATS: dict = {}
SEEN: dict = {}
FIRST = [0]
BUCKETS: dict = {}  # name -> [level, last refill time]
FILES: dict = {}    # id -> {"meta": file object, "content": bytes}
BATCHES: dict = {}  # id -> {"obj": batch object, "polls": retrieves so far}
SEQ = {"file": 0}


def reset():
    STATS.clear()
    STATS.update(requests=0, chat=0, by_kind={}, inflight=0, max_inflight=0, tokens_in=0, tokens_out=0,
                 trace=[],  # with a budget: "ok" / "429" per chat request, in arrival order
                 files=0, file_bytes=[], batches=0, batch_lines=[], batch_retrieves=0, batch_cancels=0,
                 files_deleted=[], auth_seen=[],
                 ranked=[])  # preference judge requests: {"request", "shown": replies in shown order}
    SEEN.clear()
    FILES.clear()
    BATCHES.clear()
    SEQ["file"] = 0
    BUCKETS.clear()
    FIRST[0] = 0


def _bucket(name: str):
    """(level, rate per s, capacity) of a budget bucket, refilled to now; None when not limited."""
    budget = CFG.get("budget") or {}
    if not budget.get(name):
        return None
    rate = budget[name] / 60.0
    cap = rate * budget.get("burst_s", 1.0)
    now = time.monotonic()
    b = BUCKETS.setdefault(name, [cap, now])
    b[0], b[1] = min(cap, b[0] + (now - b[1]) * rate), now
    return b, rate, cap


def _over_budget(pt: int) -> float | None:
    """Seconds until the request fits, or None when it does (then its input is charged)."""
    need = {"rpm": 1, "tpm": pt, "input_tpm": pt, "output_tpm": 0}
    wait = 0.0
    for name, cost in need.items():
        got = _bucket(name)
        if got and got[0][0] < cost:
            wait = max(wait, (cost - got[0][0]) / got[1])
    if wait:
        return wait
    for name, cost in need.items():
        got = _bucket(name)
        if got:
            got[0][0] -= cost
    return None


def _charge_output(ct: int) -> None:
    for name in ("tpm", "output_tpm"):
        got = _bucket(name)
        if got:
            got[0][0] -= ct


def _limit_headers() -> dict:
    budget = CFG.get("budget") or {}
    if not budget.get("headers"):
        return {}
    out = {}
    for kind, name in (("requests", "rpm"), ("tokens", "tpm")):
        got = _bucket(name)
        if got:
            (level, _), rate, cap = got
            out.update({f"x-ratelimit-limit-{kind}": str(int(budget[name])),
                        f"x-ratelimit-remaining-{kind}": str(max(0, int(level))),
                        f"x-ratelimit-reset-{kind}": f"{max(0.0, cap - level) / rate:.3f}s"})
    return out


def _h(*parts) -> float:
    d = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(d[:8], "big") / 2 ** 64


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 4]


# -- preference replies (issue 21) ------------------------------------------------------------------------
def preference_reply(body: dict) -> tuple[str, str] | None:
    """(content, finish_reason) for the preference step's tasks, None for any other request."""
    msgs = body["messages"]
    user = next(m["content"] for m in msgs if m["role"] == "user")
    system = next((m["content"] for m in msgs if m["role"] == "system"), "")
    if "Rewrite the answer below so that it is" in user:
        good = re.search(r"\nAnswer: (.*?)\n\nReply with JSON only", user, re.S)[1]
        schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}
        cap = ((schema.get("properties") or {}).get("reply") or {}).get("maxLength")
        return _worse(good, body.get("seed") or 0, cap)
    if "Rate each of the" in user:
        return json.dumps(_rank(user)), "stop"
    if "Answer the user's request" in system:
        lead = ("Surely", "Perhaps", "Certainly")[(body.get("seed") or 0) % 3]
        return json.dumps({"reply": f"{lead} {user}"}), "stop"
    return None


# The demo wiki's Yoruba page (configs/data/demowiki.xml, written for wiki_qa), as words.
YORUBA = ("Èdè Yorùbá jẹ́ ọ̀kan lára àwọn èdè tí wọ́n ń sọ ní ilẹ̀ Nàìjíríà, Bẹ̀nẹ̀ àti Tógò. Ọ̀pọ̀lọpọ̀ ènìyàn ló ń "
          "sọ èdè yìí nílé àti lọ́jà. Àwọn àgbà máa ń pa òwe àti àlọ́ fún àwọn ọmọdé ní alẹ́.").split()


def _worse(good: str, seed: int, cap: int | None) -> tuple[str, str]:
    words = good.split()
    reply = f"Perhaps {' '.join(words[:-1])} or something"
    if "PREF_SAME" in good or ("PREF_RETRY" in good and seed == 0):
        reply = good.upper()
    elif "PREF_LONG" in good:
        reply = " ".join([good] * 3)
    elif "PREF_SHORT" in good:
        reply = " ".join(words[:2])
    elif "PREF_FURNITURE" in good:
        head = ("### Worse reply\n", "Paraphrased Text: ", "Note: this reply is worse. ")[int(_h(good) * 3)]
        reply = head + reply
    elif "PREF_RAMBLE" in good:
        reply = " ".join([good] * 10)
    elif "PREF_LANG" in good:
        reply = " ".join((YORUBA * (1 + len(words) // len(YORUBA)))[:len(words)])
    elif "PREF_PARAS" in good:
        reply = f"{reply}\n\nPerhaps there is more to say."
    content = json.dumps({"reply": reply[:cap] if cap else reply}, ensure_ascii=False)  # as a grammar would
    if "PREF_CUT" in good:
        return content[: len(content) // 2], "length"
    return content, "stop"


def _rank(user: str) -> dict:
    request = re.search(r"<request>\n(.*?)\n</request>", user, re.S)[1]
    shown = re.findall(r"<reply (\w)>\n(.*?)\n</reply \1>", user, re.S)
    STATS["ranked"].append({"request": request, "shown": [text for _, text in shown]})
    scores = {}
    for pos, (label, text) in enumerate(shown):
        if CFG.get("judge_prefers") == "first":
            scores[label] = 9 if pos == 0 else 2
        elif "PREF_TIE" in user:
            scores[label] = 5
        else:
            weak = text.startswith("Perhaps")
            scores[label] = (8 if weak else 3) if "JUDGE_SWAP" in user else (3 if weak else 8)
    return scores


def answer_for(user: str) -> dict:
    """A valid reply for the task recognised from the user message that holds the task."""
    if "<passage 1>" in user or "Score each of the" in user:
        return qa_judge_answer(user)
    if user.startswith("Answer each question with the shortest words"):
        return roundtrip_answer(user)
    if re.search(r'^1\. Sentence: ".*"\n   Answer: "', user, re.M):
        return answer_focus_reply(user)
    m = re.search(r"<passage>\n(.*?)\n</passage>", user, re.S)
    text = m.group(1) if m else user
    title = (re.search(r'page "([^"]*)"', user) or [None, "it"])[1]
    n = int((re.search(r"Write (\d+)", user) or re.search(r"the (\d+) numbered", user) or [0, 1])[1])
    if "Paraphrase each" in user:
        body = user.split("\n\n", 1)[1].rsplit("\n\nReply with JSON", 1)[0]
        paras = [re.sub(r"^\d+\. ", "", p) for p in re.split(r"\n\n(?=\d+\. )", body.strip())]
        return {"items": paras}  # "paraphrase" = the same words: passes the word-ratio check
    sents = _sentences(text) or [text.strip()]
    items = []
    for i in range(n):
        s = sents[i % len(sents)]
        q = f"What does {title} say about {' '.join(s.split()[:4])}, point {i + 1}?"
        if "multiple-choice" in user:
            opts = [s] + [f"Option {j} for {i}" for j in range(1, 4)]
            k = int(_h(s, i) * 4)
            opts[0], opts[k] = opts[k], opts[0]
            items.append({"question": q, "options": opts, "answer": "ABCD"[k], "quote": s})
        elif "FAULT_WRONG_ANSWER" in text and i == 0:  # planted: a question about s answered by another sentence
            wrong = sents[(i + 1) % len(sents)]
            items.append({"question": q, "answer": wrong, "quote": wrong})
        else:
            items.append({"question": q, "answer": s, "quote": s})
    if "FAULT_PARTIAL" in text:
        items.append({"question": "What is missing?", "answer": "[answer]"})
        if items:
            items.append(dict(items[0]))
    return {"items": items}


# -- answer focus and the round trip (issue 23) ------------------------------------------------------------
# Answer focus: the question is the draft the prompt offers (else a generic one), mcq distractors are
# placeholders of the answer's kind (numbers for a number). The round trip answers a question with the
# passage sentence sharing the most words with it.
def answer_focus_reply(user: str) -> dict:
    items = []
    for m in re.finditer(r'^(\d+)\. Sentence: "(.*)"\n   Answer: "(.*)"(?:\n   Draft: "(.*)")?', user, re.M):
        q = m.group(4) or f"Which words complete: {m.group(2).replace(m.group(3), '...')}?"
        numeric = any(c.isdigit() for c in m.group(3))  # distractors of the answer's kind
        wrong = [f"{j}{j}{j}{m.group(1)}" for j in (1, 2, 3)] if numeric else \
            [f"Decoy {w}" for w in ("Ash", "Elm", "Oak")]
        items.append({"question": q, "distractors": wrong})
    return {"items": items}


def _content(s: str) -> set[str]:
    return {w for w in re.findall(r"\w+", s.lower()) if len(w) > 3}


def roundtrip_answer(user: str) -> dict:
    m = re.search(r'Passage from ".*?":\n(.*)\n\n((?:\d+\. .*(?:\n|$))+)$', user, re.S)
    passage, questions = (m[1], m[2]) if m else (user, "")
    sents = _sentences(passage) or [passage]
    out = []
    for m in re.finditer(r"^(\d+)\. (.*)$", questions, re.M):
        best = max(sents, key=lambda s: len(_content(s) & _content(m.group(2))))
        out.append({"item": int(m.group(1)), "answer": best})
    return {"items": out}


# -- judge and multi-hop replies (issue 13) ----------------------------------------------------------------
# A judge scores each item from a hash of its text (markers JUDGE_LOW / JUDGE_HIGH in an item force 1 / 5);
# a multi-hop item quotes a sentence of each passage and answers with the first.
def qa_judge_answer(user: str) -> dict:
    if "<passage 1>" in user:
        p1, p2 = (re.search(rf"<passage {k}>\n(.*?)\n</passage {k}>", user, re.S)[1] for k in (1, 2))
        titles = re.search(r'pages, "(.*?)" and "(.*?)"', user)
        n = int((re.search(r"Write (\d+)", user) or [0, 1])[1])
        s1, s2 = _sentences(p1) or [p1.strip()], _sentences(p2) or [p2.strip()]
        return {"items": [{"question": f"How do {titles[1]} and {titles[2]} connect, point {i + 1}?",
                           "quote_1": s1[i % len(s1)], "quote_2": s2[i % len(s2)], "answer": s1[i % len(s1)]}
                          for i in range(n)]}
    items = re.findall(r"^Item (\d+)\n(.*?)(?=\n\nItem \d+\n|\n\nScore each of the)", user, re.S | re.M)
    out = []
    for num, text in items:
        if CFG.get("judge_constant"):  # a judge that cannot judge: one score, its prompt's example reason
            out.append({"item": int(num), "reason": "one short sentence", "score": CFG["judge_constant"]})
            continue
        score = 1 if "JUDGE_LOW" in text else 5 if "JUDGE_HIGH" in text else 1 + int(_h("judge", text) * 5)
        out.append({"item": int(num), "reason": f"Item {num} earns {score}.", "score": score})
    return {"items": out}


async def chat(request: web.Request) -> web.StreamResponse:
    STATS["requests"] += 1
    STATS["chat"] += 1
    if CFG["api_key"] and request.headers.get("Authorization") != f"Bearer {CFG['api_key']}":
        return _err(401, "Incorrect API key provided", "invalid_api_key", "auth")
    if CFG["refuse_chat"]:
        return _err(403, "This key may not call /v1/chat/completions", "insufficient_permissions", "chat_refused")
    body = await request.json()
    if body.get("model") not in CFG["models"]:
        return _err(404, f"The model `{body.get('model')}` does not exist", "model_not_found", "not_found")
    STATS["inflight"] += 1
    STATS["max_inflight"] = max(STATS["max_inflight"], STATS["inflight"])
    try:
        return await _chat(request, body)
    finally:
        STATS["inflight"] -= 1


def _count(kind):
    STATS["by_kind"][kind] = STATS["by_kind"].get(kind, 0) + 1


def _err(status, msg, code, kind, headers=None):
    _count(kind)
    msg = CFG["error_message"] or msg
    return web.json_response({"error": {"message": msg, "type": "invalid_request_error", "code": code}},
                             status=status, headers=headers)


def task_message(msgs: list[dict]) -> str:
    """The user message that holds the task: the last one that is not a re-ask (prompts written as chat
    turns put worked examples first)."""
    users = [m["content"] for m in msgs if m["role"] == "user"]
    asks = [u for u in users if not u.startswith("That reply was not usable")]
    return (asks or users)[-1]


async def _chat(request, body):
    msgs = body["messages"]
    user = task_message(msgs)
    rf = (body.get("response_format") or {}).get("type")
    if CFG["max_concurrent"] and STATS["inflight"] > CFG["max_concurrent"]:
        return _err(429, "Rate limit reached", "rate_limit", "429_overload", {"Retry-After": CFG["retry_after"]})
    if rf == "json_schema" and CFG["reject_json_schema"]:
        return _err(400, "response_format json_schema is not supported", None, "reject_schema")
    if "FAULT_OVERFLOW" in user:
        return _err(400, "This model's maximum context length is 128 tokens", "context_length_exceeded", "overflow")
    pt = len(json.dumps(msgs)) // 4
    if CFG.get("budget"):
        wait = _over_budget(pt)
        STATS["trace"].append("ok" if wait is None else "429")
        if wait is not None:
            return _err(429, "Rate limit reached for tokens per min", "rate_limit_exceeded", "429_budget",
                        {"Retry-After": f"{wait:.3f}", **_limit_headers()})
    fault = None
    if CFG["faults"] or CFG["fault_first"]:  # fault-free runs (the benchmark) skip the bookkeeping
        fault = _pick_fault(body)
    lat = CFG["latency"]
    if CFG["latency_dist"] == "lognormal" and lat:
        lat = random.lognormvariate(0, CFG["sigma"]) * lat  # median = latency
    if lat:
        await asyncio.sleep(lat)
    if fault == "429":
        return _err(429, "Rate limit reached", "rate_limit", "429", {"Retry-After": CFG["retry_after"]})
    if fault == "500":
        return _err(500, "The server had an error", None, "500")
    if fault == "slow":
        _count("slow")
        await asyncio.sleep(CFG["slow_s"])
    if fault == "drop":
        _count("drop")
        request.transport.abort()
        return web.Response(status=500)
    if fault == "retry_after_huge":
        return _err(429, "Rate limit reached", "rate_limit", "429_huge", {"Retry-After": CFG["retry_after_huge"]})
    if fault == "html200":
        _count("html200")
        page = b"<html><body>" + b"<p>Our service is temporarily unavailable.</p>" * (CFG["html_bytes"] // 47)
        return web.Response(body=page, content_type="text/html")
    if fault == "huge":
        _count("huge")
        return await _stream(request, CFG["huge_bytes"])
    if fault == "drip":  # a reply that never ends, one byte every 0.2 s: only a total deadline stops it
        _count("drip")
        r = web.StreamResponse(headers={"Content-Type": "application/json"})
        await r.prepare(request)
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            for _ in range(600):
                await r.write(b" ")
                await asyncio.sleep(0.2)
        return r
    code, reply = completion(body, fault)
    _count("ok" if not fault else f"{fault}_served")
    ct = reply["usage"]["completion_tokens"]
    if fault == "usage_strings":
        reply["usage"] = {k: f"{v} tokens" for k, v in reply["usage"].items()}
    elif fault == "usage_negative":
        reply["usage"] = {k: -10 ** 9 for k in reply["usage"]}
    STATS["tokens_in"] += pt
    STATS["tokens_out"] += ct
    headers = {}
    if CFG.get("budget"):
        _charge_output(ct)
        headers = _limit_headers()
    return web.json_response(reply, status=code, headers=headers)


async def _stream(request, size: int) -> web.StreamResponse:
    """A 200 JSON-typed body of `size` bytes, sent in 1 MiB pieces (never held whole by the server)."""
    r = web.StreamResponse(headers={"Content-Type": "application/json"})
    await r.prepare(request)
    piece = b'{"pad": "' + b"x" * (2 ** 20)
    try:
        for _ in range(size // len(piece)):
            await r.write(piece)
    except (ConnectionResetError, RuntimeError):
        return r  # the client stopped reading: that is the point
    await r.write_eof()
    return r


def _pick_fault(body: dict) -> str | None:
    """The fault for this send of this request body: fault_first in order, then by a hash of (seed, body,
    attempt), so every run with the same config sees the same faults."""
    key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    attempt = SEEN[key] = SEEN.get(key, -1) + 1
    if attempt == 0 and FIRST[0] < len(CFG["fault_first"]):
        FIRST[0] += 1
        return CFG["fault_first"][FIRST[0] - 1]
    if attempt < CFG["fault_attempts"]:
        r, acc = _h(CFG["seed"], key, attempt), 0.0
        for kind, rate in CFG["faults"].items():
            acc += rate
            if r < acc:
                return kind
    return None


def completion(body: dict, fault: str | None = None) -> tuple[int, dict]:
    """(status, JSON body) of a chat request once it is past faults and limits: the part online and batch
    requests share, so both modes give the same answers."""
    msgs = body["messages"]
    user = task_message(msgs)
    rf = (body.get("response_format") or {}).get("type")
    if "FAULT_OVERFLOW" in user:
        return 400, {"error": {"message": "This model's maximum context length is 128 tokens",
                               "type": "invalid_request_error", "code": "context_length_exceeded"}}
    # translate prompts go to the translator (tests/servers/translator.py), which sees re-asks too
    content, finish = preference_reply(body) or (
        json.dumps(translator.answer(msgs) if translator.is_translate(user) else answer_for(user),
                   ensure_ascii=False), "stop")
    if "FAULT_GARBAGE" in user or fault == "invalid_json":
        _count("invalid_json")
        content = "Sure! Here are some questions about the text, hope this helps."
    elif fault == "length":
        _count("length")
        content, finish = content[: len(content) // 2], "length"
    if not rf and finish == "stop" and content.startswith("{"):
        content = f"Here you go:\n```json\n{content}\n```"  # plain-text mode: exercise tolerant parsing
    pt, ct = len(json.dumps(msgs)) // 4, max(1, len(content) // 4)
    return 200, {
        "id": "chatcmpl-%012d" % int(_h(user) * 1e12), "object": "chat.completion", "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}}


async def models(request):
    STATS["requests"] += 1
    if CFG["api_key"] and request.headers.get("Authorization") != f"Bearer {CFG['api_key']}":
        return _err(401, "Incorrect API key provided", "invalid_api_key", "auth")
    if CFG["models_status"] != 200:
        return _err(CFG["models_status"], "Not found", None, "models_hidden")
    return web.json_response({"object": "list", "data": [{"id": m, "object": "model", "owned_by": "fake"}
                                                         for m in CFG["models"]]})


async def stats(request):
    return web.json_response(STATS)


async def do_reset(request):
    reset()
    return web.json_response({"ok": True})


async def config(request):
    body = await request.json()
    if "translator" in body:  # parallel pairs and faults for translate prompts: kept there, not echoed
        translator.configure(body.pop("translator"))
    CFG.update(body)
    return web.json_response(CFG)


# --- Batch API -------------------------------------------------------------------------------------------
def _auth(request):
    if CFG["api_key"] and request.headers.get("Authorization") != f"Bearer {CFG['api_key']}":
        return _err(401, "Incorrect API key provided", "invalid_api_key", "auth")
    return None


def _new_file(content: bytes, purpose: str, filename: str) -> dict:
    SEQ["file"] += 1  # not len(FILES): deleted files must not free their ids
    fid = f"file-{SEQ['file']:06d}"
    meta = {"id": fid, "object": "file", "bytes": len(content), "created_at": int(time.time()),
            "filename": filename, "purpose": purpose}
    FILES[fid] = {"meta": meta, "content": content}
    return meta


async def upload_file(request):
    STATS["requests"] += 1
    if (denied := _auth(request)) is not None:
        return denied
    # Fields are read as they arrive; with `file_rate_bps` at that rate, as a slow uplink delivers them.
    fields, step = {}, max(1, int(CFG["file_rate_bps"] / 10)) if CFG["file_rate_bps"] else 2 ** 16
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        data = bytearray()
        while chunk := await part.read_chunk(step):
            data += chunk
            if CFG["file_rate_bps"]:
                await asyncio.sleep(0.1)
        fields[part.name] = (bytes(data), part.filename)
    if fields.get("purpose", (b"",))[0] != b"batch" or "file" not in fields:
        return _err(400, "purpose=batch and a file are required", None, "bad_upload")
    STATS["files"] += 1
    content, filename = fields["file"]
    STATS["file_bytes"].append(len(content))
    return web.json_response(_new_file(content, "batch", filename))


async def get_file(request):
    STATS["requests"] += 1
    f = FILES.get(request.match_info["fid"])
    if f is None:
        return _err(404, "No such file", None, "not_found")
    if request.path.endswith("/content"):
        if CFG["file_rate_bps"]:
            return await _paced(request, f["content"])
        return web.Response(body=f["content"], content_type="application/octet-stream")
    return web.json_response(f["meta"])


async def _paced(request, data: bytes) -> web.StreamResponse:
    """A file's content at `file_rate_bps` bytes per second, in tenth-of-a-second pieces."""
    r = web.StreamResponse(headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
    await r.prepare(request)
    step = max(1, int(CFG["file_rate_bps"] / 10))
    for i in range(0, len(data), step):
        await r.write(data[i:i + step])
        await asyncio.sleep(0.1)
    await r.write_eof()
    return r


async def delete_file(request):
    STATS["requests"] += 1
    if (denied := _auth(request)) is not None:
        return denied
    fid = request.match_info["fid"]
    if FILES.pop(fid, None) is None:
        return _err(404, "No such file", None, "not_found")
    STATS["files_deleted"].append(fid)
    return web.json_response({"id": fid, "object": "file", "deleted": True})


async def create_batch(request):
    STATS["requests"] += 1
    if (denied := _auth(request)) is not None:
        return denied
    body = await request.json()
    if body.get("input_file_id") not in FILES or body.get("endpoint") != "/v1/chat/completions":
        return _err(400, "input_file_id must be an uploaded file and endpoint /v1/chat/completions", None,
                    "bad_batch")
    bid = f"batch_{len(BATCHES) + 1:06d}"
    n = len(FILES[body["input_file_id"]]["content"].splitlines())
    obj = {"id": bid, "object": "batch", "endpoint": body["endpoint"], "errors": None,
           "input_file_id": body["input_file_id"], "completion_window": body.get("completion_window", "24h"),
           "status": "validating", "output_file_id": None, "error_file_id": None,
           "created_at": int(time.time()), "request_counts": {"total": n, "completed": 0, "failed": 0},
           "metadata": body.get("metadata")}
    outcomes = CFG["batch_outcomes"]
    BATCHES[bid] = {"obj": obj, "polls": 0, "order": len(BATCHES),
                    "outcome": outcomes[len(BATCHES)] if len(BATCHES) < len(outcomes) else "completed"}
    STATS["batches"] += 1
    return web.json_response(obj)


def _run_batch(b: dict) -> None:
    """Answer the batch's lines (all, or the first batch_expire_after when it expires) into its files."""
    obj = b["obj"]
    lines = FILES[obj["input_file_id"]]["content"].decode().splitlines()
    out, errors = [], []
    STATS["batch_lines"].append(len(lines))
    for i, line in enumerate(lines):
        req = json.loads(line)
        cid, body = req["custom_id"], req["body"]
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        rid = f"batch_req_{obj['id']}_{i}"
        if b["outcome"] == "expired" and i >= CFG["batch_expire_after"]:
            errors.append({"id": rid, "custom_id": cid, "response": None,
                           "error": {"code": "batch_expired", "message": "This request could not be executed "
                                     "before the completion window expired."}})
            continue
        if "FAULT_BATCH_ERROR" in user:
            errors.append({"id": rid, "custom_id": cid, "error": None, "response": {
                "status_code": 500, "request_id": rid, "body": {"error": {"message": "The server had an error"}}}})
            continue
        invalid = b["order"] == 0 and i < CFG["batch_invalid_first"]
        code, reply = completion(body, "invalid_json" if invalid else None)
        (out if code == 200 else errors).append(
            {"id": rid, "custom_id": cid, "error": None,
             "response": {"status_code": code, "request_id": rid, "body": reply}})
    extra = _tamper(out) if b["order"] == 0 else []
    for name, rows in (("output_file_id", out), ("error_file_id", errors)):
        if rows:
            data = "".join(json.dumps(r) + "\n" for r in rows).encode()
            if name == "output_file_id":
                data += b"".join(extra)
            obj[name] = _new_file(data, "batch_output", f"{obj['id']}_{name}.jsonl")["id"]
    obj["request_counts"].update(completed=len(out), failed=len(errors))


def _tamper(out: list[dict]) -> list[bytes]:
    """What `batch_tamper` does to the first batch's output lines (in place), and raw lines to append."""
    extra = []
    for op in CFG["batch_tamper"]:
        if op == "foreign_id":  # an answer filed under a request this job never held
            out[0]["custom_id"] = "f" * 64
        elif op == "null_id":
            extra.append(json.dumps(dict(out[1], custom_id=None)).encode() + b"\n")
        elif op == "duplicate":  # a second answer for the same request: another row's reply
            extra.append(json.dumps(dict(out[3], response=out[4]["response"])).encode() + b"\n")
        elif op == "drop":
            out.pop()
        elif op == "malformed":
            extra += [b'{"custom_id": "x", "response": {"status_code": 200, "bo\n', b"[1, 2, 3]\n", b'"text"\n',
                      json.dumps({"custom_id": out[2]["custom_id"], "response": "200 OK"}).encode() + b"\n"]
        elif op == "huge_line":
            extra.append(b'{"custom_id": "' + b"h" * CFG["huge_bytes"] + b'"}\n')
    return extra


def _batch(request, counter: str):
    STATS["requests"] += 1
    STATS[counter] += 1
    return BATCHES.get(request.match_info["bid"])


async def get_batch(request):
    if (b := _batch(request, "batch_retrieves")) is None:
        return _err(404, "No such batch", None, "not_found")
    obj = b["obj"]
    b["polls"] += 1
    if obj["status"] == "validating":
        if b["outcome"] == "failed":
            obj.update(status="failed", errors={"object": "list", "data": [
                {"code": "invalid_request", "message": CFG["batch_fail_message"], "line": 1}]})
        else:
            obj["status"] = "in_progress"
    elif obj["status"] == "in_progress" and b["polls"] > CFG["batch_polls"]:
        _run_batch(b)
        obj["status"] = "expired" if b["outcome"] == "expired" else "completed"
    elif obj["status"] == "cancelling":
        obj["status"] = "cancelled"
    return web.json_response(obj)


async def list_batches(request):
    STATS["requests"] += 1
    data = sorted((b["obj"] for b in BATCHES.values()), key=lambda o: o["id"], reverse=True)
    if request.query.get("after"):  # the cursor: jobs older than this one
        data = [o for o in data if o["id"] < request.query["after"]]
    limit = int(request.query.get("limit", 20))
    return web.json_response({"object": "list", "data": data[:limit], "has_more": len(data) > limit})


async def cancel_batch(request):
    if (b := _batch(request, "batch_cancels")) is None:
        return _err(404, "No such batch", None, "not_found")
    if b["obj"]["status"] in ("validating", "in_progress"):
        b["obj"]["status"] = "cancelling"
    return web.json_response(b["obj"])


@web.middleware
async def _front(request, handler):
    """Records each distinct Authorization header; with `redirect_all`, answers /v1 with a 307 there."""
    auth = request.headers.get("Authorization")
    if auth and auth not in STATS["auth_seen"]:
        STATS["auth_seen"].append(auth)
    if CFG["redirect_all"] and request.path.startswith("/v1"):
        STATS["requests"] += 1
        _count("redirect")
        raise web.HTTPTemporaryRedirect(CFG["redirect_all"].rstrip("/") + request.path[len("/v1"):])
    return await handler(request)


def make_app() -> web.Application:
    reset()
    app = web.Application(client_max_size=64 * 2 ** 20, middlewares=[_front])
    app.add_routes([web.post("/v1/chat/completions", chat), web.get("/v1/models", models),
                    web.post("/v1/files", upload_file), web.get("/v1/files/{fid}", get_file),
                    web.get("/v1/files/{fid}/content", get_file), web.delete("/v1/files/{fid}", delete_file),
                    web.post("/v1/batches", create_batch),
                    web.get("/v1/batches", list_batches), web.get("/v1/batches/{bid}", get_batch),
                    web.post("/v1/batches/{bid}/cancel", cancel_batch),
                    web.get("/stats", stats), web.post("/reset", do_reset), web.post("/config", config)])
    return app


async def _main(port: int):
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"LISTENING http://127.0.0.1:{port}/v1", flush=True)
    await asyncio.Event().wait()


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--config", default="{}", help="JSON merged into CFG")
    a = ap.parse_args(argv)
    CFG.update(json.loads(a.config))
    try:
        asyncio.run(_main(a.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
