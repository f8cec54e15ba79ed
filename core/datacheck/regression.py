"""Tables with a numeric target: rows whose target the other rows cannot explain (extreme
out-of-fold residuals) and rows with feature values far outside the rest (robust z-scores).

Robust: distances are in median absolute deviations (scaled by 1.4826 to read as standard
deviations for normal data), so the outliers being looked for do not widen the yardstick."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.datacheck.inputs import CheckInputs
from core.output import mask_label

RESIDUAL = "extreme residual"
OUTLIER = "feature outlier"
RESIDUAL_Z = 8.0  # robust SDs of the out-of-fold residuals (a smooth target misfit by the trees reaches ~7)
OUTLIER_Z = 10.0  # robust SDs from a column's median


def number(value: float) -> str:
    """4 significant digits, never in exponent form for everyday magnitudes (90,000 not 9e+04)."""
    if np.isfinite(value) and 1e4 <= abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:,.4g}"


def robust_z(values: np.ndarray) -> np.ndarray:
    """|x - median| in robust standard deviations (MAD * 1.4826; the IQR / 1.349 or the mean
    absolute deviation when the MAD is 0, e.g. a mostly constant column). NaN stays NaN."""
    x = np.asarray(values, dtype=float)
    finite = x[np.isfinite(x)]
    if len(finite) < 5:
        return np.full(len(x), np.nan)
    median = np.median(finite)
    scale = 1.4826 * np.median(np.abs(finite - median))
    if scale == 0:
        q1, q3 = np.percentile(finite, [25, 75])
        scale = (q3 - q1) / 1.349 or np.mean(np.abs(finite - median))
    if scale == 0:
        return np.where(np.isfinite(x), 0.0, np.nan)
    return np.abs(x - median) / scale


def out_of_fold_predictions(features: np.ndarray, targets: np.ndarray, folds: int = 5,
                            seed: int = 0) -> np.ndarray:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.model_selection import KFold

    pred = np.zeros(len(targets))
    for fit_idx, held_idx in KFold(n_splits=max(2, min(folds, len(targets) // 5)), shuffle=True,
                                   random_state=seed).split(features):
        model = HistGradientBoostingRegressor(loss="absolute_error", max_iter=200, random_state=seed)
        model.fit(features[fit_idx], targets[fit_idx])
        pred[held_idx] = model.predict(features[held_idx])
    return pred


def residual_issues(inputs: CheckInputs, folds: int = 5, seed: int = 0) -> pd.DataFrame:
    y = np.asarray(inputs.targets, dtype=float)
    pred = out_of_fold_predictions(inputs.features, y, folds, seed)
    z = robust_z(y - pred)
    target = mask_label(inputs.target_name)
    rows = [{"index": int(i), "score": float(min(1.0, z[i] / (2 * RESIDUAL_Z))),
             "reason": f"{target} is {number(y[i])}; a model that never saw this row predicts "
                       f"{number(pred[i])} ({z[i]:.1f} robust SDs off the usual error)"}
            for i in np.flatnonzero(z >= RESIDUAL_Z)]
    return pd.DataFrame(rows, columns=["index", "score", "reason"])


def feature_outliers(inputs: CheckInputs) -> pd.DataFrame:
    if inputs.numeric is None or inputs.numeric.empty:
        return pd.DataFrame(columns=["index", "score", "reason"])
    scores = {c: robust_z(pd.to_numeric(inputs.numeric[c], errors="coerce").to_numpy(dtype=float))
              for c in inputs.numeric.columns}
    table = pd.DataFrame(scores).fillna(0.0)
    worst = table.idxmax(axis=1)
    rows = []
    for i in np.flatnonzero(table.max(axis=1).to_numpy() >= OUTLIER_Z):
        column = worst.iloc[i]
        values = pd.to_numeric(inputs.numeric[column], errors="coerce")
        rows.append({"index": int(i), "score": float(min(1.0, table[column].iloc[i] / (3 * OUTLIER_Z))),
                     "reason": f"{mask_label(column)} = {number(values.iloc[i])} is "
                               f"{table[column].iloc[i]:.0f} robust SDs from its median "
                               f"{number(values.median())}"})
    return pd.DataFrame(rows, columns=["index", "score", "reason"])
