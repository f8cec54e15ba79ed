"""SHAP for tabular runs, in units of the ORIGINAL columns (a one-hot group is one player).

How: SHAP sees one number per original column — the imputed value of a numeric column, the
category index of a categorical one (``len(categories)`` for a category unseen in training) —
and the model function encodes those codes exactly as ``Preprocessor.transform`` would
(standardise; one-hot) before calling ``TabularPredictor.predict_encoded``. Masking a column
therefore swaps the whole one-hot group for a background row's group, so attributions add up:
sum over columns = f(x) - E_background[f]. The background is the run's own training split,
re-derived with ``task.load_data`` and cached per run.

Explainer by column count: up to ``EXACT_MAX_COLUMNS`` columns the exact Shapley values over an
interventional background (``shap.explainers.Exact``, 2^C coalitions, delta-evaluated); more
columns use ``shap.explainers.Permutation`` (antithetic permutations, additive by construction)
over a k-means summary of the background (``shap.kmeans``), weights kept by repeating centres.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from core.errors import LoupeError
from core.explain.common import Progress, ProgressFn, prepare_shap
from core.explain.result import Explanation

EXACT_MAX_COLUMNS = 10
DEFAULT_BACKGROUND = 100
DEFAULT_MAX_EVALS = 500
GLOBAL_ROWS = 200


@dataclass
class ColumnCodes:
    """Raw rows <-> one code per original column <-> the model's encoded features."""

    prep: Any  # core.datasets.tabular_prep.Preprocessor

    @property
    def columns(self) -> list[str]:
        return list(self.prep.input_columns)

    def codes(self, frame: pd.DataFrame) -> np.ndarray:
        """(rows, columns) float codes, imputed exactly as the preprocessor imputes."""
        self.prep.transform(frame.head(0))  # raises the friendly missing-column error
        out = np.zeros((len(frame), len(self.columns)), dtype=np.float64)
        for j, col in enumerate(self.prep.numeric):
            values = pd.to_numeric(frame[col], errors="coerce").astype(float)
            values = values.where(np.isfinite(values), np.nan).fillna(self.prep.medians[col])
            out[:, j] = values.to_numpy()
        offset = len(self.prep.numeric)
        for j, col in enumerate(self.prep.categorical):
            cats = {c: i for i, c in enumerate(self.prep.categories[col])}
            values = frame[col].astype("string").fillna(self.prep.fills[col]).astype(str)
            out[:, offset + j] = [cats.get(v, len(cats)) for v in values]
        return out

    def encode(self, codes: np.ndarray) -> np.ndarray:
        """The model's input features for code rows (same as ``prep.transform`` of the raw rows)."""
        codes = np.asarray(codes, dtype=np.float64).reshape(-1, len(self.columns))
        parts = []
        for j, col in enumerate(self.prep.numeric):
            parts.append(((codes[:, j] - self.prep.means[col]) / self.prep.stds[col])[:, None])
        offset = len(self.prep.numeric)
        for j, col in enumerate(self.prep.categorical):
            k = len(self.prep.categories[col])
            parts.append(np.rint(codes[:, offset + j])[:, None] == np.arange(k)[None, :])
        if not parts:
            return np.zeros((len(codes), 0), dtype=np.float32)
        return np.concatenate([p.astype(np.float32) for p in parts], axis=1)


