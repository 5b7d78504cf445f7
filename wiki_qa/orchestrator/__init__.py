"""The orchestration room: a build as an explicit list of steps, run by an executor, saved atomically.

    plan.py      the steps a config asks for, each DatasetDict -> (DatasetDict, report section)
    steps.py     those steps: dedup, generate, decontaminate, format
    run.py       dataset_dict() (both entry points) and run() (`wiki-qa build`: atomic save, card, publish)
    report.py    build_report.json: the config echo, source counts, splits, timings
    estimate.py  `--dry-run`: the free stages plus the LLM cost estimate

May import every lower room (config, pipeline, builders, llm, quality, publish, viz, executor); only the
CLI, the `datasets` loader (wiki_qa.hf) and the package API import it.
"""
from wiki_qa.orchestrator.run import dataset_dict, run

__all__ = ["dataset_dict", "dry_run", "run"]


def dry_run(cfg, num_proc: int | None = None) -> dict:
    """estimate.dry_run, imported on use: the LLM cost estimator is not part of a build."""
    from wiki_qa.orchestrator.estimate import dry_run as estimate

    return estimate(cfg, num_proc=num_proc)
