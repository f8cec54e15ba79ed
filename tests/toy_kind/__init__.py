"""A tiny test-only task kind ("toy"), written the way docs/architecture.md tells a newcomer to add
one: a task module (``task.py``) and an explainer module (``explainer.py``), registered with
``core.tasks.register`` and touching nothing else in the project. ``tests/core/test_toy_kind.py``
trains, predicts, explains and exports it through the CLI.
"""
