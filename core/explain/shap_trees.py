"""Exact TreeSHAP for tree runs: LightGBM's own contributions (``pred_contrib=True``).

Why not the sampling explainers of ``shap_tabular``: for trees, path-dependent TreeSHAP gives the
exact Shapley values of the model's output in milliseconds, one per ORIGINAL column (the trees read
columns, not a one-hot encoding), with no background sample: the base value is the trees' expected
output over the training data they were fitted on. Attributions plus the base value equal the
model's output exactly (``tests/core/test_trees.py``).

Units: the model's output. When the trees were fitted on log(1 + target) (a skewed positive
target), that output is on the log scale; the explanation says so and also gives the prediction
in target units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.explain.result import Explanation
from core.explain.shap_tabular import _display, global_frames, row_frame


def _units(predictor: Any) -> tuple[str, list[str]]:
    cols = predictor.tree.columns
    if cols.target_transform == "log1p":
        return (f"log(1 + {cols.target})",
                [f"The trees were fitted on log(1 + {cols.target}) (a skewed target), so these "
                 f"attributions add up on that scale: a value v multiplies 1 + {cols.target} by "
                 f"exp(v)."])
    return cols.target, []


def _contributions(predictor: Any, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    tree = predictor.tree
    contrib = tree.contributions(tree.columns.transform(frame))
    return contrib[:, :-1], contrib[:, -1]


def explain_row_tree(predictor: Any, row: Any, run_id: str = "") -> Explanation:
    """Exact local SHAP of one row, one value per original column, on the model's output scale."""
    columns = predictor.tree.columns.columns
    frame = row_frame(row, columns)
    values, base = _contributions(predictor, frame)
    units, notices = _units(predictor)
    output = float(base[0] + values[0].sum())
    shown = _display(frame).iloc[0]
    local = pd.DataFrame({"feature": columns, "value": [shown[c] for c in columns],
                          "shap": values[0]})
    local = local.reindex(local["shap"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    return Explanation(
        run_id=run_id, kind="tabular", method="shap", values=values[0], base_value=float(base[0]),
        prediction={"value": output, "target": units,
                    "in_target_units": float(predictor.tree.columns.inverse_target(output))},
        labels=[units], features=columns, frames={"local": local}, notices=notices,
        info={"explainer": "tree (exact TreeSHAP, LightGBM)", "background_rows": 0,
              "model_calls": 1, "model_rows": 1})


def explain_global_tree(predictor: Any, rows: pd.DataFrame, run_id: str = "") -> Explanation:
    """Mean |SHAP| per column over ``rows`` and dependence data, exact TreeSHAP."""
    cols = predictor.tree.columns
    frame = rows[cols.columns].reset_index(drop=True)
    values, base = _contributions(predictor, frame)
    units, notices = _units(predictor)
    importance, dependence = global_frames(frame, cols.columns, cols.numeric, values)
    base_value = float(base[0]) if len(base) else 0.0
    return Explanation(
        run_id=run_id, kind="tabular", method="shap_global", values=values, base_value=base_value,
        prediction={"mean_prediction": float(base_value + values.sum(axis=1).mean()) if len(frame)
                    else base_value, "target": units},
        labels=[units], features=cols.columns, notices=notices,
        frames={"importance": importance, "dependence": dependence},
        info={"explainer": "tree (exact TreeSHAP, LightGBM)", "background_rows": 0,
              "rows": int(len(frame)), "model_calls": 1})
