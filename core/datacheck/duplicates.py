"""Exact and near duplicates, and the ones that straddle train and validation/test (leakage: a
held-out score that counts rows the model has seen).

Exact: equal ``key`` (a kind's hash of the normalised text, the image's pixels or the table row).
Near: cosine similarity of the embeddings at or above ``threshold``, compared in blocks, so the
memory stays (block x examples) however many examples there are."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.datacheck.inputs import CheckInputs

EXACT = "exact duplicate"
NEAR = "near duplicate"
LEAK = "leakage"
NEAR_THRESHOLD = 0.98
BLOCK = 1024


def _where(frame: pd.DataFrame, i: int) -> str:
    return f"{frame['split'].iloc[i]} {frame['row'].iloc[i]}"


def duplicate_pairs(inputs: CheckInputs, threshold: float = NEAR_THRESHOLD) -> list[tuple[int, int, str]]:
    """(earlier, later, EXACT or NEAR) for every later example that repeats an earlier one; an
    example repeating several is paired with the first."""
    frame = inputs.frame
    pairs: dict[int, tuple[int, str]] = {}
    first: dict[str, int] = {}
    for i, key in enumerate(frame["key"].tolist()):
        if key in first:
            pairs[i] = (first[key], EXACT)
        else:
            first[key] = i
    if inputs.near_duplicates and len(frame) > 1:
        x = np.asarray(inputs.features, dtype=np.float32)
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        keys = frame["key"].to_numpy()
        for start in range(0, len(x), BLOCK):
            sims = x[start:start + BLOCK] @ x.T
            for r in range(sims.shape[0]):
                i = start + r
                if i in pairs:
                    continue
                hits = np.flatnonzero(sims[r, :i] >= threshold)
                hits = [j for j in hits if keys[j] != keys[i]]
                if hits:
                    pairs[i] = (int(hits[0]), NEAR)
    return [(j, i, how) for i, (j, how) in sorted(pairs.items())]


def duplicate_issues(inputs: CheckInputs, threshold: float = NEAR_THRESHOLD) -> pd.DataFrame:
    """One row per repeated example: ``issue`` (EXACT, NEAR or LEAK when the two are in train and
    a held-out split), ``score`` (1 for exact, the similarity for near), ``reason``."""
    frame = inputs.frame
    x = np.asarray(inputs.features, dtype=np.float32)
    rows = []
    for j, i, how in duplicate_pairs(inputs, threshold):
        splits = {frame["split"].iloc[j], frame["split"].iloc[i]}
        leak = "train" in splits and len(splits) == 2
        if how == EXACT:
            score, what = 1.0, "the same as"
        else:
            score = float(x[i] @ x[j] / max(np.linalg.norm(x[i]) * np.linalg.norm(x[j]), 1e-12))
            what = f"{score:.1%} similar to"
        reason = f"{what} {_where(frame, j)}"
        if leak:
            reason += ": a held-out score counts an example the model trained on"
        rows.append({"index": i, "issue": LEAK if leak else how, "score": score,
                     "reason": reason, "duplicate_of": _where(frame, j)})
    return pd.DataFrame(rows, columns=["index", "issue", "score", "reason", "duplicate_of"])
