"""A tiny test-only task kind ("toy"), written the way docs/architecture.md tells a newcomer to add
one: a task module (``task.py``), an explainer module (``explainer.py``) and a dashboard module
(``dashboard.py``), registered with ``core.tasks.register`` and ``dashboard.kinds.register_view``,
touching nothing else in the project. ``tests/core/test_toy_kind.py`` trains, predicts, explains and
exports it through the CLI; ``tests/dashboard/test_toy_kind_pages.py`` does the same on the pages.
"""
