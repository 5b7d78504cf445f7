"""The steps of a build after the stages. Each is small: whether it applies to a config, and what it does.

A step returns the new DatasetDict and the name and content of its build_report.json section (or None).
"""
from __future__ import annotations

import datasets

from wiki_qa.errors import UserError
from wiki_qa.llm.config import LLMConfig, resolve
from wiki_qa.llm.stats import LLMStats
from wiki_qa.llm.tasks.judge import LLM_DEFAULTS as JUDGE_DEFAULTS
from wiki_qa.llm.tasks.judge import Judge as JudgeTask
from wiki_qa.llm.tasks.question import QuestionConfig
from wiki_qa.llm.tasks.roundtrip import RoundTrip as RoundTripTask
from wiki_qa.llm.tasks.roundtrip import RoundTripConfig
from wiki_qa.orchestrator import judging, pairs
from wiki_qa.orchestrator.items import item_stats
from wiki_qa.pipeline import formats
from wiki_qa.quality.config import DedupConfig
from wiki_qa.rows import SPLITS

# Imported by the steps that use them (`wiki-qa build` imports only what its config needs): dedup and
# decontaminate bring datasketch and scipy, about a second; the judge task its prompts.


class Step:
    name = "step"   # its key in timings_s
    section = None  # its key in build_report.json (default: name)

    def applies(self, cfg) -> bool:
        return True

    def check(self, cfg) -> None:
        """Raise UserError for a config this step cannot run (called when the plan is made)."""

    def __call__(self, dsd: datasets.DatasetDict, ctx) -> tuple[datasets.DatasetDict, dict | None]:
        raise NotImplementedError


def _is_chunks(dsd) -> bool:
    return "text" in dsd[SPLITS[0]].column_names


class Dedup(Step):
    """Exact and MinHash near-duplicates across splits: on the chunks, or on the generated prompts."""

    def __init__(self, after_generate: bool = False):
        self.after_generate = after_generate
        self.name = "dedup_generated" if after_generate else "dedup"

    def applies(self, cfg) -> bool:
        return cfg.dedup.enabled and (not self.after_generate or cfg.generate is not None)

    def __call__(self, dsd, ctx):
        if self.after_generate and _is_chunks(dsd):
            return dsd, None  # the source gave examples: nothing was generated
        from wiki_qa.quality import dedup

        return dedup(dsd, ctx.cfg.dedup, column="text" if _is_chunks(dsd) else "prompt")


class Generate(Step):
    """The LLM map step, on chunk rows only (example sources are examples already)."""

    name, section = "generate", "llm"

    def applies(self, cfg) -> bool:
        return cfg.generate is not None

    def __call__(self, dsd, ctx):
        stats = LLMStats()
        task, llm = resolve(ctx.cfg.generate, ctx.cfg.llm)
        mapped = task.map_splits(dsd, lambda d: ctx.executor.generate(
            d, task, llm, num_proc=ctx.num_proc, refresh=ctx.refresh, stats=stats), llm.model)
        if mapped is not None:  # translate: any rows, example rows included
            return mapped[0], {**stats.to_json(), task.name: mapped[1]}
        if not _is_chunks(dsd):
            return dsd, None
        task.hidden = True   # `_question` for the question dedup and the judge; the format step drops it
        ctx.chunks, ctx.generation = dsd, stats  # what the judge and the item stats read the passages from
        dsd = ctx.executor.generate(dsd, task, llm, num_proc=ctx.num_proc, refresh=ctx.refresh, stats=stats)
        return dsd, stats.to_json()


def _question_task(cfg) -> bool:
    return isinstance(cfg.generate, QuestionConfig)


class PairChunks(Step):
    """qa_multihop: chunk rows cut again so that linked pages share a split, then -> pairs of chunks whose
    pages are joined by a wikilink (pairs.py)."""

    name = "pairs"

    def applies(self, cfg) -> bool:
        return cfg.generate is not None and cfg.generate.task == "qa_multihop"

    def check(self, cfg) -> None:
        if cfg.source.type != "mediawiki":
            raise UserError(f"{cfg.config_path()}: generate.task qa_multihop pairs pages joined by wikilinks, so "
                            f"it needs a mediawiki source (source.type is {cfg.source.type})")

    def __call__(self, dsd, ctx):
        g, out, report = ctx.cfg.generate, {}, {"max_pairs_per_page": ctx.cfg.generate.max_pairs_per_page,
                                                "seed": ctx.cfg.generate.seed, "by_split": {}}
        dsd, report["split"] = pairs.resplit(dsd, ctx.cfg.split)
        for s in SPLITS:
            chosen, counts = pairs.plan_pairs(dsd[s], g.max_pairs_per_page, g.seed)
            out[s] = pairs.pair_dataset(dsd[s], chosen)
            report["by_split"][s] = counts
        report["pairs"] = sum(v["pairs"] for v in report["by_split"].values())
        # the achieved shares next to the configured ones: what users of val and test need to know
        report["split"]["pair_shares"] = pairs.shares({s: v["pairs"] for s, v in report["by_split"].items()})
        return datasets.DatasetDict(out), report


