"""Gradient-boosted trees for tables: train/predict/export/reload, exact TreeSHAP, baselines,
the log-scale target and the auto choice (issue 16). Small frames: each fit takes well under a
second; the auto run trains its network for two epochs only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import RunConfig
from core.errors import LoupeError
from core.export.bundle import export_model_dir, is_pickle
from core.predict import load_predictor
from core.store import RunStore
from core.tasks import get_task
from core.train import train

TASK = get_task("tabular")


def frame_with_gaps(rows: int = 300, seed: int = 0, skewed: bool = False) -> pd.DataFrame:
    """Numbers with missing cells, a categorical column with missing cells, a step-shaped target."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    z = rng.uniform(0, 10, rows)
    color = rng.choice(["red", "blue", "green"], rows).astype(object)
    y = 4 * (x > 0) + 0.5 * z + np.select([color == "red", color == "blue"], [3.0, -2.0], 0.0)
    if skewed:  # a positive, right-skewed target whose effects multiply: the log scale fits it
        y = np.exp(0.8 * x + 0.15 * z + (color == "red") + rng.normal(0, 0.1, rows))
    else:
        y = y + rng.normal(0, 0.2, rows)
    x[rng.choice(rows, 20, replace=False)] = np.nan
    color[rng.choice(rows, 15, replace=False)] = None
    return pd.DataFrame({"x": x, "z": z, "color": color, "y": y})


def config(tmp_path: Path, frame: pd.DataFrame, model: str, name: str = "data.csv") -> RunConfig:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return RunConfig(task="tabular").replace(
        data={"source": str(path), "target": "y"}, model={"name": model, "hidden_sizes": (16,)},
        train={"epochs": 2, "batch_size": 64})


