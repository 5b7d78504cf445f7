"""The preference step: prompt/completion rows -> pairs whose rejected side was made on purpose, every pair
checked, optionally confirmed by a judge.

Each row gets one strategy (`preference.strategy`, or a weighted mix drawn from (seed, id)):
- contrastive: the build's model asked for a worse reply under the `worse` instruction, in rounds: a row
  whose reply fails a check is asked again in the next round, at another temperature and seed;
- weaker_model: a second model answers the prompt (its own llm settings);
- corrupt: no LLM (wiki_qa/preference/corrupt.py: swap, vague, truncate);
- sample_and_judge: n replies (the row's own completion too, unless told otherwise) scored by the judge in a
  shuffled order; best is chosen, worst rejected; a spread under min_margin is a tie and dropped.
Every pair then passes wiki_qa/preference/checks.py; a reply the server cut off (finish_reason `length`, read
from the engine's run log) counts as `truncated`. `preference.judge` scores chosen and rejected once more:
confirmed, tie (dropped) or swapped, in the `status` column. Near-duplicate rejected sides across the build are
dropped too (the dedup: settings), so one canned reply cannot teach a shortcut.

Each LLM round is one map through the executor (cached per request, like every LLM step). A bundled local
model is started once for the whole step, not once per round.
"""
from __future__ import annotations

import contextlib
import dataclasses
import random
from collections import Counter
from typing import Callable

import datasets

from wiki_qa.llm.config import LLMConfig
from wiki_qa.llm.stats import LLMStats
from wiki_qa.llm.tasks import mix
from wiki_qa.llm.tasks import preference as T
from wiki_qa.llm.tasks.base import item_meta
from wiki_qa.orchestrator import judging
from wiki_qa.preference import checks as C
from wiki_qa.preference.corrupt import corrupt
from wiki_qa.quality.text import normalize
from wiki_qa.rows import SPLITS

DROPPED_IDS = 20   # ids listed per drop reason in the report


@dataclasses.dataclass
class Item:
    split: str
    index: int            # the row's position in its split
    id: str
    prompt: str
    chosen: str
    lang: str
    title: str
    passage: str
    strategy: str
    rejected: str | None = None
    reason: str | None = None       # why the pair is dropped (None: kept)
    status: str = "unjudged"
    info: dict = dataclasses.field(default_factory=dict)   # meta.preference


@dataclasses.dataclass
class RunLog(LLMStats):
    """The step's LLM counters over all its maps, plus the failed rows of the last map (id -> reason)."""
    last: dict = dataclasses.field(default_factory=dict)

    def add_run(self, cache, run: str, elapsed_s: float = 0.0) -> "RunLog":
        self.last = cache.run_failures(run)
        return super().add_run(cache, run, elapsed_s)


class Runner:
    """One map of a preference task over some items (all splits at once), through the build's executor."""

    def __init__(self, ctx, stats: RunLog):
        self.ctx, self.stats = ctx, stats

    def __call__(self, task, llm: LLMConfig, items: list[Item], extra: Callable[[Item], dict]) -> list[dict]:
        """One output row per item (in the items' order), with `_failed`: the engine's reason, or None."""
        if not items:
            return []
        rows = [{"id": it.id, "title": it.title, "lang": it.lang, "text": it.prompt, **extra(it)} for it in items]
        feats = datasets.Features({k: _feature(v) for k, v in rows[0].items()})
        by_split = {s: [r for it, r in zip(items, rows) if it.split == s] for s in SPLITS}
        dsd = datasets.DatasetDict({s: datasets.Dataset.from_list(by_split[s], features=feats) if by_split[s]
                                    else datasets.Dataset.from_dict({k: [] for k in feats}, features=feats)
                                    for s in SPLITS})
        out = self.ctx.executor.generate(dsd, task, llm, num_proc=self.ctx.num_proc, refresh=self.ctx.refresh,
                                         stats=self.stats)
        got = {r["id"]: r for s in SPLITS for r in out[s]}
        return [{**got[it.id], "_failed": self.stats.last.get(it.id)} for it in items]


