"""Error slices of a labelled batch (issue 19 item 5, for files): where the model does worst.

For each of the user's columns, the scored rows are cut into slices — a category value (few
distinct values), a quarter of a numeric column, a quarter of the text length in words (long
texts), and for classification the true class — and each slice of at least ``MIN_ROWS`` rows gets
the batch's headline metric (accuracy, or RMSE for regression). Those worse than the whole batch
are kept, worst first. Slice values are masked in their column's context with the keyed hash
before they leave (``mask_frame`` on the column), so a category of a ``last_name`` column never
shows as plain text and two masked values stay two slices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.batch_eval import TRUTH_ATTR, BatchEvaluation, label_texts, prediction_column

MIN_ROWS = 5  # a slice smaller than this says more about chance than about the model
MAX_CATEGORIES = 20  # a column with more distinct values is not sliced by value
LONG_TEXT_WORDS = 5  # a column whose values average more words is sliced by length
BINS = 4


@dataclass
class Slice:
    column: str  # masked like every message
    value: str  # masked category, "12–30 words", "[1.5, 3.2)"; shown as is
    rows: int
    metric: float
    gap: float  # metric minus the whole batch's: negative is worse for accuracy, positive for RMSE


def error_slices(result: pd.DataFrame, evaluation: BatchEvaluation, limit: int = 12) -> list[Slice]:
    """The slices of ``result`` (the batch ``evaluation`` scored) where the model does worse than
    on all rows, worst first; the model's own output columns are not data and are not cut."""
    truth_col = str(result.attrs.get(TRUTH_ATTR))
    predicted = prediction_column(result)
    skip = {predicted, *result.attrs.get("prediction_columns", [])}
    frame = result.reset_index(drop=True)
    per_row = _per_row(frame[truth_col], frame[predicted], evaluation)  # NaN: not scored
    scored = ~np.isnan(per_row)
    if scored.sum() < 2 * MIN_ROWS:
        return []
    frame, per_row = frame[scored], per_row[scored]
    overall = _metric(per_row, evaluation)
    out: list[Slice] = []
    for column in frame.columns:
        if str(column) in skip or (str(column) == truth_col and evaluation.task != "classification"):
            continue
        for value, mask in _cuts(frame[column]):
            if MIN_ROWS <= mask.sum() < len(frame):
                metric = _metric(per_row[mask.to_numpy()], evaluation)
                out.append(Slice(_shown(str(column)), value, int(mask.sum()), metric, metric - overall))
    worse = (lambda s: s.gap) if evaluation.task == "classification" else (lambda s: -s.gap)
    return sorted((s for s in out if worse(s) < 0), key=worse)[:limit]


def _per_row(truth: pd.Series, pred: pd.Series, evaluation: BatchEvaluation) -> np.ndarray:
    """Per row: 1/0 for right/wrong (classification) or the squared error (regression); NaN
    where the row is not scored (no usable label or prediction)."""
    if evaluation.task == "classification":
        text = label_texts(truth, evaluation.labels)
        usable = text.isin(evaluation.labels) & pred.notna()
        return np.where(usable, (text == pred.astype(str)).to_numpy(float), np.nan)
    diff = pd.to_numeric(pred, errors="coerce") - pd.to_numeric(truth, errors="coerce")
    return diff.to_numpy(float) ** 2


def _metric(values: np.ndarray, evaluation: BatchEvaluation) -> float:
    return float(values.mean()) if evaluation.task == "classification" else float(np.sqrt(values.mean()))


def _cuts(series: pd.Series) -> list[tuple[str, pd.Series]]:
    """(shown value, row mask) per slice of one column; [] for a column that does not slice."""
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.notna().mean() >= 0.9 and numbers.nunique() > MAX_CATEGORIES:
        bins = pd.qcut(numbers, BINS, duplicates="drop")
        return [(_shown(f"{interval.left:.4g} to {interval.right:.4g}"), bins == interval)
                for interval in bins.cat.categories]
    text = series.astype("string")
    words = text.str.split().str.len().fillna(0)
    if text.nunique() > MAX_CATEGORIES and words.mean() > LONG_TEXT_WORDS:
        bins = pd.qcut(words, BINS, duplicates="drop")
        return [(f"{int(np.floor(iv.left)) + 1}–{int(iv.right)} words", bins == iv)
                for iv in bins.cat.categories]
    if text.nunique() > MAX_CATEGORIES:
        return []
    values = text.fillna("(missing)")
    distinct = sorted(values.unique())
    shown = _masked_values(str(series.name), distinct)
    return [(shown[i], values == value) for i, value in enumerate(distinct)]


def _shown(text: str) -> str:
    from core.output import mask_message

    return mask_message(text)


def _masked_values(column: str, values: list[str]) -> list[str]:
    """Category values masked in their column's context with the keyed hash (as exports mask
    categories), so two masked values stay two slices."""
    from core.output import mask_message
    from core.privacy import mask_frame

    masked = mask_frame(pd.DataFrame({column: values}), operator="hash")  # two names stay two
    cells = masked[column].astype(str).tolist() if column in masked else ["(masked)"] * len(values)
    return [mask_message(v) for v in cells]
