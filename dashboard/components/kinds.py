"""The headline metric of a kind, for run tables and pickers.

Everything else a kind shows on the pages is its own ``dashboard/kinds/<kind>.py`` (``view_for``);
its model settings come from the Task (``model_settings``, ``model_name_help``).
"""

from __future__ import annotations


def headline_metric(kind: str) -> str:
    """Final metric shown first in tables and pickers (the task's own; test_loss for unknown kinds)."""
    from core.tasks import get_task, task_kinds

    return get_task(kind).headline_metric if kind in task_kinds() else "test_loss"


def best_baseline(kind: str, metrics: dict) -> tuple[str, str, float, float | None] | None:
    """(headline metric, best baseline's name, its value, the run's value) for the Runs
    comparison, from the task's recorded baselines; None when the kind records none."""
    from core.tasks import get_task, task_kinds

    if kind not in task_kinds():
        return None
    task = get_task(kind)
    best = task.best_baseline(metrics)
    if best is None:
        return None
    own = metrics.get(task.headline_metric)
    return task.headline_metric, best[0], best[1], float(own) if isinstance(own, (int, float)) else None