def _feature(value):
    return datasets.List(datasets.Value("string")) if isinstance(value, list) else datasets.Value("string")


@contextlib.contextmanager
def local_servers_held(*llms: LLMConfig | None):
    """`provider: local` starts llama.cpp for every map, and this step makes several (attempts, samples, the
    judge): start each bundled model once (`local_server.held`); every map of the step uses it, with its
    key, under the cache keys of `provider: local`."""
    with contextlib.ExitStack() as stack:
        for llm in llms:
            if llm is not None and llm.provider == "local":
                from wiki_qa.llm import local_server

                stack.enter_context(local_server.held(llm.model))
        yield list(llms)


# -- the strategies ---------------------------------------------------------------------------------------
def _llm_reason(failed: str | None) -> str:
    return "truncated" if failed == "truncated" else "llm_failed"


def _reply_reason(r: dict) -> str | None:
    """Why a reply cannot be used at all (before any check), or None."""
    if r[T.REPLY] is None:
        return _llm_reason(r["_failed"])
    return "truncated" if r[T.CAPPED] else None


def _take_replies(items: list[Item], results: list[dict], checks, info: dict) -> list[Item]:
    """Pairs from one round of replies; returns the items still without a rejected side."""
    pending = []
    for it, r in zip(items, results):
        reply = r[T.REPLY]
        reason = _reply_reason(r) or C.check_pair(it.chosen, reply, it.lang, checks)
        if reason:
            it.reason = reason
            pending.append(it)
        else:
            it.rejected, it.reason = reply, None
            it.info.update(info)
    return pending


def contrastive(items: list[Item], run: Runner, pcfg, llm: LLMConfig) -> None:
    cfg = pcfg.contrastive
    task, (lo, hi) = T.Contrastive(cfg), cfg.temperature
    for k in range(cfg.attempts):
        if not items:
            return
        t = round(random.Random(f"{pcfg.seed}|contrastive|{k}").uniform(lo, hi), 3)
        llm_k = llm.model_copy(update={"temperature": t, "seed": (llm.seed or 0) + k})
        results = run(task, llm_k, items, lambda it: {"chosen": it.chosen})
        items = _take_replies(items, results, pcfg.checks, {"how": cfg.worse, "model": llm.model, "attempt": k + 1,
                                                            "temperature": t})


def weaker_model(items: list[Item], run: Runner, pcfg, llm: LLMConfig) -> None:
    task = T.Answer(T.AnswerConfig(**pcfg.weaker_model.model_dump(include=set(T.AnswerConfig.model_fields))))
    for k in range(pcfg.weaker_model.attempts):
        if not items:
            return
        llm_k = llm.model_copy(update={"seed": (llm.seed or 0) + k})
        items = _take_replies(items, run(task, llm_k, items, lambda it: {"chosen": it.chosen}), pcfg.checks,
                              {"how": "answer", "model": llm.model, "attempt": k + 1})


def corrupted(items: list[Item], pcfg) -> None:
    for it in items:
        topic = it.title if it.title and it.title.casefold() in it.prompt.casefold() else "the subject"
        text, how = corrupt(it.chosen, it.passage, topic, it.lang, f"{pcfg.seed}|{it.id}", pcfg.corrupt.modes,
                            pcfg.checks)
        if text is None:
            it.reason = how
        else:
            it.rejected, it.reason = text, None
            it.info.update({"how": how})


def rank(items: list[Item], run: Runner, pcfg, judge_llm: LLMConfig, candidates: list[list[str]]) -> list[dict]:
    task = T.Rank(T.RankConfig(**pcfg.judge.model_dump(include=set(T.RankConfig.model_fields))))
    cands = dict(zip((it.id for it in items), candidates))
    return run(task, judge_llm, items, lambda it: {"candidates": cands[it.id]})


