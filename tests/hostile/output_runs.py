"""Two tiny real runs whose user-typed fields are hostile, shared by the output-boundary tests.

A text classifier whose class labels, run name, notes and tags are Markdown/HTML injections and a
spreadsheet formula, and a tabular regressor whose category cells are formulas. Trained once per
test session (module-level cache) in their own LOUPE_HOME; tests point LOUPE_HOME at it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

IMG_MD = "![l](//localhost:8999/label.png)"
IMG_HTML = "<img src=x onerror=alert(1)>"
FORMULA = "=cmd|' /C calc'!A0"
LABELS = (IMG_MD, IMG_HTML, FORMULA)
NAME = "![n](//localhost:8999/name.png) <img src=x onerror=alert(2)> [a](javascript:alert(6))"
NOTES = "[click](javascript:alert(3)) ![x](//localhost:8999/notes.png) <script>alert(4)</script>"
TAG = "<svg onload=alert(5)>"
FORMULA_CELLS = ("+1+1", "@SUM(1,1)", "-2+3", "=HYPERLINK(\"http://x.test\",\"x\")", "\tTAB", "\rCR")

_CACHE: dict[str, tuple[Path, str]] = {}


def _with_home(home: Path, fn):  # noqa: ANN001, ANN202
    old = os.environ.get("LOUPE_HOME")
    os.environ["LOUPE_HOME"] = str(home)
    try:
        return fn()
    finally:
        if old is None:
            os.environ.pop("LOUPE_HOME", None)
        else:
            os.environ["LOUPE_HOME"] = old


def hostile_text_run() -> tuple[Path, str]:
    """(LOUPE_HOME, run id) of a 2-step text classifier with hostile labels, name, notes, tags."""
    if "text" not in _CACHE:
        from core.store import RunStore
        from core.tasks import get_task
        from core.train import train

        home = Path(tempfile.mkdtemp(prefix="loupe_hostile_text_"))
        words = ["great battery", "broken screen", "fast delivery", "poor fit", "lovely colour"]
        frame = pd.DataFrame({"review": [f"{words[i % 5]} number {i}" for i in range(90)],
                              "label": [LABELS[i % 3] for i in range(90)]})
        frame.to_csv(home / "reviews.csv", index=False)
        cfg = get_task("text").default_config("reviews").replace(
            name=NAME, tags=[TAG, "plain"],
            data={"source": str(home / "reviews.csv"), "text_column": "review", "label_column": "label",
                  "max_rows": None},
            model={"max_length": 16},
            train={"batch_size": 16, "max_steps": 2, "epochs": 1, "device": "cpu"})

        def run() -> str:
            store = RunStore(home / "loupe.duckdb")
            run_id = train(cfg, store).run_id
            store.set_notes(run_id, NOTES)
            return run_id

        _CACHE["text"] = (home, _with_home(home, run))
    return _CACHE["text"]


def hostile_tabular_run() -> tuple[Path, str]:
    """(LOUPE_HOME, run id) of a tiny regressor whose category cells are spreadsheet formulas."""
    if "tabular" not in _CACHE:
        from core.store import RunStore
        from core.tasks import get_task
        from core.train import train

        home = Path(tempfile.mkdtemp(prefix="loupe_hostile_tab_"))
        n = 120
        frame = pd.DataFrame({"size": [float(20 + i % 37) for i in range(n)],
                              "kind": [FORMULA_CELLS[i % len(FORMULA_CELLS)] for i in range(n)],
                              "price": [float(3 * (20 + i % 37) + (i % 6)) for i in range(n)]})
        frame.to_csv(home / "table.csv", index=False)
        frame.drop(columns=["price"]).head(12).to_csv(home / "new_rows.csv", index=False)
        cfg = get_task("tabular").default_config("house_prices").replace(
            name="formulas", data={"source": str(home / "table.csv"), "target": "price"},
            train={"epochs": 2, "max_steps": 10, "device": "cpu"})
        _CACHE["tabular"] = (home, _with_home(home, lambda: train(cfg, RunStore(home / "loupe.duckdb"))
                                              .run_id))
    return _CACHE["tabular"]
