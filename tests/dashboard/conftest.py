"""Fixtures for the page tests: an AppTest factory, a seeded run history, one tiny trained run."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def open_page(page: str = "home", session: dict | None = None, timeout: float = 120) -> AppTest:
    """Run the app, switch to ``page`` (a file under dashboard/views) and run it."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (session or {}).items():
        at.session_state[key] = value
    at.run()
    if page != "home":
        at.switch_page(f"views/{page}.py").run()
    return at


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def seed_runs(store, n: int = 6, points: int = 40) -> list[str]:
    """``n`` finished runs with curves, metrics and a report each (no model artifacts)."""
    from core.config import RunConfig

    ids, frames = [], []
    rng = np.random.default_rng(0)
    steps = np.arange(1, points + 1)
    val = steps[::10]
    now = datetime.now()
    for i in range(n):
        kind = ("tabular", "text", "image")[i % 3]
        cfg = RunConfig.from_dict({"task": kind, "name": f"seed-{i}", "tags": ["seed"] if i % 2 else [],
                                   "train": {"lr": 1e-3 * (i + 1), "batch_size": 16 * (1 + i % 2)}})
        run_id = store.create_run(cfg)
        frames.append(pd.DataFrame({
            "run_id": run_id, "step": np.concatenate([steps, val]),
            "epoch": np.concatenate([steps, val]) / 10,
            "split": ["train"] * points + ["val"] * len(val), "name": "loss",
            "value": np.concatenate([1 / steps + rng.random(points) * 0.05, 1 / val]),
            "time": [now + timedelta(seconds=int(s)) for s in np.concatenate([steps, val])]}))
        metrics = {"test_loss": 0.1 * (i + 1), "test_rmse": 10.0 + i, "test_macro_f1": 0.5 + i / 20,
                   "val_loss": 0.2}
        store.finish_run(run_id, metrics)
        report = ({"test_predictions": {"true": [1.0, 2.0, 3.0], "pred": [1.1, 1.8, 3.3],
                                        "residual": [-0.1, 0.2, -0.3]}} if kind == "tabular" else
                  {"confusion_matrix": {"labels": ["a", "b"], "matrix": [[5, 1], [2, 7]], "split": "test"}})
        (store.run_dir(run_id) / "report.json").write_text(json.dumps(report))
        ids.append(run_id)
    if points:
        store.append_metrics(pd.concat(frames, ignore_index=True))
    return ids


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LOUPE_HOME with one tiny finished tabular run (diabetes, a few steps), trained once."""
    import os

    home = tmp_path_factory.mktemp("trained") / "home"
    old = os.environ.get("LOUPE_HOME")
    os.environ["LOUPE_HOME"] = str(home)
    try:
        from core.store import RunStore
        from core.tasks import get_task
        from core.train import train

        cfg = get_task("tabular").default_config("diabetes").replace(
            name="tiny-diabetes", train={"epochs": 2, "patience": 0})
        train(cfg, RunStore())
    finally:
        if old is None:
            os.environ.pop("LOUPE_HOME", None)
        else:
            os.environ["LOUPE_HOME"] = old
    return home


@pytest.fixture
def trained(trained_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point LOUPE_HOME at the trained home; returns the run id."""
    from core.store import RunStore

    monkeypatch.setenv("LOUPE_HOME", str(trained_home))
    return RunStore().list_runs(limit=1)["id"].iloc[0]
