"""The report of a tabular run: the model's scores beside its baselines on every split.

Baselines: always predicting the training mean, a ridge regression on the encoded columns, and
gradient-boosted trees (LightGBM, fitted here for a network run; the run's own trees otherwise),
plus the network when ``auto`` trained one and kept the trees. Each lands in the final metrics as
``<split>_<metric>_<name>`` so the Runs comparison can show the best one beside the run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from core.datasets.tabular_prep import Preprocessor, target_scale_notice
from core.evaluate import downsample_indices, regression_metrics
from core.models.trees import TreeColumns, TreeModel, fit_trees
from core.tasks.base import PreparedData

SPLITS = ("train", "val", "test")


def _baseline_predictions(model: Any, data: PreparedData, prep: Preprocessor,
                          targets: dict[str, np.ndarray]) -> tuple[dict[str, dict[str, np.ndarray]],
                                                                    dict[str, Any]]:
    """name -> split -> predictions in target units, for every model beside the run's own."""
    from sklearn.linear_model import Ridge

    x = {s: getattr(data, s).tensors[0].numpy() for s in SPLITS}
    linear = Ridge(alpha=1.0).fit(x["train"], targets["train"])
    preds: dict[str, dict[str, np.ndarray]] = {}
    extra: dict[str, Any] = {}
    tree, fit = model.tree, model.fit
    if tree is None:  # a network run: the trees are its strongest baseline
        fit = fit_trees(TreeColumns.from_dict(data.meta["tree_columns"]), data.raw)
        tree = TreeModel(fit.booster, fit.columns)
    if not model.use_tree:
        preds["trees"] = {s: tree.predict_raw(getattr(data, s).tensors[1].numpy()) for s in SPLITS}
    elif model.mlp is not None:  # auto kept the trees: the network it trained is shown too
        mlp = model.mlp.eval().cpu()
        with torch.no_grad():
            preds["mlp"] = {s: prep.unscale_target(mlp(getattr(data, s).tensors[0]).numpy())
                            for s in SPLITS}
    preds["linear"] = {s: prep.unscale_target(linear.predict(x[s])) for s in SPLITS}
    raw_mean = prep.raw_target_mean if prep.raw_target_mean is not None else prep.target_mean
    preds["mean"] = {s: np.full(len(targets[s]), raw_mean) for s in SPLITS}
    if data.meta.get("target_scale_trial") and model.mlp is not None:
        extra["network_target_transform"] = {
            "used": prep.target_transform, "val_rmse": data.meta["target_scale_trial"],
            "why": target_scale_notice(prep.target, prep.target_transform, data.meta["target_scale_trial"])}
    if fit is not None and fit.transform_trial:
        used = fit.columns.target_transform
        extra["target_transform"] = {
            "used": used, "val_rmse": fit.transform_trial,
            "why": (f"The target is positive and skewed, so the trees were also fitted on "
                    f"log(1 + {prep.target}); validation RMSE (original units) "
                    f"{fit.transform_trial['log1p']:,.4g} on the log scale against "
                    f"{fit.transform_trial['none']:,.4g} on the raw scale, so the "
                    f"{'log' if used == 'log1p' else 'raw'} scale was kept. Metrics and plots "
                    f"are in the original units.")}
    extra["tree_device"] = fit.device if fit is not None else "cpu"
    return preds, extra


def tabular_report(kind: str, model: Any, data: PreparedData, outputs: dict[str, np.ndarray],
                   targets: dict[str, np.ndarray]) -> dict[str, Any]:
    prep = Preprocessor.from_dict(data.meta["preprocessing"])
    own = "trees" if model.use_tree else "mlp"
    others, info = _baseline_predictions(model, data, prep, targets)
    baselines, extra = {}, {}
    for split in SPLITS:
        true = prep.unscale_target(targets[split])
        baselines[split] = {own: regression_metrics(prep.unscale_target(outputs[split]), true)}
        for name, pred in others.items():
            baselines[split][name] = regression_metrics(pred[split], true)
            for metric, value in baselines[split][name].items():
                extra[f"{split}_{metric}_{name}"] = value
    keep = downsample_indices(len(targets["test"]))
    true, pred = prep.unscale_target(targets["test"][keep]), prep.unscale_target(outputs["test"][keep])
    return {"kind": kind, "target": prep.target, "model": own, "baselines": baselines,
            "model_choice": dict(model.choice), **info,
            "unusable_columns": data.meta.get("unusable_columns", 0),
            "unreadable_values": data.meta.get("unreadable_values", {}),
            "extra_metrics": extra,
            "worst_val_rows": _worst_rows(prep.unscale_target(outputs["val"]),
                                          prep.unscale_target(targets["val"])),
            "test_predictions": {"true": true.tolist(), "pred": pred.tolist(),
                                 "residual": (true - pred).tolist()}}


def _worst_rows(pred: np.ndarray, true: np.ndarray, n: int = 10) -> list[dict[str, float]]:
    """The validation rows predicted worst (largest absolute error), by position in the split:
    numbers only, so the report holds no raw cell of the table."""
    error = np.asarray(pred, dtype=float).ravel() - np.asarray(true, dtype=float).ravel()
    order = np.argsort(-np.abs(error), kind="stable")[:n]
    return [{"row": int(i), "true": float(true[i]), "predicted": float(pred[i]),
             "error": float(error[i])} for i in order]