@pytest.fixture(scope="module")
def tree_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One trees run shared by the tests below (its own LOUPE_HOME)."""
    home = tmp_path_factory.mktemp("trees_home")
    mp = pytest.MonkeyPatch()
    mp.setenv("LOUPE_HOME", str(home))
    store = RunStore()
    cfg = config(home, frame_with_gaps(), "trees")
    result = train(cfg, store)
    yield {"store": store, "result": result, "home": home, "cfg": cfg}
    mp.undo()


def test_trees_train_predict_export_reload_equal(tree_run: dict, tmp_path: Path) -> None:
    store, result = tree_run["store"], tree_run["result"]
    assert result.status == "completed"
    model_dir = result.artifact_dir
    config = json.loads((model_dir / "config.json").read_text())
    assert config["architecture"] == "trees"
    assert (model_dir / "booster.txt").read_text().startswith("tree")  # LightGBM text format
    assert not (model_dir / "model.safetensors").exists()
    test_rows = TASK.load_data(tree_run["cfg"]).raw["test"]
    here = load_predictor(result.run_id, store).predict(test_rows)["prediction"].to_numpy()
    report = json.loads((store.run_dir(result.run_id) / "report.json").read_text())
    np.testing.assert_allclose(here, report["test_predictions"]["pred"], rtol=1e-6)
    rmse = float(np.sqrt(np.mean((here - test_rows["y"].to_numpy()) ** 2)))
    assert result.metrics["test_rmse"] == pytest.approx(rmse, rel=1e-5)

    out = export_model_dir(result.run_id, tmp_path / "export", store)
    booster = next(out.rglob("booster.txt"))
    for path in out.rglob("*"):
        assert path.is_dir() or not is_pickle(path.read_bytes())
    exported = TASK.load_predictor(booster.parent, "cpu").predict(test_rows)["prediction"]
    np.testing.assert_allclose(exported.to_numpy(), here, rtol=1e-9)
    assert store.curves(result.run_id).query("split == 'val'")["name"].eq("rmse").any()


def test_trees_read_missing_values_natively(tree_run: dict) -> None:
    predictor = load_predictor(tree_run["result"].run_id, tree_run["store"])
    rows = pd.DataFrame({"x": [np.nan, 1.0, "abc"], "z": [5.0, np.nan, 5.0],
                         "color": [None, "purple", "red"]})
    out = predictor.predict(rows)
    assert np.isfinite(out["prediction"]).all()
    assert "read as missing" in out["warning"].iloc[2]


def test_tree_shap_adds_up_to_the_prediction(tree_run: dict) -> None:
    import shap

    from core.explain import explain

    run_id, store = tree_run["result"].run_id, tree_run["store"]
    predictor = load_predictor(run_id, store)
    rows = TASK.load_data(tree_run["cfg"]).raw["test"].drop(columns=["y"]).head(8)
    for i in range(len(rows)):
        expl = explain(run_id, rows.iloc[[i]], "shap", store=store)
        pred = predictor.predict(rows.iloc[[i]])["prediction"].iloc[0]
        assert expl.base_value + expl.values.sum() == pytest.approx(pred, rel=1e-9, abs=1e-9)
        assert expl.info["explainer"].startswith("tree")
    again = explain(run_id, rows.iloc[[0]], "shap", store=store)
    assert again.from_cache
    # the same numbers as shap's own TreeExplainer on the same booster
    x = predictor.tree.columns.transform(rows)
    reference = shap.TreeExplainer(predictor.tree.booster).shap_values(x)
    np.testing.assert_allclose(predictor.tree.contributions(x)[:, :-1], reference, atol=1e-6)
    glob = explain(run_id, None, "shap_global", store=store, rows=30)
    preds = glob.base_value + glob.values.sum(axis=1)
    assert glob.values.shape == (30, 3) and np.isfinite(preds).all()
    assert set(glob.frames["importance"]["feature"]) == {"x", "z", "color"}


def test_every_run_records_the_baselines(tree_run: dict) -> None:
    metrics = tree_run["result"].metrics
    for key in ("test_rmse_linear", "test_rmse_mean", "val_rmse_linear"):
        assert key in metrics
    best = TASK.best_baseline(metrics)
    assert best == min(((n, metrics[f"test_rmse_{n}"]) for n in ("linear", "mean")),
                       key=lambda item: item[1])


def test_skewed_target_fits_on_log_scale_and_reports_original_units(
        tmp_path: Path, store: RunStore) -> None:
    cfg = config(tmp_path, frame_with_gaps(400, seed=1, skewed=True), "trees")
    result = train(cfg, store)
    report = json.loads((store.run_dir(result.run_id) / "report.json").read_text())
    trial = report["target_transform"]["val_rmse"]
    assert report["target_transform"]["used"] == min(trial, key=trial.get) == "log1p"
    test = TASK.load_data(cfg).raw["test"]
    pred = load_predictor(result.run_id, store).predict(test)["prediction"].to_numpy()
    assert (pred > 0).all()  # expm1 of the log-scale output: original units
    rmse = float(np.sqrt(np.mean((pred - test["y"].to_numpy()) ** 2)))
    assert result.metrics["test_rmse"] == pytest.approx(rmse, rel=1e-5)
    assert json.loads((result.artifact_dir / "tree_columns.json").read_text())[
        "target_transform"] == "log1p"


def test_auto_keeps_the_validation_winner(tmp_path: Path, store: RunStore) -> None:
    cfg = config(tmp_path, frame_with_gaps(240, seed=2), "auto")
    result = train(cfg, store)
    report = json.loads((store.run_dir(result.run_id) / "report.json").read_text())
    choice = report["model_choice"]
    val = TASK.load_data(cfg).raw["val"]
    # recompute both validation scores independently from the saved models
    from core.tasks.tabular_models import load_tree

    tree = load_tree(result.artifact_dir)
    tree_rmse = float(np.sqrt(np.mean((tree.predict_raw(tree.columns.transform(val))
                                       - val["y"].to_numpy()) ** 2)))
    assert choice["val_rmse"]["trees"] == pytest.approx(tree_rmse, rel=1e-6)
    winner = min(choice["val_rmse"], key=choice["val_rmse"].get)
    assert choice["chosen"] == winner == report["model"]
    assert json.loads((result.artifact_dir / "config.json").read_text())["architecture"] == winner
    assert result.metrics["val_rmse"] == pytest.approx(choice["val_rmse"][winner], rel=1e-4)
    assert "validation" in choice["why"]
    other = "mlp" if winner == "trees" else "trees"
    assert f"test_rmse_{other}" in result.metrics  # the loser is shown as a baseline


def test_unknown_model_name_is_a_clear_error(tmp_path: Path, store: RunStore) -> None:
    with pytest.raises(LoupeError, match="auto, trees, mlp"):
        train(config(tmp_path, frame_with_gaps(60), "forest"), store)
    assert store.list_runs().empty


def test_network_fits_a_skewed_target_on_the_scale_that_wins_on_validation(
        tmp_path: Path, store: RunStore) -> None:
    """The network path too (issue 16 item 4): a ridge fit on both scales picks the network's
    target scale on validation; metrics, predictions and the mean baseline are in target units."""
    frame = frame_with_gaps(400, seed=1, skewed=True)
    cfg = config(tmp_path, frame, "mlp")
    result = train(cfg, store)
    report = json.loads((store.run_dir(result.run_id) / "report.json").read_text())
    chosen = report["network_target_transform"]
    assert chosen["used"] == min(chosen["val_rmse"], key=chosen["val_rmse"].get) == "log1p"
    assert "log(1 + y)" in chosen["why"]
    prep = json.loads((result.artifact_dir / "preprocessing.json").read_text())
    assert prep["target_transform"] == "log1p"
    test = TASK.load_data(cfg).raw["test"]
    pred = load_predictor(result.run_id, store).predict(test)["prediction"].to_numpy()
    assert (pred > 0).all()
    rmse = float(np.sqrt(np.mean((pred - test["y"].to_numpy()) ** 2)))
    assert result.metrics["test_rmse"] == pytest.approx(rmse, rel=1e-4)
    train_mean = TASK.load_data(cfg).raw["train"]["y"].mean()
    mean_rmse = float(np.sqrt(np.mean((train_mean - test["y"].to_numpy()) ** 2)))
    assert result.metrics["test_rmse_mean"] == pytest.approx(mean_rmse, rel=1e-6)


def test_unskewed_target_stays_on_the_raw_scale() -> None:
    from core.datasets.tabular_prep import Preprocessor, choose_target_scale

    frame = frame_with_gaps(300)
    prep = Preprocessor.fit(frame[:200], "y", ["x", "z"], ["color"])
    assert choose_target_scale(prep, frame[:200], frame[200:]) == {}
    assert prep.target_transform == "none"
    y = frame["y"].to_numpy()
    np.testing.assert_allclose(prep.unscale_target(prep.scale_target(y)), y, atol=1e-5)
    prep.set_target_transform("log1p", np.abs(y))
    np.testing.assert_allclose(prep.unscale_target(prep.scale_target(np.abs(y))), np.abs(y), rtol=1e-5)
    far = prep.unscale_target(np.array([-1e3, 1e3]))  # a network extrapolating on the log scale
    low, high = np.log1p(np.abs(y).min()), np.log1p(np.abs(y).max())
    np.testing.assert_allclose(far, np.expm1([low - 0.1 * (high - low), high + 0.1 * (high - low)]))
    again = Preprocessor.from_dict(json.loads(json.dumps(prep.to_dict())))  # as saved and read
    np.testing.assert_allclose(again.unscale_target(np.array([1e3])), far[1:])
