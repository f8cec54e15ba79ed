"""What-if for table runs: counterfactual edits and feature effect curves (ICE and partial
dependence).

Counterfactual search (documented here, no extra library): the user names the features that may
change and a target the prediction must reach ("above" or "below" a value). Candidate values come
from the training split: for a numeric feature ``GRID`` quantiles between its training minimum
and maximum, for a category every category seen in training. A beam search adds one change at a
time: every candidate edit of every state in the beam goes to the model in one batch; edits that
reach the target are solutions, the others are ranked by how far they moved the prediction per
unit of distance and the best ``beam`` go on. Distance is the sum over changed features of
|new - old| / the feature's training interquartile range (its standard deviation when the IQR
is 0), and 1 per changed category, as DiCE's default distance does. Each numeric change of a
solution is then pulled back toward the original value on a finer grid as far as the target
still holds, so the values shown are the closest found, not grid points. Every solution's
prediction is the model's own output on the edited row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import LoupeError

GRID = 41
DIRECTIONS = ("above", "below")


@dataclass
class FeatureSpace:
    """What values a feature may take, read from the training split."""

    numeric: bool
    values: list[Any]  # candidates: quantile grid (numeric) or the training categories
    scale: float = 1.0  # numeric: IQR (std when 0) for distances
    low: float = 0.0
    high: float = 0.0
    integer: bool = False


@dataclass
class TableCounterfactual:
    found: bool
    target: float
    direction: str
    original_prediction: float
    editable: list[str]
    solutions: list[dict[str, Any]]  # {"changes": [{column, original, new}], "prediction", "distance"}
    model_calls: int
    evaluations: int
    seconds: float
    notices: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def lines(self) -> list[str]:
        from core.output import mask_message

        out = [f"counterfactual: prediction {self.original_prediction:.6g}, target {self.direction} "
               f"{self.target:.6g}"]
        frame = self.frame()
        if not frame.empty:
            out.append(frame.to_string(index=False))  # values masked when the result was made
        out += [f"note: {mask_message(n)}" for n in self.notices]
        out.append(f"({self.model_calls} model calls, {self.evaluations} rows scored, {self.seconds:.2f} s)")
        return out

    def summary(self) -> str:
        """One sentence for people: the closest solution (values masked when it was made)."""
        if not self.found or not self.solutions:
            return ("No change found: no change of the editable columns within the training ranges "
                    f"moves the prediction {self.direction} {self.target:,.6g}.")
        best = self.solutions[0]
        edits = ", ".join(f"{c['column']} {_shown(c['original'])} → {_shown(c['new'])}"
                          for c in best["changes"])
        return (f"Closest change: {edits} moves the prediction from {self.original_prediction:,.6g} to "
                f"{float(best['prediction']):,.6g} ({self.direction} {self.target:,.6g}).")

    def frame(self) -> pd.DataFrame:
        return self.changes_frame()

    def changes_frame(self) -> pd.DataFrame:
        """One row per change of each solution (masked values), for tables and CSV."""
        rows = [{"solution": i + 1, "column": c["column"], "original": c["original"], "new": c["new"],
                 "prediction": s["prediction"], "distance": s["distance"]}
                for i, s in enumerate(self.solutions) for c in s["changes"]]
        return pd.DataFrame(rows, columns=["solution", "column", "original", "new", "prediction", "distance"])


def _shown(value: Any) -> str:
    """A value in a sentence: numbers as 1,234.5, a missing one as 'missing'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return f"{float(value):,.6g}"
    return str(value)


def feature_spaces(train: pd.DataFrame, prep: Any, grid: int = GRID) -> dict[str, FeatureSpace]:
    """Each input column's candidate values and distance scale, from the training rows."""
    spaces: dict[str, FeatureSpace] = {}
    for col in prep.numeric:
        values = pd.to_numeric(train[col], errors="coerce").dropna().to_numpy(dtype=float)
        if not len(values):
            spaces[col] = FeatureSpace(True, [float(prep.medians.get(col, 0.0))])
            continue
        q1, q3 = np.quantile(values, [0.25, 0.75])
        scale = float(q3 - q1) or float(values.std()) or 1.0
        integer = bool(np.all(np.equal(np.mod(values, 1), 0)))
        points = np.quantile(values, np.linspace(0, 1, grid))
        points = np.unique(np.round(points) if integer else points)
        spaces[col] = FeatureSpace(True, [float(v) for v in points], scale, float(values.min()),
                                   float(values.max()), integer)
    for col in prep.categorical:
        spaces[col] = FeatureSpace(False, list(prep.categories.get(col, [])))
    return spaces


