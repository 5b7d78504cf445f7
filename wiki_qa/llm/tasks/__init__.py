"""Generation tasks: small classes with their own Config, registered with `@register` (see base.py)."""
from __future__ import annotations

from wiki_qa.llm.tasks import custom, mcq, multihop, paraphrase, qa, translate  # noqa: F401  (registration)
from wiki_qa.llm.tasks.base import TASKS, Task, TaskConfig, ValidateConfig, register

__all__ = ["TASKS", "Task", "TaskConfig", "ValidateConfig", "get", "register"]


def get(name: str) -> type[Task]:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; tasks: {', '.join(TASKS)}")
    return TASKS[name]
