"""The "toy" kind: two-class classification of rows of numbers with a one-layer torch model.

Data: a CSV/TSV/Parquet/JSONL table whose ``--target`` column holds the class of each row and
whose other columns are numbers, or ``sample:blobs`` (two Gaussian blobs, generated in memory).
Artifact: ``model.safetensors`` (weights) and ``toy.json`` (feature names, labels, scaling, and
a few training rows the explainer uses as its SHAP background).
Its explainer lives in ``tests/toy_kind/explainer.py`` and is named by ``explainer_ref``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_model, save_model
from torch import nn
from torch.utils.data import TensorDataset

from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from core.datasets.tables import fingerprint_frame, read_table
from core.errors import LoupeError
from core.evaluate import classification_metrics, softmax
from core.tasks.base import Predictor, PreparedData, Task

KIND = "toy"
META_FILE = "toy.json"
FEATURES = ("x0", "x1", "x2")
BACKGROUND_ROWS = 20


def blobs(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Two well-separated blobs; x2 is noise, so a good explanation ranks it last."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    centre = np.where(label[:, None] == 1, [2.0, -1.5, 0.0], [-2.0, 1.5, 0.0])
    x = centre + rng.normal(0, 0.7, (n, 3))
    frame = pd.DataFrame(x, columns=list(FEATURES))
    frame["label"] = np.where(label == 1, "yes", "no")
    return frame


class _Rows(TensorDataset):
    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        features, labels = super().__getitem__(index)
        return {"features": features, "labels": labels}


class ToyTask(Task):
    kind = KIND
    title = "Toy two-class table"
    monitor = "accuracy"
    monitor_mode = "max"
    headline_metric = "test_accuracy"
    default_lr = 0.05
    explainer_ref = "tests.toy_kind.explainer:ToyExplainer"

    def samples(self) -> dict[str, str]:
        return {"blobs": "two Gaussian blobs in three numeric columns (x2 is noise)"}

    def sample_frame(self, name: str) -> pd.DataFrame | None:
        return blobs() if name == "blobs" else None

    def default_config(self, sample: str | None = None) -> RunConfig:
        return RunConfig(task=self.kind, data=DataConfig(source=f"sample:{sample or 'blobs'}",
                                                        target="label"),
                         model=ModelConfig(name="linear"),
                         train=TrainConfig(epochs=4, batch_size=16, lr=self.default_lr, patience=0))

    def _frame(self, cfg: RunConfig) -> tuple[pd.DataFrame, str]:
        source = cfg.data.source or ""
        if source == "sample:blobs":
            frame = blobs(seed=cfg.data.seed)
            return frame, fingerprint_frame(frame)
        table = read_table(source, max_rows=cfg.data.max_rows, seed=cfg.data.seed,
                           encoding=cfg.data.encoding)
        return table.frame, table.fingerprint

    def load_data(self, cfg: RunConfig) -> PreparedData:
        frame, fingerprint = self._frame(cfg)
        target = cfg.data.target or "label"
        if target not in frame.columns:
            raise LoupeError(f"The table has no column {target!r}.", "pass --target COLUMN.")
        features = [c for c in frame.columns if c != target]
        x = frame[features].apply(pd.to_numeric, errors="coerce")
        if x.isna().any().any():
            column = x.columns[x.isna().any()][0]
            raise LoupeError(f"Column {column!r} holds something that is not a number.",
                             "give a table of numbers besides the target column.")
        labels = sorted(frame[target].astype(str).unique())
        if len(labels) != 2:
            raise LoupeError(f"The target {target!r} has {len(labels)} classes; toy needs 2.",
                             "pick a two-class column.")
        y = frame[target].astype(str).map(labels.index).to_numpy()
        mean, std = x.mean().to_numpy(), x.std().replace(0, 1).to_numpy()
        scaled = ((x.to_numpy() - mean) / std).astype(np.float32)
        order = np.random.default_rng(cfg.data.seed).permutation(len(frame))
        n_test = n_val = max(2, len(frame) // 5)
        parts = {"test": order[:n_test], "val": order[n_test:n_test + n_val],
                 "train": order[n_test + n_val:]}
        sets = {k: _Rows(torch.from_numpy(scaled[v]), torch.from_numpy(y[v])) for k, v in parts.items()}
        background = x.to_numpy()[parts["train"][:BACKGROUND_ROWS]]  # the explainer's baseline
        meta = {"features": features, "labels": labels, "mean": mean.tolist(), "std": std.tolist(),
                "background": background.tolist()}
        raw = {k: frame.iloc[v][features].reset_index(drop=True) for k, v in parts.items()}
        return PreparedData(sets["train"], sets["val"], sets["test"], meta, fingerprint, raw=raw)

    def describe_inputs(self, data: PreparedData) -> list[str]:
        return list(data.meta["features"])

    def build_model(self, cfg: RunConfig, data: PreparedData) -> nn.Module:
        return nn.Linear(len(data.meta["features"]), len(data.meta["labels"]))

    def forward(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        logits = model(batch["features"]).float()
        return nn.functional.cross_entropy(logits, batch["labels"].long()), logits

    def metrics(self, outputs: np.ndarray, targets: np.ndarray, data: PreparedData) -> dict[str, float]:
        return classification_metrics(outputs, targets, data.meta["labels"])

    def save_artifact(self, model: nn.Module, cfg: RunConfig, data: PreparedData, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        save_model(getattr(model, "module", model), str(out_dir / "model.safetensors"))
        (out_dir / META_FILE).write_text(json.dumps(data.meta, indent=2))

    def load_weights(self, model: nn.Module, artifact_dir: Path) -> None:
        load_model(model, str(artifact_dir / "model.safetensors"))

    def load_predictor(self, artifact_dir: Path, device: str = "auto") -> Predictor:
        return ToyPredictor(artifact_dir)


class ToyPredictor(Predictor):
    task = KIND

    def __init__(self, artifact_dir: Path) -> None:
        self.meta = json.loads((artifact_dir / META_FILE).read_text())
        self.features: list[str] = self.meta["features"]
        self.labels: list[str] = self.meta["labels"]
        self.model = nn.Linear(len(self.features), len(self.labels))
        load_model(self.model, str(artifact_dir / "model.safetensors"))
        self.model.eval()

    def frame(self, inputs: Any) -> pd.DataFrame:
        """Inputs (a dict, list of dicts or DataFrame) as a frame of the model's columns."""
        frame = pd.DataFrame([inputs]) if isinstance(inputs, dict) else pd.DataFrame(inputs)
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise LoupeError(f"The input has no column {missing[0]!r}.",
                             f"give the columns {', '.join(self.features)}.")
        return frame[self.features].apply(pd.to_numeric, errors="raise")

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities for raw (unscaled) feature rows."""
        scaled = (np.asarray(x, dtype=float) - self.meta["mean"]) / self.meta["std"]
        with torch.no_grad():
            logits = self.model(torch.as_tensor(scaled, dtype=torch.float32)).numpy()
        return softmax(logits)

    def predict(self, inputs: Any, batch_size: int = 64) -> pd.DataFrame:
        frame = self.frame(inputs)
        probs = self.predict_proba(frame.to_numpy())
        result = pd.DataFrame({"prediction": [self.labels[i] for i in probs.argmax(axis=1)]},
                              index=frame.index)
        for j, label in enumerate(self.labels):
            result[f"p_{label}"] = probs[:, j]
        return result

    def load_inputs(self, path: Path) -> pd.DataFrame:
        return read_table(path, max_rows=None).frame
