"""A fault-injecting OpenAI-compatible chat server on 127.0.0.1, for tests and the benchmark.

Run: python tests/servers/fake_openai.py [--port 0] [--latency 0.05] [--faults '{"429": 0.2}']
It prints `LISTENING <base_url>` once ready. Control endpoints: GET /stats, POST /reset, POST /config.

Answers are a deterministic function of the *chunk* in the prompt (not of the whole conversation), so a
re-asked chunk gets the same items back, and a run with faults must produce the output of a fault-free run.
Faults hit only the first `fault_attempts` sends of an identical request body, chosen by a hash, so
every run with the same config sees the same faults.

Faults (rates in [0,1], summed): invalid_json, 429 (with Retry-After), 500, length (finish_reason=length,
cut-off JSON), slow (sleeps `slow_s`, past the client timeout), drop (closes the connection).
Markers in the chunk text force per-chunk behaviour: FAULT_OVERFLOW (400 context length),
FAULT_GARBAGE (never valid JSON), FAULT_PARTIAL (adds a placeholder and a duplicate item).
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import re
import sys
import time

from aiohttp import web

CFG = {"models": ["fake-model", "gpt-4o-mini"], "api_key": None, "latency": 0.0, "latency_dist": "fixed",
       "sigma": 0.5, "faults": {}, "fault_attempts": 1, "slow_s": 5.0, "retry_after": "0.2",
       "max_concurrent": None, "reject_json_schema": False, "seed": 0,
       # faults given in order to the first fresh requests, whatever their text: lets a test be sure each
       # kind occurs at least once, independent of how the prompts hash
       "fault_first": []}
STATS: dict = {}
SEEN: dict = {}
FIRST = [0]


def reset():
    STATS.clear()
    STATS.update(requests=0, chat=0, by_kind={}, inflight=0, max_inflight=0)
    SEEN.clear()
    FIRST[0] = 0


def _h(*parts) -> float:
    d = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(d[:8], "big") / 2 ** 64


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 4]


def answer_for(user: str) -> dict:
    """A valid reply for the task recognised from the (first) user message."""
    if "<passage 1>" in user or "Score each of the" in user:
        return qa_judge_answer(user)
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
        else:
            items.append({"question": q, "answer": s, "quote": s})
    if "FAULT_PARTIAL" in text:
        items.append({"question": "What is missing?", "answer": "[answer]"})
        if items:
            items.append(dict(items[0]))
    return {"items": items}


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
        score = 1 if "JUDGE_LOW" in text else 5 if "JUDGE_HIGH" in text else 1 + int(_h("judge", text) * 5)
        out.append({"item": int(num), "reason": f"Item {num} earns {score}.", "score": score})
    return {"items": out}


async def chat(request: web.Request) -> web.StreamResponse:
    STATS["requests"] += 1
    STATS["chat"] += 1
    if CFG["api_key"] and request.headers.get("Authorization") != f"Bearer {CFG['api_key']}":
        return _err(401, "Incorrect API key provided", "invalid_api_key", "auth")
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
    return web.json_response({"error": {"message": msg, "type": "invalid_request_error", "code": code}},
                             status=status, headers=headers)


async def _chat(request, body):
    msgs = body["messages"]
    user = next(m["content"] for m in msgs if m["role"] == "user")
    rf = (body.get("response_format") or {}).get("type")
    if CFG["max_concurrent"] and STATS["inflight"] > CFG["max_concurrent"]:
        return _err(429, "Rate limit reached", "rate_limit", "429_overload", {"Retry-After": CFG["retry_after"]})
    if rf == "json_schema" and CFG["reject_json_schema"]:
        return _err(400, "response_format json_schema is not supported", None, "reject_schema")
    if "FAULT_OVERFLOW" in user:
        return _err(400, "This model's maximum context length is 128 tokens", "context_length_exceeded", "overflow")
    key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    attempt = SEEN[key] = SEEN.get(key, -1) + 1
    fault = None
    if attempt == 0 and FIRST[0] < len(CFG["fault_first"]):
        fault = CFG["fault_first"][FIRST[0]]
        FIRST[0] += 1
    elif attempt < CFG["fault_attempts"]:
        r, acc = _h(CFG["seed"], key, attempt), 0.0
        for kind, rate in CFG["faults"].items():
            acc += rate
            if r < acc:
                fault = kind
                break
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
    content = json.dumps(answer_for(user), ensure_ascii=False)
    finish = "stop"
    if "FAULT_GARBAGE" in user or fault == "invalid_json":
        _count("invalid_json")
        content = "Sure! Here are some questions about the text, hope this helps."
    elif fault == "length":
        _count("length")
        content, finish = content[: len(content) // 2], "length"
    if not rf and finish == "stop" and content.startswith("{"):
        content = f"Here you go:\n```json\n{content}\n```"  # plain-text mode: exercise tolerant parsing
    _count("ok" if not fault else f"{fault}_served")
    pt, ct = len(json.dumps(msgs)) // 4, max(1, len(content) // 4)
    return web.json_response({
        "id": f"chatcmpl-{key[:12]}", "object": "chat.completion", "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}})


async def models(request):
    STATS["requests"] += 1
    if CFG["api_key"] and request.headers.get("Authorization") != f"Bearer {CFG['api_key']}":
        return _err(401, "Incorrect API key provided", "invalid_api_key", "auth")
    return web.json_response({"object": "list", "data": [{"id": m, "object": "model", "owned_by": "fake"}
                                                         for m in CFG["models"]]})


async def stats(request):
    return web.json_response(STATS)


async def do_reset(request):
    reset()
    return web.json_response({"ok": True})


async def config(request):
    CFG.update(await request.json())
    return web.json_response(CFG)


def make_app() -> web.Application:
    reset()
    app = web.Application(client_max_size=64 * 2 ** 20)
    app.add_routes([web.post("/v1/chat/completions", chat), web.get("/v1/models", models),
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
