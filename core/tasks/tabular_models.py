"""The tabular model choices (``model.name``): auto, trees, mlp — and how a run picks one.

- ``trees``: LightGBM gradient-boosted trees (``core.models.trees``), fitted in one go with early
  stopping on the validation split (``Task.fit_directly``; the epoch loop is skipped).
- ``mlp``: the network trained by the epoch loop.
- ``auto`` (the default for a new table): the trees are fitted first (seconds), then the network
  is trained; whichever predicts the validation split better (RMSE) becomes the run's model, and
  the report says which and why (``report["model_choice"]``).

Both models sit in one ``TabularModel`` so the generic loop can train the network's parameters,
evaluate the network for early stopping, and, once the choice is made, evaluate the winner.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.datasets.tabular_prep import Preprocessor
from core.errors import LoupeError
from core.models.mlp import MLP
from core.models.trees import TreeColumns, TreeFit, TreeModel, fit_trees

MODEL_CHOICES = {
    "auto": "fit both and keep whichever predicts the validation split better",
    "trees": "gradient-boosted trees (LightGBM): fast, strong on tables, exact SHAP",
    "mlp": "a multilayer perceptron over the encoded columns",
}
CHOICE_FILE = "config.json"  # holds "architecture": the model that predicts


def model_choice(name: str) -> str:
    """The tabular model a config asks for ('' means auto); LoupeError for anything else."""
    choice = (name or "auto").strip().lower()
    if choice not in MODEL_CHOICES:
        from core.output import mask_message

        raise LoupeError(f"Unknown tabular model {mask_message(repr(name))}.",
                         f"use one of {', '.join(MODEL_CHOICES)} (auto picks the validation winner).")
    return choice


class TabularModel(nn.Module):
    """The network, the trees, or both (auto). ``forward`` returns predictions on the scaled
    target (what the loop's loss and ``Task.metrics`` expect) from whichever model predicts."""

    def __init__(self, mlp: MLP | None, tree: TreeModel | None, prep: Preprocessor,
                 fit: TreeFit | None = None) -> None:
        super().__init__()
        self.mlp, self.tree, self.fit, self.prep = mlp, tree, fit, prep
        self.use_tree = mlp is None
        self.choice: dict[str, Any] = {}

    def unchanging_parts(self) -> list[Any]:
        """What a snapshot may share instead of copying (``core.checkpoint_writer.cpu_copy``):
        the fitted booster, which training the network never changes."""
        return [part.booster for part in (self.tree, self.fit) if part is not None]

    def forward(self, features: torch.Tensor, tree_features: torch.Tensor) -> torch.Tensor:
        if self.use_tree:
            pred = self.tree(tree_features).cpu().numpy()  # target units
            return torch.from_numpy(self.prep.scale_target(pred)).to(features.device)
        return self.mlp(features)

    def mlp_val_rmse(self, val: Any) -> float:
        """Validation RMSE of the network in target units (the auto choice compares it)."""
        features, _, labels = val.tensors
        device = next(self.mlp.parameters()).device
        was_training = self.mlp.training
        self.mlp.eval()
        with torch.no_grad():
            pred = self.mlp(features.to(device)).float().cpu().numpy()
        self.mlp.train(was_training)
        diff = self.prep.unscale_target(pred) - self.prep.unscale_target(labels.numpy())
        return float(np.sqrt(np.mean(diff ** 2)))


def fit_tree_model(columns: TreeColumns, raw: dict[str, pd.DataFrame], seed: int,
                   device: str) -> TreeFit:
    return fit_trees(columns, raw, seed=seed, device=device)


def tree_val_rmse(fit: TreeFit, raw: dict[str, pd.DataFrame]) -> float:
    model = TreeModel(fit.booster, fit.columns)
    pred = model.predict_raw(fit.columns.transform(raw["val"]))
    true = raw["val"][fit.columns.target].to_numpy(dtype=float)
    return float(np.sqrt(np.mean((pred - true) ** 2)))


def decide(model: TabularModel, val: Any, raw: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Auto: compare the network (its current best weights) with the trees on validation RMSE
    and return the choice with the reason shown on screen. Training goes on with the network;
    ``Task.load_weights`` switches to the winner the saved ``config.json`` names."""
    trees, mlp = tree_val_rmse(model.fit, raw), model.mlp_val_rmse(val)
    tree_wins = trees <= mlp
    winner, loser = ("trees", "the network") if tree_wins else ("mlp", "the trees")
    name = "Gradient-boosted trees" if tree_wins else "The network (MLP)"
    best, other = (trees, mlp) if tree_wins else (mlp, trees)
    model.choice = {"setting": "auto", "chosen": winner, "val_rmse": {"trees": trees, "mlp": mlp},
                    "why": f"{name} predicted the validation rows better: RMSE {best:,.4g} against "
                           f"{other:,.4g} for {loser}."}
    return model.choice


def fixed_choice(model: TabularModel, setting: str) -> dict[str, Any]:
    chosen = "trees" if model.use_tree else "mlp"
    model.choice = {"setting": setting, "chosen": chosen,
                    "why": f"The model setting asked for {MODEL_CHOICES[chosen].split(':')[0]}."}
    return model.choice


def load_tree(folder: Path) -> TreeModel:
    """The trees of a model folder, or a LoupeError that says the folder is damaged."""
    import lightgbm as lgb

    try:
        return TreeModel.load(folder)
    except (OSError, ValueError, KeyError, TypeError, lgb.basic.LightGBMError) as exc:
        raise LoupeError(
            f"The tree model in {folder} is damaged or not a Loupe model "
            f"({type(exc).__name__}: {exc}).",
            "train the run again; Loupe only loads the text and JSON files it wrote.") from exc
