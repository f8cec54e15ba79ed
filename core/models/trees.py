"""Gradient-boosted trees for tables (LightGBM), fitted in one go instead of by the epoch loop.

Why LightGBM: one wheel per Python with native categorical and missing-value handling, early
stopping on the validation split, exact TreeSHAP (``pred_contrib=True``) and a plain-text model
format (``Booster.save_model`` / ``Booster(model_file=...)``) that loads without unpickling.

The trees read the ORIGINAL columns, not the MLP's encoding: numbers as they are (empty, NaN
and infinite cells stay missing, LightGBM routes them down a learned branch) and each category
as an integer code (missing or unseen in training: missing). ``TreeColumns`` holds that mapping
and the target transform; it is stored as ``tree_columns.json`` beside ``booster.txt``.

Skewed positive targets (house prices, incomes) are also fitted on a log scale; the log fit is
kept only when it predicts the validation split better on the ORIGINAL scale.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.datasets.tabular_prep import skewed_positive
from core.models.tree_columns import TREE_COLUMNS_FILE, TreeColumns

BOOSTER_FILE = "booster.txt"  # LightGBM text model (contract with the ONNX export)
MAX_ROUNDS = 2000
EARLY_STOP = 50


def _params(n_train: int, seed: int, device: str) -> dict[str, Any]:
    return {"objective": "regression", "learning_rate": 0.05, "num_leaves": 31,
            "min_data_in_leaf": int(max(2, min(20, n_train // 20))), "feature_fraction": 0.9,
            "bagging_fraction": 0.9, "bagging_freq": 1, "seed": seed, "deterministic": True,
            "verbosity": -1, "device_type": device, "max_cat_to_onehot": 8}


def gpu_device(runtime_device: str) -> str:
    """'gpu' (LightGBM's OpenCL learner, which the Linux wheels include) when the run may use a
    GPU (device auto or cuda), there is one and an OpenCL driver answers; else 'cpu'. The wheel's
    'cuda' learner is not compiled in ("recompile with -DUSE_CUDA=1"), so it is not tried."""
    import torch

    if runtime_device == "cpu" or not torch.cuda.is_available():
        return "cpu"
    import lightgbm as lgb

    try:
        probe = lgb.Dataset(np.arange(200, dtype=float).reshape(100, 2), label=np.arange(100.0))
        lgb.train({"device_type": "gpu", "verbosity": -1, "num_leaves": 4}, probe, num_boost_round=1)
        return "gpu"
    except Exception:  # noqa: BLE001  (no OpenCL driver, no GPU build: the CPU trees are fine)
        return "cpu"


@dataclass
class TreeFit:
    booster: Any  # lightgbm.Booster
    columns: TreeColumns
    history: dict[str, list[float]]  # per boosting round: train_rmse / val_rmse (fitted scale)
    seconds: float
    device: str
    transform_trial: dict[str, float] = field(default_factory=dict)  # val RMSE per target scale


def _fit_once(columns: TreeColumns, x: dict[str, np.ndarray], y: dict[str, np.ndarray],
              seed: int, device: str) -> tuple[Any, dict[str, list[float]]]:
    import lightgbm as lgb

    cat = columns.categorical_indices
    train = lgb.Dataset(x["train"], label=columns.forward_target(y["train"]),
                        categorical_feature=cat, free_raw_data=False)
    val = lgb.Dataset(x["val"], label=columns.forward_target(y["val"]), reference=train,
                      categorical_feature=cat, free_raw_data=False)
    evals: dict[str, Any] = {}
    booster = lgb.train({**_params(len(y["train"]), seed, device), "metric": "rmse"}, train,
                        num_boost_round=MAX_ROUNDS, valid_sets=[train, val],
                        valid_names=["train", "val"],
                        callbacks=[lgb.early_stopping(EARLY_STOP, verbose=False),
                                   lgb.record_evaluation(evals)])
    history = {f"{split}_rmse": list(evals[split]["rmse"]) for split in ("train", "val")}
    return booster, history


def fit_trees(columns: TreeColumns, frames: dict[str, pd.DataFrame], seed: int = 0,
              device: str = "cpu") -> TreeFit:
    """Fit with early stopping on the validation split; try a log target when it is skewed and
    positive, keeping whichever scale gives the lower validation RMSE in target units."""
    started = time.perf_counter()
    x = {s: columns.transform(frames[s]) for s in ("train", "val")}
    y = {s: frames[s][columns.target].to_numpy(dtype=np.float64) for s in ("train", "val")}
    scales = ["none", "log1p"] if skewed_positive(y["train"]) and y["val"].min() > -1 else ["none"]
    best, trial = None, {}
    for scale in scales:
        cols = TreeColumns(**{**columns.to_dict(), "target_transform": scale})
        booster, history = _fit_once(cols, x, y, seed, device)
        pred = cols.inverse_target(booster.predict(x["val"], num_iteration=booster.best_iteration))
        trial[scale] = float(np.sqrt(np.mean((pred - y["val"]) ** 2)))
        if best is None or trial[scale] < trial[best[0]]:
            best = (scale, booster, history, cols)
    _, booster, history, cols = best
    return TreeFit(booster, cols, history, time.perf_counter() - started, device,
                   trial if len(trial) > 1 else {})


class TreeModel(nn.Module):
    """A fitted booster behind the ``nn.Module`` face the generic loop evaluates with.

    ``forward`` takes the tree features (``TreeColumns.transform``) and returns predictions in
    target units as a float tensor; it has no parameters and is never trained by gradients."""

    def __init__(self, booster: Any, columns: TreeColumns) -> None:
        super().__init__()
        self.booster, self.columns = booster, columns

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        """Predictions in target units (the log fit is undone)."""
        if len(x) == 0:
            return np.zeros(0)
        return self.columns.inverse_target(self.booster.predict(np.asarray(x, dtype=np.float64),
                                                                 num_threads=1))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Exact TreeSHAP on the fitted scale: (rows, columns + 1), the last column the base."""
        return np.asarray(self.booster.predict(np.asarray(x, dtype=np.float64), pred_contrib=True,
                                               num_threads=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.predict_raw(x.detach().cpu().double().numpy())
        return torch.as_tensor(out, dtype=torch.float32)

    def save(self, out_dir: Path) -> None:
        self.booster.save_model(str(out_dir / BOOSTER_FILE), num_iteration=self.booster.best_iteration
                                or None)
        (out_dir / TREE_COLUMNS_FILE).write_text(json.dumps(self.columns.to_dict(), indent=2))

    @classmethod
    def load(cls, folder: Path) -> TreeModel:
        """From the text model and the JSON columns only: nothing is unpickled."""
        import lightgbm as lgb

        columns = TreeColumns.from_dict(json.loads((folder / TREE_COLUMNS_FILE).read_text()))
        return cls(lgb.Booster(model_file=str(folder / BOOSTER_FILE)), columns)