def sample_and_judge(items: list[Item], run: Runner, pcfg, llm: LLMConfig, judge_llm: LLMConfig) -> None:
    sj = pcfg.sample_and_judge
    task = T.Answer(T.AnswerConfig(**sj.model_dump(include=set(T.AnswerConfig.model_fields))))
    cands = {it.id: [it.chosen] if sj.include_original else [] for it in items}
    fails: dict[str, Counter] = {it.id: Counter() for it in items}
    for k in range(sj.n):
        llm_k = llm.model_copy(update={"temperature": sj.temperature, "seed": (llm.seed or 0) + k})
        for it, r in zip(items, run(task, llm_k, items, lambda it: {"chosen": it.chosen})):
            reply = r[T.REPLY]
            reason = _reply_reason(r) or C.check_side(reply, it.lang, pcfg.checks)
            if not reason and any(normalize(reply) == normalize(c) for c in cands[it.id]):
                reason = "identical"   # the same reply twice is no pair
            if reason:
                fails[it.id][reason] += 1
            else:
                cands[it.id].append(reply)
    ready = []
    for it in items:
        if len(cands[it.id]) >= 2:
            ready.append(it)
        else:
            it.reason = fails[it.id].most_common(1)[0][0] if fails[it.id] else "identical"
    results = rank(ready, run, pcfg, judge_llm, [cands[it.id] for it in ready])
    for it, r in zip(ready, results):
        scores, shown = r[T.SCORES], r[T.SHOWN]
        if scores is None:
            it.reason = "judge_failed"
            continue
        n = len(scores)
        # the first candidate among equals (position-free: candidates are in sample order, not shown order)
        best = max(range(n), key=lambda i: (scores[i], -i))
        worst = min(range(n), key=lambda i: (scores[i], i))
        it.info.update({"how": "ranked", "model": llm.model, "judge": judge_llm.model, "scores": scores,
                        "shown": shown, "chosen": best, "rejected": worst,
                        "original": 0 if sj.include_original else None})
        if scores[best] - scores[worst] < sj.min_margin:
            it.reason, it.status = "tie", "tie"
            continue
        chosen, rejected = cands[it.id][best], cands[it.id][worst]
        it.reason = C.check_pair(chosen, rejected, it.lang, pcfg.checks)
        if it.reason is None:
            it.chosen, it.rejected, it.status = chosen, rejected, "confirmed"


def confirm(items: list[Item], run: Runner, pcfg, judge_llm: LLMConfig) -> None:
    """The judge scores chosen and rejected, shown in a shuffled order: confirmed, tie (dropped) or swapped."""
    j = pcfg.judge
    results = rank(items, run, pcfg, judge_llm, [[it.chosen, it.rejected] for it in items])
    for it, r in zip(items, results):
        scores = r[T.SCORES]
        if scores is None:
            it.status = "unjudged"
            it.reason = None if j.keep_unjudged else "judge_failed"
            continue
        it.info["judge"] = {"model": judge_llm.model, "chosen": scores[0], "rejected": scores[1],
                            "shown": r[T.SHOWN]}
        if scores[0] > scores[1]:
            it.status = "confirmed"
        elif scores[0] == scores[1]:
            it.reason, it.status = "tie", "tie"
        elif j.on_swapped == "drop":
            it.reason, it.status = "swapped", "swapped"
        else:  # the judge's order; the swapped pair must pass the checks too (the length band is not symmetric)
            it.chosen, it.rejected, it.status = it.rejected, it.chosen, "swapped"
            it.reason = C.check_pair(it.chosen, it.rejected, it.lang, pcfg.checks)


# -- the step -------------------------------------------------------------------------------------------
def llm_settings(cfg) -> tuple[LLMConfig, LLMConfig, LLMConfig]:
    """(replies, weaker model, judge) engine settings; ValueError names what is wrong."""
    p, base = cfg.preference, (cfg.llm or LLMConfig()).model_dump()
    out = []
    for where, settings in (("preference.llm", {**base, **p.llm}),
                            ("preference.weaker_model.llm", {**base, **p.weaker_model.llm}),
                            ("preference.judge.llm", p.judge.engine_settings(base))):
        try:
            out.append(LLMConfig.model_validate(settings))
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
    return tuple(out)


