"""The dashboard's side of the task-kind registry: ``view_for(kind)`` -> ``KindView``.

A kind's view is ``VIEW`` in ``dashboard/kinds/<kind>.py`` (imported on first use), or one given to
``register_view``; any other kind gets ``FALLBACK``. What a view holds: ``dashboard.kinds.base``.
"""

from __future__ import annotations

import importlib
import importlib.util

from dashboard.kinds.base import ALL_UPLOAD_TYPES, AUTO, FALLBACK, TABLE_TYPES, ColumnRole, KindView

_VIEWS: dict[str, KindView] = {}
_NOT_KINDS = {"base"}  # modules of this package that are not a kind's view


def register_view(kind: str, view: KindView) -> KindView:
    """Use ``view`` for ``kind`` (replaces a module's view; for plugins and tests)."""
    if not isinstance(view, KindView):
        raise TypeError(f"The dashboard view for '{kind}' must be a KindView, not {type(view).__name__}.")
    _VIEWS[kind] = view
    return view


def unregister_view(kind: str) -> None:
    """Forget ``kind``'s view (a module's view is imported again on the next ``view_for``)."""
    _VIEWS.pop(kind, None)


def _module_view(kind: str) -> KindView | None:
    if not kind.isidentifier() or kind in _NOT_KINDS:
        return None
    name = f"{__name__}.{kind}"
    if importlib.util.find_spec(name) is None:
        return None
    view = getattr(importlib.import_module(name), "VIEW", None)
    if not isinstance(view, KindView):
        raise TypeError(f"{name} must define VIEW = KindView(...) (see dashboard/kinds/base.py).")
    return view


def view_for(kind: str) -> KindView:
    """The view of ``kind``: registered, else its module's ``VIEW``, else ``FALLBACK``."""
    if kind not in _VIEWS:
        view = _module_view(kind)
        if view is None:
            return FALLBACK
        _VIEWS[kind] = view
    return _VIEWS[kind]


def has_view(kind: str) -> bool:
    """Whether ``kind`` has its own view (False: it is shown with the fallback)."""
    return view_for(kind) is not FALLBACK


__all__ = ["ALL_UPLOAD_TYPES", "AUTO", "FALLBACK", "TABLE_TYPES", "ColumnRole", "KindView", "has_view",
           "register_view", "unregister_view", "view_for"]
