"""Registry of task kinds. Pages fill selectboxes from it; tests parametrize over it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from core.errors import LoupeError, suggest

if TYPE_CHECKING:
    from core.tasks.base import Predictor, PreparedData, Task

_BASE_NAMES = ("Predictor", "PreparedData", "Task")


def __getattr__(name: str) -> Any:
    """``Task``, ``Predictor`` and ``PreparedData`` on first use: importing ``core.tasks.base``
    loads torch, and the torch-free modules of this package (``<kind>_serving``: a deploy
    bundle's runtime) must import without it."""
    if name in _BASE_NAMES:
        from core.tasks import base

        return getattr(base, name)
    raise AttributeError(f"module 'core.tasks' has no attribute {name!r}")


_REGISTRY: dict[str, Task] = {}
# Modules that register a built-in kind on import, in the order pages list the kinds: a new
# built-in kind adds its module here (a plugin calls ``register`` instead).
_BUILTIN_MODULES = ("core.tasks.tabular", "core.tasks.text", "core.tasks.image")
_loaded = False
#: each built-in kind's samples (name -> one-line description) as "module:attribute", readable
#: without importing the kind's module (which loads torch), so `loupe samples` answers at once.
#: The kinds' ``Task.samples()`` read the same tables (tests/core/test_tasks_registry.py).
_BUILTIN_SAMPLES = {"tabular": "core.datasets.samples:tabular_descriptions",
                    "text": "core.datasets.samples:TEXT_SAMPLES",
                    "image": "core.datasets.image_samples:SAMPLES"}


def register(task: Task) -> Task:
    """Add a task kind to the registry (idempotent per kind)."""
    _REGISTRY[task.kind] = task
    return task


def _builtin_rank(kind: str) -> int | None:
    """Where a built-in kind is listed (its module's place in _BUILTIN_MODULES); None otherwise."""
    module = type(_REGISTRY[kind]).__module__
    return _BUILTIN_MODULES.index(module) if module in _BUILTIN_MODULES else None


def unregister(kind: str) -> None:
    """Remove a registered kind (a plugin or test that adds one for a while); built-ins stay."""
    if kind in _REGISTRY and _builtin_rank(kind) is None:
        _REGISTRY.pop(kind)


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
    builtin = sorted((k for k in _REGISTRY if _builtin_rank(k) is not None), key=_builtin_rank)
    return builtin + [k for k in _REGISTRY if _builtin_rank(k) is None]


def sample_listing() -> dict[str, dict[str, str]]:
    """kind -> {sample name: description}: the built-in kinds without importing them, then any
    kind a plugin registered."""
    listing = {}
    for kind, ref in _BUILTIN_SAMPLES.items():
        module, _, name = ref.partition(":")
        value = getattr(importlib.import_module(module), name)
        listing[kind] = dict(value() if callable(value) else value)
    listing.update({kind: task.samples() for kind, task in _REGISTRY.items()
                    if _builtin_rank(kind) is None})
    return listing


def all_tasks() -> list[Task]:
    return [_REGISTRY[k] for k in task_kinds()]


def get_task(kind: str) -> Task:
    _load_builtins()
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise LoupeError(f"Unknown task kind '{kind}'.", suggest(kind, _REGISTRY)) from None


__all__ = ["PreparedData", "Predictor", "Task", "all_tasks", "get_task", "register", "sample_listing",
           "task_kinds", "unregister"]
