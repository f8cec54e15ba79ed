"""A tabular model served from a deploy bundle with its runtime packages only (no torch, no
LightGBM): the folder's JSON column encodings (``Preprocessor``, ``TreeColumns``), onnxruntime,
and the frame ``TabularPredictor.predict`` makes (``prediction_frame``, shared with it).

``TabularRequests`` is the request check the Loupe server and the bundle's server share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.datasets.tabular_prep import Preprocessor, unreadable_notice
from core.errors import LoupeError
from core.models.tree_columns import TREE_COLUMNS_FILE, TreeColumns

PREPROCESSING_FILE = "preprocessing.json"  # the column encoding; described in artifact_files


def read_preprocessor(artifact_dir: Path) -> Preprocessor:
    """The column encoding a tabular model folder holds (no model load)."""
    return Preprocessor.from_dict(json.loads((artifact_dir / PREPROCESSING_FILE).read_text()))


class TabularRequests:
    """One row of a JSON request: an object of column -> plain value."""

    def request_input(self, value: Any, field: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise LoupeError(f"{field} must be an object of column -> value, not "
                             f"{type(value).__name__ if value is not None else 'null'}.",
                             'send e.g. {"input": {"age": 41, "city": "Leeds"}}.')
        for column, cell in value.items():
            if cell is not None and not isinstance(cell, (str, int, float, bool)):
                raise LoupeError(f"{field}.{column} must be a number, a text or null, not "
                                 f"{type(cell).__name__}.", "send one plain value per column.")
        return value

    def request_example(self, predictor: Any) -> dict[str, Any]:
        prep = predictor.prep
        example: dict[str, Any] = {c: round(float(prep.medians[c]), 4) for c in prep.numeric}
        example.update({c: prep.fills[c] for c in prep.categorical})
        return example


def input_frame(inputs: Any) -> pd.DataFrame:
    frame = pd.DataFrame([inputs]) if isinstance(inputs, dict) else pd.DataFrame(inputs)
    if frame.empty:
        raise LoupeError("There are no rows to predict.", "give at least one row.")
    return frame


def prediction_frame(frame: pd.DataFrame, pred: np.ndarray, prep: Preprocessor, trees: bool) -> pd.DataFrame:
    """Predictions beside the input rows, with a warning per row (and a notice per column) for
    values that are not numbers: the trees read them as missing, the network uses the median."""
    result = pd.DataFrame({"prediction": pred}, index=frame.index)
    unreadable = prep.unreadable(frame)
    if unreadable:
        fill = "read as missing" if trees else "median used"
        rows = [[c for c, bad in unreadable.items() if bad[i]] for i in range(len(frame))]
        result["warning"] = ["; ".join(f"'{c}' is not a number ({fill})" for c in cols) or None
                             for cols in rows]
        result.attrs["notices"] = [
            unreadable_notice(c, bad, "the trees read them as missing values" if trees else
                              f"they were filled with the training median ({prep.medians[c]:.4g}), "
                              f"so those predictions ignore '{c}'", first_line=1)
            for c, bad in unreadable.items()]
    return result


class TabularServing(TabularRequests):
    """The bundle's tabular model: ``predict(rows)`` -> the Predict page's frame."""

    requirements: tuple[str, ...] = ()

    def __init__(self, folder: Path, session: Any) -> None:
        config = json.loads((folder / "config.json").read_text())
        self.prep = read_preprocessor(folder)
        self.trees = (TreeColumns.from_dict(json.loads((folder / TREE_COLUMNS_FILE).read_text()))
                      if config.get("architecture") == "trees" else None)
        self.session = session
        self.input_name = session.get_inputs()[0].name

    def _run(self, x: np.ndarray) -> np.ndarray:
        feed = np.ascontiguousarray(np.asarray(x, dtype=np.float64).astype(np.float32))
        return np.asarray(self.session.run(None, {self.input_name: feed})[0], dtype=np.float64).reshape(-1)

    def predict(self, inputs: Any) -> pd.DataFrame:
        frame = input_frame(inputs)
        if self.trees is not None:  # raw score on the fitted scale; the log fit undone in float64
            pred = self.trees.inverse_target(self._run(self.trees.transform(frame)))
        else:
            pred = self.prep.unscale_target(self._run(self.prep.transform(frame)))
        return prediction_frame(frame, pred, self.prep, self.trees is not None)
