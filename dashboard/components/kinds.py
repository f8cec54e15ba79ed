"""The headline metric of a kind, for run tables and pickers.

Everything else a kind shows on the pages is its own ``dashboard/kinds/<kind>.py`` (``view_for``);
its model settings come from the Task (``model_settings``, ``model_name_help``).
"""

from __future__ import annotations


def headline_metric(kind: str) -> str:
    """Final metric shown first in tables and pickers (the task's own; test_loss for unknown kinds)."""
    from core.tasks import get_task, task_kinds

    return get_task(kind).headline_metric if kind in task_kinds() else "test_loss"