class ModelFunction:
    """f(codes) -> predictions in target units; counts evaluations (the cache test relies on it)."""

    def __init__(self, predictor: Any, codes: ColumnCodes, progress: Progress | None = None) -> None:
        self.predictor, self.codes, self.progress = predictor, codes, progress
        self.calls = 0
        self.rows = 0

    def __call__(self, z: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.rows += len(z)
        if self.progress is not None:
            self.progress.step(len(z))
        return np.asarray(self.predictor.predict_encoded(self.codes.encode(z)), dtype=np.float64)


# --- the run's data -------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _raw_splits(store_path: str, run_id: str) -> dict[str, pd.DataFrame]:
    from core.store import RunStore
    from core.tasks import get_task

    store = RunStore(store_path)
    cfg = store.config(run_id)
    data = get_task(cfg.task).load_data(cfg)
    return {k: v for k, v in data.raw.items() if isinstance(v, pd.DataFrame)}


def raw_split(store: Any, run_id: str, split: str = "train") -> pd.DataFrame:
    """The run's raw rows of one split (cached per run and process)."""
    frames = _raw_splits(str(store.path), run_id)
    if split not in frames or frames[split].empty:
        raise LoupeError(f"Run {run_id} has no '{split}' rows to use as SHAP background.",
                         "retrain the run; its data source may have changed.")
    return frames[split]


def background_codes(train_codes: np.ndarray, size: int, algorithm: str, seed: int = 0) -> np.ndarray:
    """Rows SHAP masks with: a random sample (exact), or k-means centres repeated by weight."""
    rng = np.random.default_rng(seed)
    size = max(1, min(int(size), len(train_codes)))
    if algorithm == "exact" or len(train_codes) <= size:
        idx = np.sort(rng.choice(len(train_codes), size, replace=False))
        return train_codes[idx]
    shap = prepare_shap()

    k = max(2, min(size // 2, 50, len(np.unique(train_codes, axis=0))))
    summary = shap.kmeans(train_codes, k)  # centres snapped to real values per column
    weights = np.asarray(summary.weights, dtype=float)
    counts = _allocate(weights / weights.sum(), size)
    return np.repeat(summary.data, counts, axis=0)


def _allocate(shares: np.ndarray, total: int) -> np.ndarray:
    """Largest-remainder rounding of shares to integer counts summing to ``total``."""
    raw = shares * total
    counts = np.floor(raw).astype(int)
    counts[np.argsort(-(raw - counts))[: total - counts.sum()]] += 1
    return counts


def choose_algorithm(n_columns: int, algorithm: str = "auto") -> str:
    if algorithm == "auto":
        return "exact" if n_columns <= EXACT_MAX_COLUMNS else "permutation"
    if algorithm not in ("exact", "permutation"):
        raise LoupeError(f"Unknown SHAP algorithm '{algorithm}' for tables.",
                         "use auto, exact or permutation.")
    return algorithm


def _shap_values(fn: ModelFunction, rows: np.ndarray, background: np.ndarray, algorithm: str,
                 max_evals: int, seed: int) -> tuple[np.ndarray, float]:
    shap = prepare_shap()

    masker = shap.maskers.Independent(background, max_samples=len(background))
    n = rows.shape[1]
    if algorithm == "exact":
        explainer = shap.explainers.Exact(fn, masker)
        result = explainer(rows, max_evals=max(max_evals, 2**n), silent=True)
    else:
        explainer = shap.explainers.Permutation(fn, masker, seed=seed)
        result = explainer(rows, max_evals=max(max_evals, 2 * (2 * n + 1)), silent=True)
    base = float(np.ravel(result.base_values)[0])
    return np.asarray(result.values, dtype=np.float64).reshape(len(rows), n), base


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """Feature values as users see them: through the masking hook, numbers shortened."""
    from core.privacy import mask_frame

    masked = mask_frame(frame.reset_index(drop=True))
    return masked.map(_fmt)


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "(missing)"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return str(value)


def row_frame(row: Any, columns: list[str]) -> pd.DataFrame:
    """One input row as a one-row frame, from a dict, a Series or a one-row DataFrame."""
    if isinstance(row, pd.DataFrame):
        if len(row) != 1:
            raise LoupeError(f"Explain one row at a time; got {len(row)} rows.",
                             "pick one row (e.g. frame.iloc[[3]] or --row 3).")
        frame = row
    elif isinstance(row, pd.Series):
        frame = row.to_frame().T
    elif isinstance(row, dict):
        frame = pd.DataFrame([row])
    else:
        raise LoupeError(f"A table row must be a dict, a Series or a one-row DataFrame, not "
                         f"{type(row).__name__}.", "pass e.g. {'sqft': 1200, 'garage': 'yes'}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise LoupeError(f"The row lacks column(s) the model was trained on: "
                         f"{', '.join(map(repr, missing))}.", "add those columns (may be empty).")
    return frame[columns].reset_index(drop=True)


def row_bytes(frame: pd.DataFrame) -> str:
    """Canonical JSON of one raw row (the cache fingerprints it; it is never stored)."""
    record = {str(k): (None if pd.isna(v) else str(v)) for k, v in frame.iloc[0].items()}
    return json.dumps(record, sort_keys=True)


# --- public ---------------------------------------------------------------------------------
def explain_row(predictor: Any, row: Any, background_frame: pd.DataFrame, run_id: str = "",
                background: int = DEFAULT_BACKGROUND, algorithm: str = "auto",
                max_evals: int = DEFAULT_MAX_EVALS, seed: int = 0,
                progress: ProgressFn | None = None, fn_hook: Any = None) -> Explanation:
    """Local SHAP values of one row, one per original column, in target units."""
    codes = ColumnCodes(predictor.prep)
    frame = row_frame(row, codes.columns)
    algorithm = choose_algorithm(len(codes.columns), algorithm)
    bg = background_codes(codes.codes(background_frame), background, algorithm, seed)
    tick = Progress(progress, _expected_evals(algorithm, len(codes.columns), len(bg), max_evals, 1),
                    "SHAP (table)")
    fn = ModelFunction(predictor, codes, tick)
    if fn_hook is not None:
        fn_hook(fn)
    x = codes.codes(frame)
    values, base = _shap_values(fn, x, bg, algorithm, max_evals, seed)
    pred = float(fn(x)[0])
    tick.done("SHAP (table): done")
    shown = _display(frame).iloc[0]
    local = pd.DataFrame({"feature": codes.columns, "value": [shown[c] for c in codes.columns],
                          "shap": values[0]})
    local = local.reindex(local["shap"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    return Explanation(
        run_id=run_id, kind="tabular", method="shap", values=values[0], base_value=base,
        prediction={"value": pred, "target": predictor.prep.target}, labels=[predictor.prep.target],
        features=codes.columns, frames={"local": local},
        info={"explainer": algorithm, "background_rows": int(len(bg)), "model_calls": fn.calls,
              "model_rows": fn.rows},
    )


def explain_global(predictor: Any, rows: pd.DataFrame, background_frame: pd.DataFrame,
                   run_id: str = "", background: int = 50, algorithm: str = "auto",
                   max_evals: int = DEFAULT_MAX_EVALS, seed: int = 0,
                   progress: ProgressFn | None = None) -> Explanation:
    """Mean |SHAP| per column over ``rows`` and dependence data (value vs attribution)."""
    codes = ColumnCodes(predictor.prep)
    frame = rows[codes.columns].reset_index(drop=True)
    algorithm = choose_algorithm(len(codes.columns), algorithm)
    bg = background_codes(codes.codes(background_frame), background, algorithm, seed)
    tick = Progress(progress, _expected_evals(algorithm, len(codes.columns), len(bg), max_evals,
                                              len(frame)), "SHAP (global)")
    fn = ModelFunction(predictor, codes, tick)
    values, base = _shap_values(fn, codes.codes(frame), bg, algorithm, max_evals, seed)
    tick.done("SHAP (global): done")
    importance, dependence = global_frames(frame, codes.columns, predictor.prep.numeric, values)
    return Explanation(
        run_id=run_id, kind="tabular", method="shap_global", values=values, base_value=base,
        prediction={"mean_prediction": float(base + values.sum(axis=1).mean()),
                    "target": predictor.prep.target},
        labels=[predictor.prep.target], features=codes.columns,
        frames={"importance": importance, "dependence": dependence},
        info={"explainer": algorithm, "background_rows": int(len(bg)), "rows": int(len(frame)),
              "model_calls": fn.calls},
    )


def global_frames(frame: pd.DataFrame, columns: list[str], numeric: Any,
                  values: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The global views' frames from per-row SHAP ``values`` (rows x ``columns``): importance
    (mean |SHAP| per column, largest first) and dependence (each row's shown value vs its SHAP)."""
    importance = pd.DataFrame({"feature": columns, "mean_abs_shap": np.abs(values).mean(axis=0),
                               "mean_shap": values.mean(axis=0)})
    importance = importance.sort_values("mean_abs_shap", ascending=False).reset_index(drop=True)
    shown = _display(frame)
    dependence = pd.concat([
        pd.DataFrame({"row": np.arange(len(frame)), "feature": col, "value": shown[col].to_numpy(),
                      "numeric": pd.to_numeric(shown[col], errors="coerce").to_numpy(dtype=float)
                      if col in numeric else np.nan,
                      "shap": values[:, j]})
        for j, col in enumerate(columns)], ignore_index=True)
    return importance, dependence


def _expected_evals(algorithm: str, n: int, bg: int, max_evals: int, rows: int) -> int:
    evals = 2**n if algorithm == "exact" else max(max_evals, 2 * (2 * n + 1))
    return max(1, evals * bg * rows)
