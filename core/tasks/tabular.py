"""Tabular regression: predict a numeric column from the others with gradient-boosted trees or
an MLP (``model.name``: auto, trees, mlp; see ``core.tasks.tabular_models``).

Baselines (the training mean, a ridge regression on the encoded features and the trees) are
reported next to the model so the user sees whether it earns its keep.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from safetensors import SafetensorError
from safetensors.torch import load_model, save_model
from torch import nn
from torch.utils.data import TensorDataset

from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from core.datasets.edits import edited_fingerprint, edits_notice, read_edits
from core.datasets.samples import (
    TABULAR_SAMPLES,
    load_tabular_sample,
    parse_sample,
    sample_source,
    tabular_descriptions,
)
from core.datasets.tables import Table, fingerprint_frame, numeric_or_none, read_table, sample_rows
from core.datasets.tabular_prep import (
    Preprocessor,
    choose_target_scale,
    mostly_numbers,
    split_columns,
    unreadable_mask,
    unreadable_notice,
)
from core.errors import LoupeError, suggest
from core.evaluate import regression_metrics
from core.models.mlp import MLP
from core.models.trees import BOOSTER_FILE, TREE_COLUMNS_FILE, TreeColumns, TreeModel, gpu_device
from core.output import mask_data
from core.privacy import mask_frame
from core.runtime import inference_mode, inference_runtime
from core.tasks import register
from core.tasks.base import DirectFit, Predictor, PreparedData, Task
from core.tasks.tabular_models import (
    MODEL_CHOICES,
    TabularModel,
    decide,
    fit_tree_model,
    fixed_choice,
    load_tree,
    model_choice,
)
from core.tasks.tabular_serving import (
    PREPROCESSING_FILE,
    input_frame,
    prediction_frame,
    read_preprocessor,
)

MIN_ROWS = 20


class _Dataset(TensorDataset):
    """Rows as dicts so the generic loop can treat every kind alike."""

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        features, tree_features, labels = super().__getitem__(index)
        return {"features": features, "tree_features": tree_features, "labels": labels}


def split_indices(n: int, val: float, test: float, seed: int) -> dict[str, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_test, n_val = max(1, round(n * test)), max(1, round(n * val))
    return {"test": order[:n_test], "val": order[n_test:n_test + n_val],
            "train": order[n_test + n_val:]}


class TabularTask(Task):
    kind = "tabular"
    title = "Tabular regression"
    classifies = False
    monitor = "loss"
    monitor_mode = "min"
    headline_metric = "test_rmse"
    explainer_ref = "core.explain.tabular:TabularExplainer"
    onnx_ref = "core.tasks.tabular_onnx:TabularOnnx"
    default_lr = 3e-3
    model_settings = ("hidden_sizes", "dropout")
    model_name_help = "; ".join(f"{k}: {v}" for k, v in MODEL_CHOICES.items()) + "."
    baseline_names = ("trees", "mlp", "linear", "mean")
    sample_cpu_time = {"house_prices": "under a minute", "diabetes": "seconds"}

    def samples(self) -> dict[str, str]:
        return tabular_descriptions()

    # --- sample previews (Data page) ---
    def sample_frame(self, name: str) -> pd.DataFrame:
        return load_tabular_sample(sample_source(name))[0]

    def sweep_space(self, cfg: RunConfig) -> dict[str, dict[str, Any]]:
        """The shared defaults plus the MLP's widths and weight decay."""
        space = super().sweep_space(cfg)
        space["model.hidden_sizes"] = {"choices": ["64", "128,64", "256,128", "256,128,64"]}
        space["train.weight_decay"] = {"low": 1e-6, "high": 1e-2, "log": True}
        return space

    def default_config(self, sample: str | None = None) -> RunConfig:
        sample = sample or "house_prices"
        return RunConfig(
            task=self.kind,
            data=DataConfig(source=sample_source(sample), target=TABULAR_SAMPLES[sample][1]),
            model=ModelConfig(name="auto", hidden_sizes=(128, 64), dropout=0.1),
            train=TrainConfig(epochs=40, batch_size=64, lr=self.default_lr, patience=10,
                              weight_decay=1e-4),
        )

    # --- data -----------------------------------------------------------------------------
    def read(self, cfg: RunConfig) -> tuple[Table, str]:
        d = cfg.data
        if not d.source:
            raise LoupeError("No data chosen.", "pass --data FILE or pick a sample.")
        if parse_sample(d.source) is not None:
            frame, default_target = load_tabular_sample(d.source)
            table = sample_rows(Table(frame, fingerprint_frame(frame), source_rows=len(frame)),
                                d.max_rows, d.seed)
            return table, d.target or default_target
        table = read_table(d.source, max_rows=d.max_rows or 200_000, seed=d.seed, encoding=d.encoding)
        if not d.target:
            raise LoupeError("No target column chosen.",
                             f"pass --target with one of {', '.join(map(repr, table.frame.columns[:10]))}.")
        return table, d.target

    def load_data(self, cfg: RunConfig) -> PreparedData:
        model_choice(cfg.model.name)  # a wrong model name fails before anything is read
        table, target = self.read(cfg)
        frame, notices, name = table.frame, list(table.notices), Path(cfg.data.source).name
        if target not in frame.columns:
            raise LoupeError(f"{name} has no column '{target}'.",
                             f"pass --target with the right name: {suggest(target, frame.columns)}")
        y = numeric_or_none(frame[target])
        if y is None:
            raise LoupeError(
                f"The target column '{target}' in {name} is not numeric "
                f"(type {frame[target].dtype}); regression needs numbers.",
                "pick a numeric target column, or convert the values to numbers.")
        bad = ~np.isfinite(y.to_numpy(dtype=float, na_value=np.nan))
        if bad.all():
            raise LoupeError(f"The target column '{target}' in {name} has no usable values "
                             "(all empty, NaN or infinite).", "pick a target column with numbers.")
        if bad.any():
            rows = np.flatnonzero(bad)[:5] + 2  # +2: 1-based and the header line
            notices.append(f"{bad.sum():,} rows with an empty, NaN or infinite target were left "
                           f"out (e.g. file lines {', '.join(map(str, rows))}).")
        refs = np.flatnonzero(~bad) + 1  # 1-based data rows of the table (what edits name)
        frame = frame.loc[~bad].reset_index(drop=True)
        frame[target] = y[~bad].to_numpy()
        if len(frame) < MIN_ROWS:
            raise LoupeError(f"{name} has {len(frame)} usable rows; at least {MIN_ROWS} are needed "
                             "for train/validation/test splits.", "add more rows.")
        numeric, categorical, ignored = split_columns(frame, target)
        notices += [f"Column {reason}: not used as a feature." for reason in ignored]
        notices += [unreadable_notice(c, unreadable_mask(frame[c]), "so it is not read as numbers"
                                      + (" but as text categories" if c in categorical else
                                         " and not used"))
                    for c in frame.columns if c != target and mostly_numbers(frame[c])]
        unreadable = {c: unreadable_mask(frame[c]) for c in numeric}
        unreadable = {c: bad for c, bad in unreadable.items() if bad.any()}
        notices += [unreadable_notice(c, bad, "they were treated as missing and filled with the "
                                      "training median") for c, bad in unreadable.items()]
        if not numeric and not categorical:
            raise LoupeError(f"{name} has no usable feature columns besides '{target}'.",
                             "add numeric or categorical columns to predict from.")
        idx = split_indices(len(frame), cfg.data.val_fraction, cfg.data.test_fraction, cfg.data.seed)
        edits = read_edits(cfg.data.edits)
        if edits is not None:  # a reviewed version: the same split, then the edits inside it
            edits.check_base(table.fingerprint, name)
            frame[target] = edits.values([str(r) for r in refs], frame[target].to_numpy(dtype=float))
            kept = edits.keep([str(r) for r in refs])
            idx = {k: v[kept[v]] for k, v in idx.items()}
            notices.append(edits_notice(edits))
        prep = Preprocessor.fit(frame.iloc[idx["train"]], target, numeric, categorical)
        scale_trial = choose_target_scale(prep, frame.iloc[idx["train"]], frame.iloc[idx["val"]])
        trees = TreeColumns.fit(frame.iloc[idx["train"]], target, numeric, categorical)
        splits = {}
        for split, rows in idx.items():
            part = frame.iloc[rows]
            x = torch.from_numpy(prep.transform(part))
            t = torch.from_numpy(prep.scale_target(part[target].to_numpy(dtype=float)))
            splits[split] = _Dataset(x, torch.from_numpy(trees.transform(part)), t)
        meta = {"preprocessing": prep.to_dict(), "tree_columns": trees.to_dict(),
                "feature_names": prep.feature_names,
                "feature_sources": prep.feature_sources, "rows": len(frame),
                "split_rows": {k: len(v) for k, v in idx.items()},
                "unusable_columns": len(ignored), "target_scale_trial": scale_trial,
                "unreadable_values": {c: int(bad.sum()) for c, bad in unreadable.items()}}
        raw = {k: frame.iloc[v].reset_index(drop=True) for k, v in idx.items()}
        return PreparedData(splits["train"], splits["val"], splits["test"], meta,
                            edited_fingerprint(table.fingerprint, edits), notices=notices, raw=raw,
                            refs={k: [str(refs[i]) for i in v] for k, v in idx.items()})

    def split_frame(self, data: PreparedData, split: str) -> tuple[pd.DataFrame, str]:
        return data.raw[split].reset_index(drop=True), data.meta["preprocessing"]["target"]

    def check_inputs(self, data: PreparedData, cfg: RunConfig) -> Any:
        from core.tasks.tabular_check import check_inputs

        return check_inputs(data)

    # --- model ----------------------------------------------------------------------------
    def _tree_fit(self, cfg: RunConfig, data: PreparedData) -> TabularModel:
        prep = Preprocessor.from_dict(data.meta["preprocessing"])
        columns = TreeColumns.from_dict(data.meta["tree_columns"])
        fit = fit_tree_model(columns, data.raw, cfg.train.seed, gpu_device(cfg.train.device))
        return TabularModel(None, TreeModel(fit.booster, fit.columns), prep, fit)

    def fit_directly(self, cfg: RunConfig, data: PreparedData) -> DirectFit | None:
        """``trees``: one LightGBM fit with early stopping on validation (no epoch loop)."""
        if model_choice(cfg.model.name) != "trees":
            return None
        model = self._tree_fit(cfg, data)
        fixed_choice(model, "trees")
        history = model.fit.history
        curves = {"train": [{"rmse": v} for v in history["train_rmse"]],
                  "val": [{"rmse": v} for v in history["val_rmse"]]}
        return DirectFit(model, steps=len(history["val_rmse"]), seconds=model.fit.seconds,
                         samples=len(data.train), curves=curves)

    def build_model(self, cfg: RunConfig, data: PreparedData) -> nn.Module:
        prep = Preprocessor.from_dict(data.meta["preprocessing"])
        mlp = MLP(len(data.meta["feature_names"]), cfg.model.hidden_sizes, cfg.model.dropout)
        if model_choice(cfg.model.name) == "auto":  # the trees first (seconds), the network next
            model = self._tree_fit(cfg, data)
            model.mlp, model.use_tree = mlp, False
            return model
        return TabularModel(mlp, None, prep)

    def forward(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        pred = model(batch["features"], batch["tree_features"]).float()
        return nn.functional.mse_loss(pred, batch["labels"].float()), pred

    def metrics(self, outputs: np.ndarray, targets: np.ndarray, data: PreparedData) -> dict[str, float]:
        prep = Preprocessor.from_dict(data.meta["preprocessing"])
        return regression_metrics(prep.unscale_target(outputs), prep.unscale_target(targets))

    def report(self, model: nn.Module, data: PreparedData, outputs: dict[str, np.ndarray],
               targets: dict[str, np.ndarray]) -> dict[str, Any]:
        from core.tasks.tabular_report import tabular_report

        return tabular_report(self.kind, model, data, outputs, targets)

    # --- artifacts ------------------------------------------------------------------------
    def save_artifact(self, model: nn.Module, cfg: RunConfig, data: PreparedData, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        setting = model_choice(cfg.model.name)
        if setting == "auto":
            decide(model, data.val, data.raw)
        elif not model.choice:
            fixed_choice(model, setting)
        config = {"task": self.kind, "architecture": model.choice["chosen"], "choice": model.choice}
        if model.mlp is not None:
            save_model(model.mlp, str(out_dir / "model.safetensors"))
            config.update({"in_features": model.mlp.in_features,
                           "hidden_sizes": list(cfg.model.hidden_sizes), "dropout": cfg.model.dropout})
        if model.tree is not None:
            model.tree.save(out_dir)
        (out_dir / "config.json").write_text(json.dumps(config, indent=2))
        (out_dir / PREPROCESSING_FILE).write_text(json.dumps(data.meta["preprocessing"], indent=2))
        (out_dir / "run_config.json").write_text(cfg.to_json())

    # --- the model folder's description and export masking ---
    artifact_files: ClassVar[dict[str, str]] = {
        "model.safetensors": "the weights (safetensors: tensors only, no pickle)",
        "config.json": "which model predicts (architecture: trees or mlp), why it was chosen, and "
                       "the layer sizes of the network",
        BOOSTER_FILE: "the gradient-boosted trees (LightGBM's text model format, no pickle)",
        TREE_COLUMNS_FILE: "the column preprocessing the trees expect (numeric and categorical "
                           "columns, category codes, target transform)",
        PREPROCESSING_FILE: "the column encoding the network expects (medians, means and scales "
                            "of numeric columns, categories of the others)",
        "run_config.json": "the full training configuration of the run",
    }

    weight_files: ClassVar[tuple[str, ...]] = (BOOSTER_FILE,)

    def mask_artifact_config(self, name: str, data: Any) -> tuple[Any, str]:
        """Categories and fills are read in their column's context before the keyed hash, so a
        ``last_name`` category is masked even where it looks like an ordinary word."""
        if name == TREE_COLUMNS_FILE and isinstance(data, dict):
            masked, _ = mask_categories({"categories": data.get("categorical")})
            data = {**data, "categorical": masked.get("categories")}
            return mask_data(data, "hash"), (
                "Those categories no longer match raw inputs: the trees read rows with them as a "
                "missing category, so their predictions can differ from the original run's.")
        if name != PREPROCESSING_FILE:
            return super().mask_artifact_config(name, data)
        masked, _ = mask_categories(data)
        return mask_data(masked, "hash"), (
            "Those categories no longer match raw inputs: rows with them encode like an unseen "
            "category, so their predictions can differ from the original run's.")

    def load_weights(self, model: nn.Module, artifact_dir: Path) -> None:
        config = json.loads((artifact_dir / "config.json").read_text())
        if model.mlp is not None:
            load_model(model.mlp, str(artifact_dir / "model.safetensors"))
        if model.tree is not None:  # the reloaded text model, so evaluation proves the round trip
            model.tree = load_tree(artifact_dir)
        model.use_tree = config.get("architecture") == "trees"
        model.choice = config.get("choice") or model.choice

    def load_predictor(self, artifact_dir: Path, device: str = "auto") -> Predictor:
        return TabularPredictor(artifact_dir, device)


class TabularPredictor(Predictor):
    task = "tabular"

    def __init__(self, artifact_dir: Path, device: str = "auto") -> None:
        try:  # only the JSON, text and safetensors files this task wrote are read; no unpickling
            config = json.loads((artifact_dir / "config.json").read_text())
            self.prep = read_preprocessor(artifact_dir)
            self.tree = load_tree(artifact_dir) if config.get("architecture") == "trees" else None
            if self.tree is None:
                self.model = MLP(config["in_features"], config["hidden_sizes"], config["dropout"])
                load_model(self.model, str(artifact_dir / "model.safetensors"))
            else:
                self.model = self.tree
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as exc:
            raise LoupeError(
                f"The model folder {artifact_dir} is damaged or not a Loupe tabular model "
                f"(config.json, {PREPROCESSING_FILE}, model.safetensors): {type(exc).__name__}: {exc}.",
                "train the run again; Loupe only loads the JSON and safetensors files it wrote.",
            ) from exc
        self.meta = {"preprocessing": self.prep.to_dict(), "feature_names": self.prep.feature_names,
                     "feature_sources": self.prep.feature_sources, "config": config}
        self.runtime = inference_runtime(device, "fp32")
        self.model.to(self.runtime.device).eval()

    @property
    def input_columns(self) -> list[str]:
        return self.prep.input_columns

    def predict_encoded(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Predictions in target units from already-encoded features (SHAP calls this)."""
        outs = []
        with inference_mode(self.runtime):
            for start in range(0, len(x), batch_size):
                chunk = torch.as_tensor(x[start:start + batch_size], dtype=torch.float32)
                outs.append(self.model(chunk.to(self.runtime.device)).float().cpu().numpy())
        pred = np.concatenate(outs) if outs else np.zeros(0)
        return self.prep.unscale_target(pred)

    def predict(self, inputs: Any, batch_size: int = 4096) -> pd.DataFrame:
        frame = input_frame(inputs)
        if self.tree is not None:
            pred = self.tree.predict_raw(self.tree.columns.transform(frame))
        else:
            pred = self.predict_encoded(self.prep.transform(frame), batch_size)
        return prediction_frame(frame, pred, self.prep, self.tree is not None)

    def load_inputs(self, path: Path) -> pd.DataFrame:
        return read_table(path, max_rows=None).frame

    def truth_column(self, frame: pd.DataFrame) -> str | None:
        return self.prep.target if self.prep.target in frame.columns else None


def mask_categories(prep: Any) -> tuple[Any, int]:
    """Categories read in their column's context: a bare 'Kowalski' is no e-mail, but in a
    ``last_name`` column it is a name. Direct-identifier columns are masked whole (keyed hash)."""
    categories = prep.get("categories") if isinstance(prep, dict) else None
    if not isinstance(categories, dict):
        return prep, 0
    changed, out = 0, {}
    for column, values in categories.items():
        if not isinstance(values, list) or not values:
            out[column] = values
            continue
        masked = mask_frame(pd.DataFrame({column: [str(v) for v in values]}), operator="hash")
        new = [str(v) for v in masked[column]] if column in masked else []
        changed += sum(a != b for a, b in zip(values, new, strict=False)) + len(values) - len(new)
        out[column] = new
    fills = dict(prep.get("fills") or {})
    for column, fill in fills.items():  # the fill is the mode: mask it as its category was masked
        raw = categories.get(column) if isinstance(categories.get(column), list) else []
        if isinstance(fill, str) and fill in raw and raw.index(fill) < len(out.get(column, [])):
            new_fill = out[column][raw.index(fill)]
        elif isinstance(fill, str):
            frame = mask_frame(pd.DataFrame({column: [fill] + [str(v) for v in raw]}), operator="hash")
            new_fill = str(frame[column].iloc[0]) if column in frame else ""
        else:
            new_fill = fill
        changed += int(new_fill != fill)
        fills[column] = new_fill
    return {**prep, "categories": out, **({"fills": fills} if fills else {})}, changed


register(TabularTask())
