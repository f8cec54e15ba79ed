"""How a model did on a labelled batch: the Predict page's "A file of inputs" and `loupe predict --data`.

A predictor's ``predict_file`` names the column that holds the truth (``TRUTH_ATTR`` in the
result's ``attrs``): a text file's label column, a table's target column, or the class folder of
images in a class-folder tree. ``evaluate_batch`` scores the predictions against it, before the
result is masked for display:
- classification (the model has class labels): accuracy, macro-F1 and the confusion matrix over
  the rows whose truth is one of the model's classes; other rows are counted and named;
- regression: RMSE, MAE and R² over the rows whose truth is a number, with the points for the
  predicted-vs-true and residual plots.
A file without such a column gives None: predictions only, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.evaluate import regression_metrics

TRUTH_ATTR = "truth_column"  # result.attrs key: the column with the true label or target
RENAMED_ATTR = "renamed"  # result.attrs key: prediction column -> its name in the result
MAX_POINTS = 5000  # regression points kept for the plots


@dataclass
class BatchEvaluation:
    task: str  # "classification" or "regression"
    truth_column: str
    rows: int  # rows scored
    skipped: int  # rows without a usable truth or prediction
    metrics: dict[str, float]
    labels: list[str] = field(default_factory=list)  # classification: the model's classes
    matrix: list[list[int]] = field(default_factory=list)  # true (rows) x predicted (columns)
    true: list[float] = field(default_factory=list)  # regression: points for the plots
    pred: list[float] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    slices: list[Any] = field(default_factory=list)  # core.batch_slices.Slice, worst first

    def summary(self) -> str:
        """One line: '120 labelled rows (column 'label'): accuracy 0.93, macro-F1 0.91'."""
        from core.plots import format_number

        names = {"accuracy": "accuracy", "macro_f1": "macro-F1", "rmse": "RMSE", "mae": "MAE", "r2": "R²"}
        shown = ", ".join(f"{names[k]} {format_number(v)}" for k, v in self.metrics.items() if k in names)
        return f"{self.rows:,} labelled rows (column '{self.truth_column}'): {shown}"


def prediction_column(result: pd.DataFrame) -> str:
    """The name of the predicted class or value column in ``result`` (renamed on a clash)."""
    return str(result.attrs.get(RENAMED_ATTR, {}).get("prediction", "prediction"))


def evaluate_batch(result: pd.DataFrame, labels: Sequence[str] | None = None) -> BatchEvaluation | None:
    """Scores of ``result``'s predictions against its truth column, or None when it has none.
    ``labels``: the model's classes (classification); None or empty for a regression model."""
    column = result.attrs.get(TRUTH_ATTR)
    predicted = prediction_column(result)
    if not column or column not in result.columns or predicted not in result.columns:
        return None
    truth, pred = result[column], result[predicted]
    if labels:
        evaluation = _classification(str(column), truth, pred, [str(x) for x in labels])
    else:
        evaluation = _regression(str(column), truth, pred)
    if evaluation is not None:
        from core.batch_slices import error_slices

        evaluation.slices = error_slices(result, evaluation)
    return evaluation


def _classification(column: str, truth: pd.Series, pred: pd.Series,
                    labels: list[str]) -> BatchEvaluation | None:
    from sklearn.metrics import f1_score

    known = {label: i for i, label in enumerate(labels)}
    true_text = label_texts(truth, labels)
    usable = true_text.isin(list(known)) & pred.notna()
    if not usable.any():
        return None  # e.g. a column that only shares the label column's name
    unknown = true_text.notna() & ~true_text.isin(list(known))
    t = true_text[usable].map(known).to_numpy(dtype=int)
    p = pred[usable].astype(str).map(known).fillna(-1).to_numpy(dtype=int)
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for a, b in zip(t, p, strict=True):
        if b >= 0:
            matrix[a, b] += 1
    metrics = {"accuracy": float((t == p).mean()),
               "macro_f1": float(f1_score(t, p, labels=list(range(len(labels))), average="macro",
                                          zero_division=0))}
    notices = []
    if unknown.any():
        examples = ", ".join(f"'{v}'" for v in true_text[unknown].drop_duplicates().head(3))
        notices.append(f"{int(unknown.sum()):,} rows have a label the model does not know ({examples}); "
                       f"they are not scored. The model's classes: {', '.join(labels)}.")
    return BatchEvaluation("classification", column, int(usable.sum()), int((~usable).sum()), metrics,
                           labels=labels, matrix=matrix.tolist(), notices=notices)


def label_texts(truth: pd.Series, labels: Sequence[str]) -> pd.Series:
    """Each label cell as text matching the model's class names (None where missing)."""
    known = {str(label) for label in labels}
    return truth.map(lambda v: None if _missing(v) else _label_text(v, known))


def _label_text(value: Any, known: set[str] | dict[str, int]) -> str:
    """A label cell as the model's class name: ``1`` and ``1.0`` both match a class ``'1'``."""
    text = str(value).strip()
    if text not in known and isinstance(value, (float, np.floating)) and float(value).is_integer():
        text = str(int(value))
    return text


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""


def _regression(column: str, truth: pd.Series, pred: pd.Series) -> BatchEvaluation | None:
    true = pd.to_numeric(truth, errors="coerce")
    guess = pd.to_numeric(pred, errors="coerce")
    usable = true.notna() & guess.notna() & np.isfinite(true) & np.isfinite(guess)
    if not usable.any():
        return None
    t, p = true[usable].to_numpy(dtype=float), guess[usable].to_numpy(dtype=float)
    notices = []
    bad = int((truth.notna() & true.isna()).sum())
    if bad:
        notices.append(f"{bad:,} rows of '{column}' are not numbers; they are not scored.")
    step = max(1, len(t) // MAX_POINTS)
    return BatchEvaluation("regression", column, len(t), int((~usable).sum()), regression_metrics(p, t),
                           true=t[::step].tolist(), pred=p[::step].tolist(), notices=notices)


def batch_figures(evaluation: BatchEvaluation, what: str = "file") -> list[Any]:
    """The plots for ``evaluation``: the confusion matrix, or predicted-vs-true and residuals.
    Class labels are masked as every label Loupe shows (``class_metric_name``). ``what``: what
    was scored, for the titles ("file", "test split")."""
    from core.evaluate import class_metric_name
    from core.plots import confusion_figure, predicted_vs_true_figure, residual_figure

    if evaluation.task == "classification":
        names = [class_metric_name(label) for label in evaluation.labels]
        return [confusion_figure(names, evaluation.matrix, title=f"Confusion matrix of this {what}")]
    true, pred = evaluation.true, evaluation.pred
    return [predicted_vs_true_figure(true, pred, title=f"Predicted vs true (this {what})"),
            residual_figure(true, pred, title=f"Residuals (this {what})")]


def slices_figure(evaluation: BatchEvaluation) -> Any:
    """The headline metric per slice, worst on top, beside the whole file's value. Slice names
    are already masked (``core.batch_slices``)."""
    from core.plots import slice_bars_figure

    metric = "accuracy" if evaluation.task == "classification" else "rmse"
    return slice_bars_figure([f"{s.column} = {s.value}" for s in evaluation.slices],
                             [s.metric for s in evaluation.slices], [s.rows for s in evaluation.slices],
                             evaluation.metrics[metric], {"accuracy": "Accuracy", "rmse": "RMSE"}[metric])
