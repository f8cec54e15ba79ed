"""The runs and deploy bundles the deploy tests share (``tests/core/conftest.py`` makes them
session fixtures: each kind is trained, and each bundle built, once for all deploy modules)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.store import RunStore
from tests.core.test_explain_fixtures import (
    categorical_tabular_run,
    image_run,
    text_run,
    tiny_text_model,
    tree_tabular_run,
)


class _Runs(dict):
    """kind -> run id, each trained on first use into the module's store (a test, or a ``-k``
    selection, of one kind trains only what it needs), with LOUPE_HOME set to that store's."""

    def __init__(self, store: RunStore, home: Path) -> None:
        super().__init__()
        self.store, self.home = store, home
        self.builders = {"text": lambda s: text_run(s, tiny_text_model(home / "tiny-bert")),
                         "image": image_run, "tabular": categorical_tabular_run, "trees": tree_tabular_run}

    def __missing__(self, kind: str) -> str:
        old = os.environ.get("LOUPE_HOME")
        os.environ["LOUPE_HOME"] = str(self.home)
        try:
            self[kind] = self.builders[kind](self.store)
        finally:
            os.environ.pop("LOUPE_HOME") if old is None else os.environ.__setitem__("LOUPE_HOME", old)
        return self[kind]


def deploy_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunStore, dict[str, str]]:
    home = tmp_path_factory.mktemp("deploy_home")
    return RunStore(home / "loupe.duckdb"), _Runs(RunStore(home / "loupe.duckdb"), home)


def deploy_bundles(runs, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN001, ANN201
    """kind -> (folder, DeployBuild): one deploy bundle per kind (int8; trees: fp32, they have no
    int8 form), built on first use and shared: its comparison rows are the round-trip check."""
    store, ids = runs
    root, made = tmp_path_factory.mktemp("bundles"), {}

    def get(kind: str):  # noqa: ANN202
        from core.deploy.bundle import export_deploy

        if kind not in made:
            fmt = "onnx" if kind == "trees" else "onnx-int8"
            made[kind] = export_deploy(ids[kind], root / kind, fmt, store, max_rows=80, repeats=1)
        return made[kind]

    return get
