"""Label issues: out-of-fold class probabilities from a cheap model on the examples' features
(K-fold logistic regression), ranked by cleanlab.

Why out of fold: a model that saw a row's (wrong) label predicts that label back; cleanlab needs
probabilities from a model that did not (cleanlab's own advice). The features are a frozen
backbone's embeddings (text, images) or the encoded table, so the K fits take seconds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.datacheck.inputs import CheckInputs
from core.output import mask_label

LABEL_ISSUE = "label issue"


def out_of_fold_probs(features: np.ndarray, labels: np.ndarray, n_classes: int, folds: int = 5,
                      seed: int = 0) -> np.ndarray:
    """(examples, classes) probabilities, each row from a model fitted without it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    counts = np.bincount(labels, minlength=n_classes)
    k = int(max(2, min(folds, counts[counts > 0].min())))
    probs = np.full((len(labels), n_classes), 1.0 / n_classes)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for fit_idx, held_idx in splitter.split(features, labels):
        present = np.unique(labels[fit_idx])
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.5))
        model.fit(features[fit_idx], labels[fit_idx])
        probs[np.ix_(held_idx, present)] = model.predict_proba(features[held_idx])
        if len(present) < n_classes:  # a class absent from this fold's fit gets no mass
            probs[held_idx] /= probs[held_idx].sum(axis=1, keepdims=True)
    return probs


def label_issues(inputs: CheckInputs, folds: int = 5, seed: int = 0,
                 probs: np.ndarray | None = None) -> pd.DataFrame:
    """One row per flagged example: ``index`` (into ``inputs.frame``), ``score`` (1 - cleanlab's
    label quality: near 1, surely wrong), ``given``, ``suggested``, ``reason`` in plain words.
    ``probs``: out-of-fold probabilities computed elsewhere (the fine-tuned check); by default a
    logistic regression on ``inputs.features``, fold by fold."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    labels = np.asarray(inputs.labels, dtype=int)
    names = [mask_label(n) for n in (inputs.label_names or [])]
    if len(np.unique(labels)) < 2 or len(labels) < 10:
        return pd.DataFrame(columns=["index", "score", "given", "suggested", "reason"])
    if probs is None:
        probs = out_of_fold_probs(inputs.features, labels, len(names), folds, seed)
    quality = get_label_quality_scores(labels, probs)
    flagged = np.flatnonzero(find_label_issues(labels, probs, filter_by="prune_by_noise_rate"))
    rows = []
    for i in flagged:
        best = int(probs[i].argmax())
        if best == labels[i]:
            continue  # cleanlab's noise-rate pruning can keep a row the model agrees with
        rows.append({"index": int(i), "score": float(1 - quality[i]), "given": names[labels[i]],
                     "suggested": names[best],
                     "reason": f"labelled {names[labels[i]]}; a model that never saw this row is "
                               f"{probs[i, best]:.0%} sure it is {names[best]}"})
    return pd.DataFrame(rows, columns=["index", "score", "given", "suggested", "reason"])
