"""Metrics per kind: regression (RMSE/MAE/R²/residuals) and classification (accuracy/F1/ROC)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def regression_metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    pred, true = np.asarray(pred, dtype=float), np.asarray(true, dtype=float)
    err = pred - true
    ss_res = float(np.sum(err**2))
    ss_tot = float(np.sum((true - true.mean()) ** 2)) if len(true) else 0.0
    return {
        "rmse": float(np.sqrt(np.mean(err**2))) if len(err) else float("nan"),
        "mae": float(np.mean(np.abs(err))) if len(err) else float("nan"),
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
    }


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def class_metric_name(label: object) -> str:
    """A class label as it appears in metric names (``precision_<name>``), in the store, the
    history, exports and every display: masked with the keyed hash (``<EMAIL:1f0c…>``), so a
    label that is personal data never reaches DuckDB and two such labels stay two metrics; a
    clean label (``positive``) is unchanged."""
    from core.output import mask_label

    return mask_label(str(label))


def classification_metrics(
    logits: np.ndarray, true: np.ndarray, labels: Sequence[str], top_k: int | None = None
) -> dict[str, float]:
    """Accuracy, macro-F1, per-class precision/recall/F1, ROC-AUC (binary), top-k (many classes)."""
    from sklearn.metrics import precision_recall_fscore_support, roc_auc_score

    true = np.asarray(true).astype(int)
    probs = softmax(np.asarray(logits, dtype=float))
    pred = probs.argmax(axis=1)
    classes = list(range(len(labels)))
    precision, recall, f1, _ = precision_recall_fscore_support(
        true, pred, labels=classes, zero_division=0
    )
    out = {"accuracy": float((pred == true).mean()) if len(true) else float("nan"),
           "macro_f1": float(np.mean(f1))}
    for i, label in enumerate(labels):
        name = class_metric_name(label)
        out[f"precision_{name}"] = float(precision[i])
        out[f"recall_{name}"] = float(recall[i])
        out[f"f1_{name}"] = float(f1[i])
    if len(labels) == 2 and len(np.unique(true)) == 2:
        out["roc_auc"] = float(roc_auc_score(true, probs[:, 1]))
    if top_k is None and len(labels) > 5:
        top_k = 3
    if top_k:
        top = np.argsort(-probs, axis=1)[:, :top_k]
        out[f"top{top_k}_accuracy"] = float((top == true[:, None]).any(axis=1).mean())
    return out


def confusion(true: np.ndarray, pred: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    n = len(labels)
    matrix = np.zeros((n, n), dtype=int)
    np.add.at(matrix, (np.asarray(true, dtype=int), np.asarray(pred, dtype=int)), 1)
    return {"labels": list(labels), "matrix": matrix.tolist()}


def per_class_table(
    metrics: dict[str, float], labels: Sequence[str], true: np.ndarray
) -> list[dict[str, Any]]:
    support = np.bincount(np.asarray(true, dtype=int), minlength=len(labels))
    return [
        {"label": label, "precision": metrics[f"precision_{class_metric_name(label)}"],
         "recall": metrics[f"recall_{class_metric_name(label)}"],
         "f1": metrics[f"f1_{class_metric_name(label)}"], "support": int(support[i])}
        for i, label in enumerate(labels)
    ]


def downsample_indices(n: int, limit: int = 5000, seed: int = 0) -> np.ndarray:
    """At most ``limit`` sorted indices out of ``n`` (for plots of predictions/residuals)."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))