class _Model:
    def __init__(self, predictor: Any) -> None:
        self.predictor, self.calls, self.evals = predictor, 0, 0

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        if frame.empty:
            return np.zeros(0)
        self.calls += 1
        self.evals += len(frame)
        return self.predictor.predict(frame)["prediction"].to_numpy(dtype=float)


def _distance(row: pd.Series, changes: dict[str, Any], spaces: dict[str, FeatureSpace]) -> float:
    total = 0.0
    for col, new in changes.items():
        space = spaces[col]
        if space.numeric:
            old = pd.to_numeric(pd.Series([row[col]]), errors="coerce").iloc[0]
            old = space.low if pd.isna(old) else float(old)
            total += abs(float(new) - old) / space.scale
        else:
            total += 1.0
    return total


def _apply(row: pd.DataFrame, states: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.concat([row] * len(states), ignore_index=True) if states else row.iloc[:0]
    for col in {c for s in states for c in s}:
        if col in frame.columns:
            frame[col] = frame[col].astype(object)
    for i, state in enumerate(states):
        for col, value in state.items():
            frame.at[i, col] = value
    return frame


def find_table_counterfactual(predictor: Any, row: pd.DataFrame, train: pd.DataFrame, target: float,
                              direction: str | None = None, editable: list[str] | None = None,
                              max_changes: int = 3, beam: int = 12, solutions: int = 3,
                              grid: int = GRID) -> TableCounterfactual:
    """The closest edits of ``editable`` features (all input columns when None) that move the
    prediction of ``row`` (a one-row frame of the run's input columns) past ``target``."""
    start = time.perf_counter()
    prep = predictor.prep
    columns = list(prep.input_columns)
    editable = list(columns if editable is None else editable)
    unknown = [c for c in editable if c not in columns]
    if unknown:
        raise LoupeError(f"Column {unknown[0]!r} is not one of the model's inputs.",
                         f"mark columns among: {', '.join(columns)}.")
    if not editable:
        raise LoupeError("No column may change, so no counterfactual can exist.",
                         "mark at least one column as editable.")
    row = row[columns].reset_index(drop=True)
    model = _Model(predictor)
    base = float(model(row)[0])
    direction = direction or ("above" if target >= base else "below")
    if direction not in DIRECTIONS:
        raise LoupeError(f"Unknown direction {direction!r}.", "use above or below.")
    sign = 1.0 if direction == "above" else -1.0

    def reached(pred: np.ndarray) -> np.ndarray:
        return sign * (pred - target) >= 0

    spaces = feature_spaces(train, prep, grid)
    notices: list[str] = []
    if reached(np.array([base]))[0]:
        notices.append(f"The prediction ({base:.6g}) is already {direction} {target:.6g}: no change needed.")
        return TableCounterfactual(True, target, direction, base, editable,
                                   [{"changes": [], "prediction": base, "distance": 0.0}],
                                   model.calls, model.evals, time.perf_counter() - start, notices)
    current = row.iloc[0]
    found: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = [{}]
    for _depth in range(max(1, int(max_changes))):
        candidates = [{**s, col: v} for s in states for col in editable if col not in s
                      for v in spaces[col].values if not _same(current[col], v)]
        if not candidates:
            break
        preds = model(_apply(row, candidates))
        dists = np.array([_distance(current, c, spaces) for c in candidates])
        hit = reached(preds)
        found += [{"state": candidates[i], "prediction": float(preds[i]), "distance": float(dists[i])}
                  for i in np.flatnonzero(hit)]
        if found:
            break
        progress = sign * (preds - base) / (dists + 1e-9)
        order = [i for i in np.argsort(-progress) if sign * (preds[i] - base) > 0]
        states = _unique([candidates[i] for i in order])[:beam]
        if not states:
            break
    picked = _refine(_distinct(found, solutions), row, current, spaces, model, reached)
    if not picked:
        notices.append(f"No change of up to {max_changes} of the editable columns within their training "
                       f"ranges moves the prediction {direction} {target:.6g}.")
    from core.privacy import mask_text

    def shown(value: Any) -> Any:
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            return float(value)
        return None if pd.isna(value) else mask_text(str(value))

    out = [{"changes": [{"column": col, "original": shown(current[col]), "new": shown(v)}
                        for col, v in p["state"].items()],
            "prediction": p["prediction"], "distance": p["distance"]} for p in picked]
    return TableCounterfactual(bool(out), float(target), direction, base, editable, out, model.calls,
                               model.evals, time.perf_counter() - start, notices)


def _refine(picked: list[dict[str, Any]], row: pd.DataFrame, current: pd.Series,
            spaces: dict[str, FeatureSpace], model: _Model, reached: Any) -> list[dict[str, Any]]:
    """Pull each numeric change back toward the original value as far as the target still holds."""
    out = []
    for p in picked:
        state = dict(p["state"])
        for col in [c for c in state if spaces[c].numeric]:
            old = pd.to_numeric(pd.Series([current[col]]), errors="coerce").iloc[0]
            if pd.isna(old):
                continue
            steps = np.linspace(float(old), float(state[col]), 21)[1:]
            if spaces[col].integer:
                steps = np.unique(np.round(steps))
            trials = [{**state, col: float(v)} for v in steps]
            ok = np.flatnonzero(reached(model(_apply(row, trials))))
            if len(ok):
                state = trials[int(ok[0])]
        pred = float(model(_apply(row, [state]))[0])
        if reached(np.array([pred]))[0]:
            out.append({"state": state, "prediction": pred, "distance": _distance(current, state, spaces)})
    return sorted(out, key=lambda p: (len(p["state"]), p["distance"]))


def _same(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def _unique(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for s in states:
        key = tuple(sorted((k, str(v)) for k, v in s.items()))
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def _distinct(found: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The closest solutions, one per set of changed columns."""
    seen, out = set(), []
    for f in sorted(found, key=lambda f: f["distance"]):
        key = tuple(sorted(f["state"]))
        if key not in seen:
            seen.add(key)
            out.append(f)
        if len(out) == count:
            break
    return out


@dataclass
class EffectCurves:
    """ICE lines of a few rows and partial dependence over a whole split, for one feature."""

    feature: str
    grid: list[Any]
    partial_dependence: np.ndarray  # (grid,) mean prediction over all rows
    ice: np.ndarray  # (ice rows, grid)
    ice_rows: list[int]  # positions of the ICE rows in the split
    rows: int  # rows averaged
    numeric: bool

    def frame(self) -> pd.DataFrame:
        """Grid values (categories masked), partial dependence and one column per ICE row."""
        from core.privacy import mask_text

        grid = self.grid if self.numeric else [mask_text(str(v)) for v in self.grid]
        data = {"value": grid, "partial_dependence": self.partial_dependence}
        for i, r in enumerate(self.ice_rows):
            data[f"row_{r}"] = self.ice[i]
        return pd.DataFrame(data)


def grid_outputs(predictor: Any, rows: pd.DataFrame, feature: str, grid: list[Any]) -> np.ndarray:
    """Model output of every row with ``feature`` set to each grid value: (rows, grid), one batch."""
    n, g = len(rows), len(grid)
    frame = pd.concat([rows] * g, ignore_index=True)
    frame[feature] = np.repeat(np.asarray(grid, dtype=object), n)
    if all(isinstance(v, (int, float)) for v in grid):
        frame[feature] = frame[feature].astype(float)
    pred = predictor.predict(frame)["prediction"].to_numpy(dtype=float)
    return pred.reshape(g, n).T


def effect_curves(predictor: Any, rows: pd.DataFrame, train: pd.DataFrame, feature: str,
                  grid: int = 25, ice_rows: int = 8, seed: int = 0,
                  outputs: np.ndarray | None = None) -> EffectCurves:
    """Partial dependence of ``feature`` over every row of ``rows`` and ICE lines of a sample."""
    prep = predictor.prep
    if feature not in prep.input_columns:
        raise LoupeError(f"{feature!r} is not one of the model's inputs.",
                         f"pick one of: {', '.join(prep.input_columns)}.")
    if rows.empty:
        raise LoupeError("There are no rows to average over.", "use a split with rows.")
    space = feature_spaces(train, prep, grid)[feature]
    values = space.values
    if outputs is None:
        outputs = grid_outputs(predictor, rows[prep.input_columns], feature, values)
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(rows), min(ice_rows, len(rows)), replace=False).tolist())
    return EffectCurves(feature, values, outputs.mean(axis=0), outputs[picked], picked, len(rows),
                        space.numeric)
