"""Registry of task kinds. Pages fill selectboxes from it; tests parametrize over it."""

from __future__ import annotations

import importlib

from core.errors import LoupeError, suggest
from core.tasks.base import Predictor, PreparedData, Task

_REGISTRY: dict[str, Task] = {}
# Modules that register a kind on import. A kind whose module is missing is simply absent.
_BUILTIN_MODULES = ("core.tasks.tabular", "core.tasks.text", "core.tasks.image")
_loaded = False


def register(task: Task) -> Task:
    """Add a task kind to the registry (idempotent per kind)."""
    _REGISTRY[task.kind] = task
    return task


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in _BUILTIN_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def task_kinds() -> list[str]:
    _load_builtins()
    return list(_REGISTRY)


def all_tasks() -> list[Task]:
    _load_builtins()
    return list(_REGISTRY.values())


def get_task(kind: str) -> Task:
    _load_builtins()
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise LoupeError(f"Unknown task kind '{kind}'.", suggest(kind, _REGISTRY)) from None


__all__ = ["PreparedData", "Predictor", "Task", "all_tasks", "get_task", "register", "task_kinds"]
