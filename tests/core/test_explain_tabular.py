"""SHAP for tables: exact for a linear model, additive in original columns, cached in the store."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from core.errors import LoupeError
from core.explain import explain, shap_tabular
from core.predict import load_predictor
from core.store import RunStore
from core.tasks.tabular import TabularPredictor
from tests.core.test_explain_fixtures import categorical_tabular_run, linear_tabular_run, train_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunStore, str, str]:
    store = RunStore(tmp_path_factory.mktemp("explain_tab") / "loupe.duckdb")
    return store, linear_tabular_run(store), categorical_tabular_run(store)


def _linear_expectation(predictor: TabularPredictor, row: pd.DataFrame, background: pd.DataFrame
                        ) -> np.ndarray:
    """w . (x - E[x]) per column, w in target units (the MLP is a single Linear layer)."""
    weights = predictor.model.net[0].weight.detach().numpy()[0] * predictor.prep.target_std
    x = predictor.prep.transform(row)[0]
    mean = predictor.prep.transform(background).mean(axis=0)
    return weights * (x - mean)


@pytest.mark.parametrize("algorithm", ["exact", "permutation"])
def test_linear_model_shap_is_weight_times_centred_input(runs, algorithm: str) -> None:
    store, linear, _ = runs
    predictor = load_predictor(linear, store)
    assert len(predictor.model.net) == 1  # hidden_sizes=() really is one Linear layer
    train = shap_tabular.raw_split(store, linear, "train")
    row = shap_tabular.raw_split(store, linear, "test").iloc[[3]]
    expl = explain(linear, row, store=store, background=len(train), algorithm=algorithm)
    expected = _linear_expectation(predictor, row, train)
    assert expl.features == predictor.input_columns
    np.testing.assert_allclose(expl.values, expected, rtol=1e-4, atol=1e-3 * np.abs(expected).max())
    assert expl.base_value == pytest.approx(float(predictor.predict(train)["prediction"].mean()), rel=1e-5)
    assert expl.info["explainer"] == algorithm


@pytest.mark.parametrize("algorithm", ["exact", "permutation"])
def test_additive_in_original_columns_with_one_hot_groups(runs, algorithm: str) -> None:
    store, _, houses = runs
    predictor = load_predictor(houses, store)
    row = shap_tabular.raw_split(store, houses, "test").iloc[[0]].copy()
    row.loc[row.index[0], "neighborhood"] = "a place never seen in training"  # encodes as all zeros
    expl = explain(houses, row, store=store, algorithm=algorithm, background=40)
    assert sorted(expl.features) == sorted(predictor.input_columns)  # 6 columns, not one-hot names
    assert len(expl.values) == len(predictor.input_columns) < len(predictor.prep.feature_names)
    prediction = float(predictor.predict(row)["prediction"].iloc[0])
    assert expl.prediction["value"] == pytest.approx(prediction, rel=1e-5)
    assert expl.values.sum() == pytest.approx(prediction - expl.base_value, rel=1e-6, abs=1e-3)
    local = expl.frames["local"]
    assert set(local["feature"]) == set(predictor.input_columns)
    assert local["shap"].abs().is_monotonic_decreasing


def test_column_codes_encode_exactly_like_the_preprocessor(runs) -> None:
    store, _, houses = runs
    predictor = load_predictor(houses, store)
    rows = shap_tabular.raw_split(store, houses, "test").head(30).copy()
    rows.loc[rows.index[:3], "sqft"] = np.nan  # imputed with the training median
    rows.loc[rows.index[3], "garage"] = None  # filled with the training mode
    codes = shap_tabular.ColumnCodes(predictor.prep)
    np.testing.assert_allclose(codes.encode(codes.codes(rows)), predictor.prep.transform(rows), atol=1e-6)


def test_global_importance_and_dependence(runs) -> None:
    store, _, houses = runs
    expl = explain(houses, method="global", store=store, rows=25, background=20)
    importance, dependence = expl.frames["importance"], expl.frames["dependence"]
    predictor = load_predictor(houses, store)
    columns = predictor.input_columns
    assert list(importance.columns[:2]) == ["feature", "mean_abs_shap"]
    assert importance["mean_abs_shap"].is_monotonic_decreasing
    assert expl.values.shape == (25, len(columns))
    np.testing.assert_allclose(importance.set_index("feature").loc[columns, "mean_abs_shap"],
                               np.abs(expl.values).mean(axis=0))
    assert len(dependence) == 25 * len(columns)
    sqft = dependence[dependence["feature"] == "sqft"]
    assert sqft["numeric"].notna().all()  # numeric column: x axis is numeric
    garage = dependence[dependence["feature"] == "garage"]
    assert garage["numeric"].isna().all() and set(garage["value"]) <= {"yes", "no"}
    figs = expl.figures()
    assert "importance" in figs and any(name.startswith("dependence_") for name in figs)


def test_cached_explanation_is_served_without_calling_the_model(runs, monkeypatch) -> None:
    store, _, houses = runs
    row = shap_tabular.raw_split(store, houses, "val").iloc[0].to_dict()
    first = explain(houses, row, store=store, background=30)
    assert not first.from_cache
    calls = []
    original = TabularPredictor.predict_encoded

    def counting(self, x, batch_size=4096):
        calls.append(len(x))
        return original(self, x, batch_size)

    monkeypatch.setattr(TabularPredictor, "predict_encoded", counting)
    again = explain(houses, dict(reversed(list(row.items()))), store=store, background=30)  # key order
    restarted = explain(houses, row, store=RunStore(store.path), background=30)  # a new session
    assert again.from_cache and restarted.from_cache and calls == []
    np.testing.assert_array_equal(again.values, first.values)
    assert again.frames["local"].equals(first.frames["local"])
    other = explain(houses, row, store=store, background=31)  # other params: computed again
    assert not other.from_cache and calls
    with store.connect() as con:
        stored = con.execute("SELECT input_masked, params_json, method FROM explanations "
                             "WHERE run_id=? AND method='shap'", [houses]).fetchall()
    mine = [json.loads(masked) for masked, p, _ in stored if json.loads(p)["background"] in (30, 31)]
    assert len(mine) == 2  # one entry per parameter set, never duplicated
    assert all(m["neighborhood"] == row["neighborhood"] for m in mine)


def test_bad_rows_are_errors_that_say_what_to_do(runs) -> None:
    store, _, houses = runs
    with pytest.raises(LoupeError, match="lacks column"):
        explain(houses, {"sqft": 1200}, store=store)
    with pytest.raises(LoupeError, match="one row"):
        explain(houses, shap_tabular.raw_split(store, houses, "test").head(2), store=store)
    with pytest.raises(LoupeError, match="not available for tabular"):
        explain(houses, {"sqft": 1}, method="attention", store=store)
    with pytest.raises(LoupeError, match="Unknown option"):
        explain(houses, method="global", store=store, max_eval=3)


def test_changed_data_file_is_a_clear_error(tmp_path) -> None:  # noqa: ANN001
    """The run's CSV loses a column after training: SHAP says which and what to do (no KeyError)."""
    from data.make_house_prices import make_house_prices

    store = RunStore(tmp_path / "loupe.duckdb")
    path = tmp_path / "houses.csv"
    make_house_prices().head(300).to_csv(path, index=False)
    cfg = RunConfig(task="tabular", data=DataConfig(source=str(path), target="price"),
                    model=ModelConfig(hidden_sizes=(8,)),
                    train=TrainConfig(epochs=1, max_steps=3, device="cpu", patience=0))
    run_id = train_run(cfg, store)
    pd.read_csv(path).drop(columns=["garage"]).to_csv(path, index=False)
    with pytest.raises(LoupeError, match="column 'garage' is gone") as err:
        explain(run_id, method="global", store=store)
    assert "houses.csv" in str(err.value) and err.value.fix


