"""Preference data (DPO, ORPO, KTO): the `preference:` section, the pair checks and the `corrupt` strategy.

The deterministic parts live here; the LLM strategies' tasks are in wiki_qa/llm/tasks/preference.py, and
the build step that runs them (rounds of requests, the judge, the report) in orchestrator/preference.py.
May import leaf modules, wiki_qa.quality (text normalization) and wiki_qa.llm (the tasks' Configs).
"""
from wiki_qa.preference.checks import check_pair, check_side
from wiki_qa.preference.config import PreferenceConfig

__all__ = ["PreferenceConfig", "check_pair", "check_side"]