class DedupQuestions(Step):
    """Near-duplicate questions across the whole build (every split, every chunk): MinHash over the bare
    question text (character 5-grams: questions are short), keeping the first copy in train, val, test
    order."""

    name = "dedup_questions"

    def applies(self, cfg) -> bool:
        return _question_task(cfg) and cfg.generate.dedup_questions is not None

    def __call__(self, dsd, ctx):
        if "_question" not in dsd[SPLITS[0]].column_names:
            return dsd, None
        d = ctx.cfg.dedup
        from wiki_qa.quality import dedup

        cfg = DedupConfig(enabled=True, threshold=ctx.cfg.generate.dedup_questions, shingle="chars",
                          shingle_size=5, num_perm=d.num_perm, seed=d.seed, keep_order=d.keep_order,
                          max_examples=d.max_examples)
        return dedup(dsd, cfg, column="_question")


def _second_pass_llm(cfg, overrides: dict, where: str) -> LLMConfig:
    """The `llm:` of a pass over the generated items (judge, round trip): the build's, then the pass's
    defaults (deterministic, short replies), then its own overrides."""
    base = (cfg.llm or LLMConfig()).model_dump()
    try:
        return LLMConfig.model_validate({**base, **JUDGE_DEFAULTS, **overrides})
    except ValueError as e:
        raise UserError(f"{cfg.config_path()}: {where}: {e}") from None


def _vs_generation(stats: LLMStats, gen: LLMStats | None) -> dict | None:
    """What a second pass costs against the generation, per kept item: both passes serve the same items,
    so the ratio of their totals."""
    if gen is None or not gen.prompt_tokens + gen.completion_tokens or not stats.prompt_tokens:
        return None
    return {"tokens": round((stats.prompt_tokens + stats.completion_tokens)
                            / (gen.prompt_tokens + gen.completion_tokens), 3),
            "completion_tokens": round(stats.completion_tokens / max(1, gen.completion_tokens), 3),
            "cost": round(stats.cost_usd / gen.cost_usd, 3) if gen.cost_usd else None}


def _second_pass(dsd, ctx, task, llm) -> tuple[datasets.DatasetDict, LLMStats]:
    """The chunk's items, one request per chunk, through the engine: the example rows again, annotated."""
    rows = datasets.DatasetDict({s: judging.judge_rows(dsd[s], ctx.chunks[s]) for s in SPLITS})
    stats = LLMStats()
    out = ctx.executor.generate(rows, task, llm, num_proc=ctx.num_proc, refresh=ctx.refresh, stats=stats)
    return out, stats


class RoundTrip(Step):
    """validate.roundtrip: each question answered again from its passage (llm/tasks/roundtrip.py); items
    whose two answers disagree are dropped (roundtrip_mismatch)."""

    name = "roundtrip"

    def applies(self, cfg) -> bool:
        return _question_task(cfg) and cfg.generate.validate_.roundtrip

    def check(self, cfg) -> None:
        self.llm(cfg)

    def llm(self, cfg) -> LLMConfig:
        return _second_pass_llm(cfg, cfg.generate.validate_.roundtrip_llm, "generate.validate.roundtrip_llm")

    def __call__(self, dsd, ctx):
        if _is_chunks(dsd) or ctx.chunks is None:
            return dsd, None
        v, llm = ctx.cfg.generate.validate_, self.llm(ctx.cfg)
        rcfg = RoundTripConfig(min_f1=v.roundtrip_min_f1, choices=v.roundtrip_choices)
        task = RoundTripTask(rcfg, dsd[SPLITS[0]].features, llm.model)
        answered, stats = _second_pass(dsd, ctx, task, llm)
        out, report = judging.roundtrip_threshold(answered, v.roundtrip_min_f1)
        return out, {"model": llm.model, **report, "llm": stats.to_json(),
                     "vs_generation": _vs_generation(stats, ctx.generation)}


