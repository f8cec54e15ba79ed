from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import RunConfig
from core.errors import LoupeError
from core.store import RunStore
from core.tasks import get_task
from core.train import train

ROOT = Path(__file__).resolve().parents[2]
TASK = get_task("tabular")


def quick(cfg: RunConfig, **train_overrides: object) -> RunConfig:
    return cfg.replace(train={"epochs": 4, "batch_size": 64, **train_overrides})


def table(tmp_path: Path, frame: pd.DataFrame, name: str = "data.csv") -> str:
    path = tmp_path / name
    if name.endswith(".parquet"):
        frame.to_parquet(path)
    elif name.endswith(".jsonl"):
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_csv(path, index=False, sep="\t" if name.endswith(".tsv") else ",")
    return str(path)


def small_frame(rows: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    color = rng.choice(["red", "blue"], rows)
    return pd.DataFrame({"x": x, "color": color, "y": 3 * x + (color == "red") + rng.normal(0, 0.1, rows)})


@pytest.mark.parametrize("name", ["data.csv", "data.tsv", "data.parquet", "data.jsonl"])
def test_loads_every_table_format(tmp_path: Path, name: str) -> None:
    cfg = RunConfig(task="tabular").replace(data={"source": table(tmp_path, small_frame(), name),
                                                  "target": "y"})
    data = TASK.load_data(cfg)
    assert data.meta["feature_names"] == ["x", "color=blue", "color=red"]
    assert sum(data.meta["split_rows"].values()) == 120


def test_preprocessing_is_fitted_on_train_only(tmp_path: Path) -> None:
    frame = small_frame(200)
    cfg = RunConfig(task="tabular").replace(data={"source": table(tmp_path, frame), "target": "y"})
    data = TASK.load_data(cfg)
    train_rows = data.raw["train"]
    prep = data.meta["preprocessing"]
    assert prep["means"]["x"] == pytest.approx(train_rows["x"].mean())
    assert prep["means"]["x"] != pytest.approx(frame["x"].mean())


def test_end_to_end_train_store_and_baselines(store: RunStore) -> None:
    cfg = quick(TASK.default_config("diabetes"), epochs=3)
    result = train(cfg, store)
    run = store.get_run(result.run_id)
    assert run["status"] == "completed"
    for key in ("test_rmse", "test_mae", "test_r2", "val_rmse", "train_rmse",
                "test_rmse_linear", "test_rmse_mean"):
        assert key in run["metrics"]
    curves = store.curves(result.run_id)
    assert {"loss", "lr"} <= set(curves[curves.split == "train"]["name"])
    assert {"rmse", "r2"} <= set(curves[curves.split == "val"]["name"])
    report = json.loads((store.run_dir(result.run_id) / "report.json").read_text())
    preds = report["test_predictions"]
    assert len(preds["residual"]) == 66  # 15 % of diabetes' 442 rows
    np.testing.assert_allclose(np.subtract(preds["true"], preds["pred"]), preds["residual"])
    # the default model is auto (issue 16): the run's own model is the validation winner, the
    # other one is recorded beside the mean and ridge baselines
    own = report["model"]
    assert report["baselines"]["test"][own]["rmse"] == pytest.approx(run["metrics"]["test_rmse"])
    assert f"test_rmse_{'mlp' if own == 'trees' else 'trees'}" in run["metrics"]
    assert store.system(result.run_id)["samples_per_s"] > 0
    assert set(store.artifacts(result.run_id)["kind"]) == {"model", "report"}


def test_reload_in_fresh_process_predicts_identically(store: RunStore, tmp_path: Path) -> None:
    result = train(quick(TASK.default_config("house_prices"), epochs=2), store)
    frame = TASK.load_data(store.config(result.run_id)).raw["test"].head(25)
    inputs = table(tmp_path, frame.drop(columns=["price"]), "inputs.csv")
    from core.predict import load_predictor

    here = load_predictor(result.run_id, store).predict(frame)["prediction"].to_numpy()
    out = tmp_path / "pred.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "core.cli", "predict", result.run_id, "--data", inputs, "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, env={**_env(store)},
    )
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_allclose(pd.read_csv(out)["prediction"].to_numpy(), here, rtol=1e-5)


def _env(store: RunStore) -> dict[str, str]:
    import os

    return {**os.environ, "LOUPE_HOME": str(store.home), "PYTHONPATH": str(ROOT)}