def collect(dsd: datasets.DatasetDict, chunks: datasets.DatasetDict | None, pcfg) -> dict[str, list[Item]]:
    """The rows as Items, with the passage each was made from (the chunk; for ready-made examples, the prompt)
    and the strategy drawn for it."""
    weights = pcfg.strategy if isinstance(pcfg.strategy, dict) else {pcfg.strategy: 1.0}
    out = {}
    for s in SPLITS:
        ds = dsd[s]
        ids = ds["id"] if ds.num_rows else []
        passages = judging.contexts(chunks[s], {judging.chunk_of(i) for i in ids}) if chunks is not None else {}
        items = []
        for i, r in enumerate(ds.select_columns(["id", "prompt", "completion", "lang", "title"])):
            ctx = passages.get(judging.chunk_of(r["id"]))
            items.append(Item(s, i, r["id"], r["prompt"], r["completion"], r["lang"] or "", r["title"] or "",
                              ctx[1] if ctx else r["prompt"], mix.plan(weights, 1, r["id"], pcfg.seed, "strategy")[0]))
        out[s] = items
    return out


def make_pairs(dsd: datasets.DatasetDict, ctx) -> tuple[datasets.DatasetDict, dict]:
    cfg, pcfg = ctx.cfg, ctx.cfg.preference
    items = collect(dsd, ctx.chunks, pcfg)
    every = [it for s in SPLITS for it in items[s]]
    by = {name: [it for it in every if it.strategy == name] for name in pcfg.strategies()}
    stats = RunLog()
    run = Runner(ctx, stats)
    replies, weaker, judge = llm_settings(cfg)
    need_judge = pcfg.judge.enabled or by.get("sample_and_judge")
    with local_servers_held(replies if by.get("contrastive") or by.get("sample_and_judge") else None,
                            weaker if by.get("weaker_model") else None,
                            judge if need_judge else None) as (replies, weaker, judge):
        for it in every:
            it.info["strategy"] = it.strategy
        if by.get("corrupt"):
            corrupted(by["corrupt"], pcfg)
        if by.get("contrastive"):
            contrastive(by["contrastive"], run, pcfg, replies)
        if by.get("weaker_model"):
            weaker_model(by["weaker_model"], run, pcfg, weaker)
        if by.get("sample_and_judge"):
            sample_and_judge(by["sample_and_judge"], run, pcfg, replies, judge)
        if pcfg.judge.enabled:
            confirm([it for it in every if it.reason is None], run, pcfg, judge)
    out = datasets.DatasetDict({s: _pairs_split(dsd[s], items[s]) for s in SPLITS})
    report = _report(pcfg, every, stats, replies, weaker, judge, by)
    if cfg.dedup.enabled:
        from wiki_qa.quality import dedup  # datasketch and scipy: only when a build dedups

        out, dd = dedup(out, cfg.dedup, column="rejected")
        report["dedup_rejected"] = dd
        n = dd.get("exact", 0) + dd.get("near", 0)
        if n:
            report["dropped"]["duplicate_rejected"] = n
            report["pairs"] -= n
    return out, report


