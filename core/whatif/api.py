"""What-if by run id: the entry points the CLI (``loupe whatif``) and Python callers use.

- ``compare_edit(run_id, original, edited)``: both inputs' predictions and SHAP explanations,
  side by side (text, image or table; each explanation is cached like ``explain``'s);
- ``text_counterfactual(run_id, text)``: the fewest words whose removal (or masking) flips it;
- ``image_counterfactual(run_id, image)``: the fewest SHAP regions whose occlusion flips it;
- ``table_counterfactual(run_id, row, target)``: the closest edits past a target value;
- ``feature_effects(run_id, feature)``: ICE lines and partial dependence over a whole split,
  the model's outputs on the grid cached per process so a slider redraws without the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from core.errors import LoupeError
from core.explain.result import Explanation


@dataclass
class EditComparison:
    original: Explanation
    edited: Explanation

    def changed(self) -> bool:
        """Did the edit change the decision (class) or, for a regression, the value?"""
        a, b = self.original.prediction, self.edited.prediction
        if "label" in a:
            return a["label"] != b["label"]
        return not np.isclose(float(a.get("value", 0.0)), float(b.get("value", 0.0)))


def compare_edit(run_id: str, original: Any, edited: Any, store: Any = None, **params: Any) -> EditComparison:
    """Explain ``original`` and ``edited`` with the same method and parameters; a classifier's
    edited input is also explained for the original's class, so the two line up."""
    from core.explain import explain

    before = explain(run_id, original, store=store, **params)
    label = before.prediction.get("label")
    if label is not None and "target_class" not in params:
        params = {**params, "target_class": [label]}
    return EditComparison(before, explain(run_id, edited, store=store, **params))


def _run(run_id: str, store: Any, kind: str) -> tuple[Any, dict[str, Any]]:
    from core.store import RunStore

    store = store if store is not None else RunStore()
    run = store.get_run(run_id)
    if run["task"] != kind:
        raise LoupeError(f"Run {run['id']} is a {run['task']} run; this what-if is for {kind} runs.",
                         f"pick a {kind} run (loupe runs --task {kind}).")
    return store, run


def text_counterfactual(run_id: str, text: str, edit: str = "remove", store: Any = None,
                        max_evals: int | None = None, device: str = "auto") -> Any:
    """``core.whatif.text.find_counterfactual`` on the run's model."""
    from core.predict import load_predictor
    from core.whatif.text import DEFAULT_MAX_EVALS, find_counterfactual

    store, run = _run(run_id, store, "text")
    predictor = load_predictor(run["id"], store, device)
    return find_counterfactual(predictor, text, edit, max_evals or DEFAULT_MAX_EVALS)


def image_counterfactual(run_id: str, image: Any, store: Any = None, device: str = "auto",
                         **explain_params: Any) -> Any:
    """``core.whatif.image.find_image_counterfactual`` over the image's SHAP regions."""
    from core.explain import explain
    from core.predict import load_predictor
    from core.whatif.image import find_image_counterfactual

    store, run = _run(run_id, store, "image")
    explanation = explain(run["id"], image, store=store, device=device, **explain_params)
    return find_image_counterfactual(load_predictor(run["id"], store, device), explanation)


def table_counterfactual(run_id: str, row: Any, target: float, direction: str | None = None,
                         editable: list[str] | None = None, store: Any = None,
                         max_changes: int = 3) -> Any:
    """``core.whatif.tabular.find_table_counterfactual`` with the run's model and training rows."""
    from core.explain.shap_tabular import raw_split, row_frame
    from core.predict import load_predictor
    from core.whatif.tabular import find_table_counterfactual

    store, run = _run(run_id, store, "tabular")
    predictor = load_predictor(run["id"], store, "cpu")
    frame = row_frame(row, predictor.input_columns)
    return find_table_counterfactual(predictor, frame, raw_split(store, run["id"], "train"),
                                     float(target), direction, editable, max_changes)


def feature_effects(run_id: str, feature: str, split: str = "val", grid: int = 25,
                    ice_rows: int = 8, store: Any = None, seed: int = 0) -> Any:
    """ICE and partial dependence of ``feature`` over every row of ``split``."""
    from core.explain.shap_tabular import raw_split
    from core.predict import load_predictor
    from core.whatif.tabular import effect_curves

    store, run = _run(run_id, store, "tabular")
    predictor = load_predictor(run["id"], store, "cpu")
    rows, train = raw_split(store, run["id"], split), raw_split(store, run["id"], "train")
    if feature not in predictor.input_columns:
        return effect_curves(predictor, rows, train, feature)  # raises the named error
    path = store.artifact_path(run["id"], "model")
    outputs = _grid_outputs(str(store.path), run["id"], path.stat().st_mtime, feature, split, grid)
    return effect_curves(predictor, rows, train, feature, grid, ice_rows, seed, outputs=outputs)


@lru_cache(maxsize=32)
def _grid_outputs(store_path: str, run_id: str, mtime: float, feature: str, split: str,
                  grid: int) -> np.ndarray:
    """The model on every row of the split at every grid value, once per run, feature and grid."""
    from core.explain.shap_tabular import raw_split
    from core.predict import load_predictor
    from core.store import RunStore
    from core.whatif.tabular import feature_spaces, grid_outputs

    store = RunStore(store_path)
    predictor = load_predictor(run_id, store, "cpu")
    train = raw_split(store, run_id, "train")
    values = feature_spaces(train, predictor.prep, grid)[feature].values
    rows: pd.DataFrame = raw_split(store, run_id, split)[predictor.input_columns]
    return grid_outputs(predictor, rows, feature, values)
