"""Numeric columns whose values cannot be read as numbers ("abc"), at training and at prediction.

Documented outcome: never silent. Training names each such column with the number of values and
the first file lines, leaves out columns that hold one value everywhere, and counts unusable
columns in the report; prediction adds a ``warning`` column per affected row and a notice (the CLI
prints it, the Predict page shows it) saying the training median stood in for those values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from core.predict import load_predictor
from core.store import RunStore
from core.train import train
from tests.hostile.conftest import cli
from tests.markdown_text import shown


def _table(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sqft, rooms = rng.uniform(500, 3000, rows), rng.integers(1, 6, rows)
    return pd.DataFrame({"sqft": sqft.round(1), "rooms": rooms,
                         "price": (sqft * 100 + rooms * 5000 + rng.normal(0, 1000, rows)).round(0)})


def _config(path: Path) -> RunConfig:
    return RunConfig(task="tabular", data=DataConfig(source=str(path), target="price"),
                     model=ModelConfig(name="mlp", hidden_sizes=(16,)),
                     train=TrainConfig(epochs=2, batch_size=32, patience=0))


def test_training_names_unreadable_values_and_counts_unusable_columns(tmp_path: Path,
                                                                      store: RunStore) -> None:
    frame = _table().astype({"sqft": object})
    frame.loc[[3, 50], "sqft"] = "abc"  # 1 %: still a numeric column, two cells unreadable
    frame["floor"] = "abc"  # every value unreadable: one value everywhere
    frame["year"] = [str(1990 + i % 30) if i % 3 else "unknown" for i in range(len(frame))]
    path = tmp_path / "houses.csv"
    frame.to_csv(path, index=False)

    result = train(_config(path), store)
    notes = "\n".join(result.report["notices"])
    assert "Column 'sqft': 2 of 200 values are not numbers (e.g. file lines 5, 52)" in notes, notes
    assert "'floor' holds the same text in every row" in notes, notes
    assert "Column 'year': 67 of 200 values are not numbers" in notes, notes
    assert result.report["unusable_columns"] >= 1
    assert result.report["unreadable_values"] == {"sqft": 2}


def test_prediction_with_unreadable_numbers_warns_per_row_and_overall(tmp_path: Path,
                                                                      store: RunStore,
                                                                      loupe_home: Path) -> None:
    path = tmp_path / "houses.csv"
    _table().to_csv(path, index=False)
    run_id = train(_config(path), store).run_id
    inputs = _table(12, seed=1).drop(columns="price").astype({"sqft": object, "rooms": float})
    inputs["sqft"] = "abc"  # every value unreadable
    inputs.loc[4, "rooms"] = float("inf")

    result = load_predictor(run_id, store).predict(inputs)
    assert result["warning"].str.contains("'sqft' is not a number").all()
    assert "'rooms'" in result["warning"][4] and "'rooms'" not in result["warning"][0]
    notes = result.attrs["notices"]
    assert any("Column 'sqft': none of its 12 values is a number" in n
               and "training median" in n for n in notes), notes
    assert any("Column 'rooms': 1 of 12 values are not numbers (e.g. rows 5)" in n
               for n in notes), notes

    bad = tmp_path / "inputs.csv"
    inputs.to_csv(bad, index=False)
    proc = cli(loupe_home, "predict", run_id, "--data", str(bad))
    assert proc.returncode == 0, proc.stderr
    assert "note: Column 'sqft'" in proc.stderr and "warning" in proc.stdout, proc.stderr

    clean = load_predictor(run_id, store).predict(_table(12, seed=1).drop(columns="price"))
    assert "warning" not in clean.columns and not clean.attrs.get("notices")


def test_predict_page_shows_the_notice_and_the_warning_column(store: RunStore) -> None:
    from core.datasets.samples import load_tabular_sample
    from core.tasks import get_task
    from tests.hostile.conftest import open_dashboard_page

    cfg = get_task("tabular").default_config("diabetes").replace(train={"epochs": 1, "patience": 0})
    train(cfg, store)
    frame = load_tabular_sample("sample:diabetes")[0].head(10).drop(columns="progression")
    frame["bmi"] = "abc"
    at = open_dashboard_page("predict")
    at.file_uploader(key="predict_file_tabular").set_value(
        ("batch.csv", frame.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception, at.exception
    assert any("Column 'bmi': none of its 10 values is a number" in shown(w.value) for w in at.warning), \
        [w.value for w in at.warning]
    assert "warning" in at.dataframe[0].value.columns