def estimate_pairs(cfg, rows) -> dict:
    """--dry-run: the step's requests, tokens and cost, as an upper bound (every attempt made, every pair
    judged). `rows`: prompt/completion rows (for a generate: build, stand-ins of the expected items)."""
    from wiki_qa.llm import estimate

    p = cfg.preference
    replies, weaker, judge = llm_settings(cfg)
    weights = p.strategy if isinstance(p.strategy, dict) else {p.strategy: 1.0}
    groups: dict[str, list[dict]] = {name: [] for name in p.strategies()}
    pairs = []
    for r in rows:
        req = {"id": r["id"], "title": r.get("title") or "", "lang": r.get("lang") or "", "text": r["prompt"],
               "chosen": r["completion"]}
        groups[mix.plan(weights, 1, r["id"], p.seed, "strategy")[0]].append(req)
        pairs.append(req)
    sj = p.sample_and_judge
    rank = T.Rank(T.RankConfig(**p.judge.model_dump(include=set(T.RankConfig.model_fields))))
    passes = [  # (task, engine settings, rows, times)
        (T.Contrastive(p.contrastive), replies, groups.get("contrastive", []), p.contrastive.attempts),
        (T.Answer(), weaker, groups.get("weaker_model", []), p.weaker_model.attempts),
        (T.Answer(), replies, groups.get("sample_and_judge", []), sj.n),
        (rank, judge, [{**r, "candidates": [r["chosen"]] * (sj.n + sj.include_original)}
                       for r in groups.get("sample_and_judge", [])], 1),
        (rank, judge, [{**r, "candidates": [r["chosen"]] * 2} for r in pairs] if p.judge.enabled else [], 1)]
    out = {"requests": 0, "prompt_tokens": 0, "completion_tokens_est": 0, "cost_usd_est": 0.0, "priced": True,
           "rows": len(pairs), "by_strategy": {k: len(v) for k, v in groups.items()}, "upper_bound": True}
    for task, llm, part, times in passes:
        if not part:
            continue
        est = estimate(part, llm, task)
        for k in ("requests", "prompt_tokens", "completion_tokens_est"):
            out[k] += est[k] * times
        out["cost_usd_est"] = round(out["cost_usd_est"] + est["cost_usd_est"] * times, 6)
        out["priced"] = out["priced"] and est["priced"]
    return out


def _pairs_split(ds: datasets.Dataset, items: list[Item]) -> datasets.Dataset:
    kept = [it for it in items if it.reason is None]
    out = ds.select([it.index for it in kept])
    metas = out["meta"] if kept else []
    out = out.remove_columns(["completion", "meta"])
    for name, values in (("completion", [it.chosen for it in kept]), ("rejected", [it.rejected for it in kept]),
                         ("status", [it.status for it in kept]),
                         ("meta", [item_meta(m, {"preference": it.info}) for m, it in zip(metas, kept)])):
        out = out.add_column(name, values, feature=datasets.Value("string"))
    return out


def _report(pcfg, every: list[Item], stats: RunLog, replies, weaker, judge, by) -> dict:
    kept = [it for it in every if it.reason is None]
    dropped = Counter(it.reason for it in every if it.reason is not None)
    ids: dict[str, list[str]] = {}
    for it in every:
        if it.reason is not None and len(ids.setdefault(it.reason, [])) < DROPPED_IDS:
            ids[it.reason].append(it.id)
    strategies = {}
    for name, group in by.items():
        made = [it for it in group if it.reason is None]
        strategies[name] = {"rows": len(group), "pairs": len(made),
                            "how": dict(Counter(str(it.info.get("how")) for it in made)),
                            "dropped": dict(Counter(it.reason for it in group if it.reason is not None))}
    models = {"contrastive": replies, "sample_and_judge": replies, "weaker_model": weaker}
    report = {
        "strategy": pcfg.strategy, "pairs_in": len(every), "pairs": len(kept), "dropped": dict(dropped),
        "status": dict(Counter(it.status for it in kept)), "strategies": strategies,
        "models": {name: models[name].model for name in by if name in models},
        "checks": {**pcfg.checks.model_dump(),
                   "language": ("on (wiki_qa.langid)" if C.language_check_available() else "skipped: language ID "
                                "needs pip install 'wiki_qa[translate]'") if pcfg.checks.language else "off"},
        "dropped_ids": ids, "llm": stats.to_json()}
    if "contrastive" in by:
        report["worse"] = pcfg.contrastive.worse_instruction()
    if pcfg.judge.enabled or "sample_and_judge" in by:
        report["judge"] = {"model": judge.model, "confirm": pcfg.judge.enabled, "on_swapped": pcfg.judge.on_swapped}
    return report
