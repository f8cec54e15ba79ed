"""Registry of task kinds. Pages fill selectboxes from it; tests parametrize over it."""

from __future__ import annotations

import importlib

from core.errors import LoupeError, suggest
from core.tasks.base import Predictor, PreparedData, Task

_REGISTRY: dict[str, Task] = {}
# Modules that register a kind on import, in the order pages list the kinds.
_BUILTIN_MODULES = ("core.tasks.tabular", "core.tasks.text", "core.tasks.image")
_BUILTIN_ORDER = ("tabular", "text", "image")
_loaded = False


def register(task: Task) -> Task:
    """Add a task kind to the registry (idempotent per kind)."""
    _REGISTRY[task.kind] = task
    return task


def unregister(kind: str) -> None:
    """Remove a registered kind (a plugin or test that adds one for a while); built-ins stay."""
    if kind not in _BUILTIN_ORDER:
        _REGISTRY.pop(kind, None)


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in _BUILTIN_MODULES:
        importlib.import_module(name)


def task_kinds() -> list[str]:
    """Built-in kinds first in a fixed order (not the order their modules happened to be
    imported), then any registered by plugins."""
    _load_builtins()
    builtin = [k for k in _BUILTIN_ORDER if k in _REGISTRY]
    return builtin + [k for k in _REGISTRY if k not in _BUILTIN_ORDER]


def all_tasks() -> list[Task]:
    return [_REGISTRY[k] for k in task_kinds()]


def get_task(kind: str) -> Task:
    _load_builtins()
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise LoupeError(f"Unknown task kind '{kind}'.", suggest(kind, _REGISTRY)) from None


__all__ = ["PreparedData", "Predictor", "Task", "all_tasks", "get_task", "register", "task_kinds",
           "unregister"]