def test_beats_linear_on_house_prices_and_r2_on_diabetes(store: RunStore) -> None:
    """The issue's bar, with the default settings (a shorter budget than the CLI default)."""
    house = train(TASK.default_config("house_prices").replace(train={"epochs": 60}), store).metrics
    assert house["test_rmse"] < house["test_rmse_linear"]
    diabetes = train(TASK.default_config("diabetes"), store).metrics
    assert diabetes["test_r2"] >= 0.40


def csv_text(tmp_path: Path, text: str | bytes, name: str = "bad.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


BAD_INPUTS = {
    "misspelt target": ("a,b,price\n" + "1,2,3\n" * 30, "prise", ["no column 'prise'", "price"]),
    "non-numeric target": ("a,b\n" + "1,x\n2,y\n" * 15, "b", ["not numeric"]),
    "empty file": ("", "y", ["empty"]),
    "header only": ("a,b,y\n", "y", ["no data rows"]),
    "all-missing target": ("a,y\n" + "1,\n" * 30, "y", ["no usable values"]),
    "too few rows": ("a,y\n" + "1,2\n" * 5, "y", ["at least 20"]),
    "ragged rows": ("a,y\n1,2\n3,4,5,6\n" + "1,2\n" * 30, "y", ["different numbers of fields",
                                                              "line 3"]),
    "duplicated columns": ("a,a,y\n" + "1,2,3\n" * 30, "y", ["'a' appears more than once"]),
    "latin-1 bytes": ("city,y\n" + "Zürich,1\n" * 30, "y", ["not valid UTF-8", "line 2",
                                                           "--encoding"]),
    "no features": ("y\n" + "1\n" * 30, "y", ["no usable feature"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_names_problem_and_leaves_store_empty(tmp_path: Path, store: RunStore, case: str) -> None:
    text, target, words = BAD_INPUTS[case]
    raw = text.encode("latin-1") if case == "latin-1 bytes" else text
    cfg = RunConfig(task="tabular").replace(data={"source": csv_text(tmp_path, raw), "target": target},
                                            train={"epochs": 1})
    with pytest.raises(LoupeError) as err:
        train(cfg, store)
    for word in words:
        assert word in str(err.value)
    assert "Fix:" in str(err.value)
    assert store.count_runs() == 0
    assert not (store.home / "runs").exists() or not any((store.home / "runs").iterdir())


def test_latin1_works_when_encoding_given(tmp_path: Path) -> None:
    path = csv_text(tmp_path, ("city,n,y\n" + "Zürich,1,1\nBern,2,2\n" * 15).encode("latin-1"))
    cfg = RunConfig(task="tabular").replace(data={"source": path, "target": "y", "encoding": "latin-1"})
    assert "city=Zürich" in TASK.load_data(cfg).meta["feature_names"]


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    path = csv_text(tmp_path, ("a,y\n" + "1,2\n3,5\n" * 15).encode("utf-16"))
    cfg = RunConfig(task="tabular").replace(data={"source": path, "target": "y"})
    assert TASK.load_data(cfg).meta["rows"] == 30


def test_nan_and_inf_targets_are_dropped_with_a_notice(tmp_path: Path) -> None:
    path = csv_text(tmp_path, "a,y\n" + "1,2\n" * 30 + "1,nan\n1,inf\n1,\n")
    cfg = RunConfig(task="tabular").replace(data={"source": path, "target": "y"})
    data = TASK.load_data(cfg)
    assert data.meta["rows"] == 30
    assert any("3 rows" in n for n in data.notices)


def test_failure_mid_training_marks_run_failed(store: RunStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("GPU fell off the bus")

    monkeypatch.setattr(TASK, "forward", explode)
    with pytest.raises(RuntimeError):
        train(quick(TASK.default_config("diabetes")), store)
    run = store.list_runs().iloc[0]
    assert run["status"] == "failed" and "GPU fell off the bus" in run["error"]


def test_cancel_and_resume_reach_the_same_state(store: RunStore) -> None:
    cfg = TASK.default_config("diabetes").replace(train={"epochs": 6, "patience": 0})
    full = train(cfg, store)
    calls = {"n": 0}

    def stop_in_epoch_four() -> bool:
        calls["n"] += 1
        return calls["n"] > 3 * 5 + 2  # 5 steps per epoch: stop inside epoch 4

    cancelled = train(cfg, store, should_stop=stop_in_epoch_four)
    assert cancelled.status == "cancelled" and store.get_run(cancelled.run_id)["status"] == "cancelled"
    from core.train import resume

    resumed = resume(cancelled.run_id, store)
    assert resumed.status == "completed"
    assert resumed.metrics["test_rmse"] == pytest.approx(full.metrics["test_rmse"], rel=1e-4)