def test_exact_values_are_the_shapley_values_of_the_model(runs) -> None:
    """shap's Exact explainer, unmodified, through Loupe's column codes, equals the Shapley
    definition computed here from ``predictor.predict`` on raw rows alone: for each coalition S of
    original columns, v(S) = mean prediction over background rows with S's columns set to the row's
    values. Non-linear MLP with one-hot groups; the whole training split is the background."""
    from itertools import combinations
    from math import factorial

    store, _, houses = runs
    predictor = load_predictor(houses, store)
    train = shap_tabular.raw_split(store, houses, "train").reset_index(drop=True)
    row = shap_tabular.raw_split(store, houses, "test").iloc[[5]].reset_index(drop=True)
    expl = explain(houses, row, store=store, background=len(train), algorithm="exact", use_cache=False)
    columns = list(predictor.input_columns)
    n = len(columns)

    def value(coalition: tuple[str, ...]) -> float:
        frame = train[columns].copy()
        for col in coalition:
            frame[col] = row[col].iloc[0]
        return float(predictor.predict(frame)["prediction"].mean())

    values = {s: value(s) for k in range(n + 1) for s in combinations(columns, k)}
    expected = np.zeros(n)
    for i, col in enumerate(columns):
        others = [c for c in columns if c != col]
        for k in range(n):
            weight = factorial(k) * factorial(n - k - 1) / factorial(n)
            for s in combinations(others, k):
                with_col = tuple(c for c in columns if c in s or c == col)
                expected[i] += weight * (values[with_col] - values[s])
    scale = np.abs(expected).max()
    np.testing.assert_allclose(expl.values, expected, atol=1e-4 * scale)
    assert expl.base_value == pytest.approx(values[()], rel=1e-5)