class Judge(Step):
    """A second LLM pass scoring each item against its chunk (llm/tasks/judge.py); items under
    judge.min_score are dropped (judge_low)."""

    name = "judge"

    def applies(self, cfg) -> bool:
        return cfg.generate is not None and cfg.judge is not None and cfg.judge.enabled

    def check(self, cfg) -> None:
        self.llm(cfg)  # a typo in judge.llm must fail before generation is paid for

    def llm(self, cfg) -> LLMConfig:
        return _second_pass_llm(cfg, cfg.judge.llm, "judge.llm")

    def __call__(self, dsd, ctx):
        if _is_chunks(dsd) or ctx.chunks is None:
            return dsd, None  # the source gave examples: nothing was generated to judge
        jcfg, llm = ctx.cfg.judge, self.llm(ctx.cfg)
        task = JudgeTask(jcfg, dsd[SPLITS[0]].features, llm.model)
        judged, stats = _second_pass(dsd, ctx, task, llm)
        scores, reasons = [], []
        for s in SPLITS:
            x, r = judging.verdicts(judged[s])
            scores += x
            reasons += r
        out, report = judging.threshold(judged, jcfg.min_score, jcfg.keep_unjudged)
        report = {"model": llm.model, **report, "signal": judging.signal(scores, reasons, task.template("judge")),
                  "llm": stats.to_json()}
        vs = _vs_generation(stats, ctx.generation)
        if vs:
            report["vs_generation"] = vs
        return out, report


class ItemStats(Step):
    """The kept question items: achieved question mix and difficulty, evidence spans that round-trip."""

    name, section = "item_stats", "items"

    def applies(self, cfg) -> bool:
        return _question_task(cfg)

    def __call__(self, dsd, ctx):
        if ctx.chunks is None or _is_chunks(dsd):
            return dsd, None
        g = ctx.cfg.generate
        return dsd, item_stats(dsd, ctx.chunks, g.question_types, g.difficulty)


class Preference(Step):
    """prompt/completion rows -> pairs with a rejected side made by a declared strategy, each pair checked
    (orchestrator/preference.py)."""

    name = "preference"

    def applies(self, cfg) -> bool:
        return cfg.preference is not None

    def check(self, cfg) -> None:
        if cfg.format.type not in formats.PAIRED:
            raise UserError(f"{cfg.config_path()}: preference: gives pairs; set format: preference (or kto), "
                            f"not {cfg.format.type}")
        try:
            from wiki_qa.orchestrator import preference

            preference.llm_settings(cfg)  # a typo in preference.*.llm must fail before anything is paid for
        except ValueError as e:
            raise UserError(f"{cfg.config_path()}: {e}") from None

    def __call__(self, dsd, ctx):
        if _is_chunks(dsd):
            raise UserError(f"{ctx.cfg.config_path()}: preference: needs prompt/completion rows: add a generate: "
                            "step, or read an instruction set (source.type: open_instruct)")
        from wiki_qa.orchestrator import preference

        return preference.make_pairs(dsd, ctx)


class Decontaminate(Step):
    name = "decontaminate"

    def applies(self, cfg) -> bool:
        return cfg.decontaminate.enabled and bool(cfg.decontaminate.evals)

    def __call__(self, dsd, ctx):
        from wiki_qa.quality import decontaminate
        from wiki_qa.quality.contamination import DEFAULT_COLUMNS

        # a preference pair's rejected side is trained on too (it is pushed away from, but it is read)
        return decontaminate(dsd, ctx.cfg.decontaminate, columns=(*DEFAULT_COLUMNS, "rejected"))


class Format(Step):
    """completion | text | messages | preference | kto, with the fixed metadata columns."""

    name = "format"

    def check(self, cfg) -> None:
        if cfg.format.type in formats.PAIRED and cfg.preference is None:
            raise UserError(f"{cfg.config_path()}: format: {cfg.format.type} needs a preference: section "
                            "(how the rejected side is made)")

    def __call__(self, dsd, ctx):
        # on the executor's workers: the driver of a Ray build never reads every row
        try:
            out = ctx.executor.format_rows(dsd, ctx.cfg.format, num_proc=ctx.num_proc)
        except ValueError as e:
            raise UserError(f"{ctx.cfg.config_path()}: {e}") from None
        return out, None
