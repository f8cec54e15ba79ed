"""The Task protocol: what a task kind (tabular, text, image) must provide.

The training loop, the CLI and the dashboard only ever talk to a task through this interface and
the registry, so adding a kind never means an ``if task == ...`` chain elsewhere.

Batches are dicts of tensors. ``batch["labels"]`` always holds the targets; the other keys are
whatever the kind's model needs (``features``, ``input_ids``/``attention_mask``, ``pixel_values``).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import Dataset, Sampler

from core.batch_eval import RENAMED_ATTR, TRUTH_ATTR
from core.config import RunConfig
from core.settings import section_settings


@dataclass
class PreparedData:
    """Validated, split data ready for training, plus what the artifact needs to predict later."""

    train: Dataset
    val: Dataset
    test: Dataset
    meta: dict[str, Any]  # JSON-serialisable: label names, schema, preprocessing parameters
    fingerprint: str  # sha256 of the source content, recorded with the run
    collate_fn: Callable[[list[Any]], dict[str, torch.Tensor]] | None = None
    # Optional train batch sampler factory (batch_size, seed, epoch) -> Sampler of index lists,
    # e.g. length-grouped batches for text.
    train_batch_sampler: Callable[[int, int, int], Sampler[list[int]]] | None = None
    notices: list[str] = field(default_factory=list)  # what the user should know (sampling, …)
    raw: dict[str, Any] = field(default_factory=dict)  # raw inputs per split (frames, texts, paths)
    # per split, where each example lives in the source (a 1-based file or data row, an image's
    # path in the folder): what the data check points at and data edits name (core.datasets.edits)
    refs: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class DirectFit:
    """A model fitted in one go (gradient-boosted trees), not by the epoch loop: the loop saves,
    evaluates and records it like a trained network. ``curves``: split -> one metrics dict per
    fitting step (boosting round), logged as the run's training curves."""

    model: nn.Module
    steps: int
    seconds: float
    samples: int
    curves: dict[str, list[dict[str, float]]] = field(default_factory=dict)


class Predictor(ABC):
    """A trained model reloaded from its artifact folder, ready for inference."""

    task: str
    meta: dict[str, Any]
    model: nn.Module
    labels: Sequence[str] = ()  # a classifier's classes (set per instance); empty for regression

    @abstractmethod
    def predict(self, inputs: Any, batch_size: int = 64) -> pd.DataFrame:
        """One row per input: ``prediction``, and ``p_<label>`` probabilities for classifiers."""

    @abstractmethod
    def load_inputs(self, path: Path) -> Any:
        """Read a file (or folder/zip) of inputs in the form ``predict`` takes."""

    def predict_file(self, path: Path) -> pd.DataFrame:
        """Predictions for a file of inputs, next to the user's own columns (a label or target
        column kept, names unchanged): the Predict page's batch and ``loupe predict --data``.
        Kinds whose inputs are not a table override it (text files, image folders)."""
        inputs = self.load_inputs(Path(path))
        result = self.predict(inputs)
        if isinstance(inputs, pd.DataFrame):
            return self.mark_truth(join_predictions(inputs, result))
        return result

    def truth_column(self, frame: pd.DataFrame) -> str | None:
        """The column of the user's table ``frame`` that holds the true label or target (the one
        the model was trained on), or None. ``predict_file`` marks it for ``core.batch_eval``."""
        return None

    def mark_truth(self, result: pd.DataFrame) -> pd.DataFrame:
        """Name the truth column in ``result.attrs`` when the user's file has one."""
        user = result.drop(columns=result.attrs.get("prediction_columns", []), errors="ignore")
        column = self.truth_column(user)
        if column is not None:
            result.attrs[TRUTH_ATTR] = column
        return result


def join_predictions(inputs: pd.DataFrame, result: pd.DataFrame) -> pd.DataFrame:
    """The user's columns (as they were, in their order), then the prediction columns. A
    prediction column whose name the user's table already uses is prefixed ``loupe_``."""
    inputs = inputs.reset_index(drop=True)
    result = result.reset_index(drop=True)
    taken = {str(c) for c in inputs.columns}
    renamed = {str(c): f"loupe_{c}" for c in result.columns if str(c) in taken}
    result = result.rename(columns=renamed)
    joined = pd.concat([inputs, result], axis=1)
    joined.attrs = {**result.attrs, "prediction_columns": [str(c) for c in result.columns],
                    RENAMED_ATTR: renamed}
    return joined


class Task(ABC):
    """One task kind. Subclasses are registered once with ``core.tasks.register``."""

    kind: str  # registry key, e.g. "tabular"
    title: str  # human name, e.g. "Tabular regression"
    monitor: str = "loss"  # validation metric for early stopping / best checkpoint
    monitor_mode: str = "min"  # "min" or "max"
    headline_metric: str = "test_loss"  # final metric shown first in run tables and pickers
    classifies: bool = True  # a classifier (labels, label issues) rather than a regressor
    #: Baselines recorded with every run as ``<headline>_<name>`` metrics (e.g. ``test_rmse_trees``);
    #: the Runs comparison shows the best one beside each run (``best_baseline``).
    baseline_names: tuple[str, ...] = ()
    headline_mode: str = "min"  # "min": a lower headline metric is better (RMSE); "max" (accuracy)

    def best_baseline(self, metrics: dict[str, Any]) -> tuple[str, float] | None:
        """(name, value) of the best recorded baseline on the headline metric, or None."""
        found = [(name, float(metrics[key])) for name in self.baseline_names
                 if isinstance(metrics.get(key := f"{self.headline_metric}_{name}"), (int, float))]
        if not found:
            return None
        pick = min if self.headline_mode == "min" else max
        return pick(found, key=lambda item: item[1])
    default_lr: float = 1e-3
    #: auto precision picks bf16 on CPUs with native bf16 (``core.runtime.resolve_precision``):
    #: True where the model's work is mostly convolutions that oneDNN speeds up in bf16.
    cpu_bf16: bool = False

    # --- training form --------------------------------------------------------------------
    # ModelConfig fields the dashboard's training form asks for (the rest keep their defaults)
    # and the tooltip of its model-name field. Default: every model setting the form can show.
    model_settings: tuple[str, ...] = tuple(s.name for s in section_settings("model") if s.form == "model")
    model_name_help: str = "A model name for this kind."

    # --- sweeps (issue 18) -----------------------------------------------------------------
    def sweep_space(self, cfg: RunConfig) -> dict[str, dict[str, Any]]:
        """The default search space around ``cfg`` (``core.sweeps.space`` describes the form):
        learning rate log-uniform over two decades, batch size, dropout, epochs and patience.
        Kinds add what matters for them (hidden sizes, max length, image size, freezing)."""
        t = cfg.train
        space: dict[str, dict[str, Any]] = {
            "train.lr": {"low": t.lr / 10, "high": min(t.lr * 10, 1.0), "log": True},
            "train.batch_size": {"choices": sorted({max(1, t.batch_size // 2), t.batch_size,
                                                    t.batch_size * 2})},
            "model.dropout": {"low": 0.0, "high": 0.5},
        }
        if t.epochs > 1:
            space["train.epochs"] = {"low": max(1, t.epochs // 2), "high": t.epochs}
        if t.patience:
            space["train.patience"] = {"low": max(1, t.patience // 2), "high": t.patience * 2}
        return space

    # --- data -----------------------------------------------------------------------------
    @abstractmethod
    def samples(self) -> dict[str, str]:
        """Built-in sample datasets: name -> one-line description."""

    #: sample name -> how long its default run takes on a 2-core CPU, in words Home shows
    #: next to it (measured: docs/benchmarks.md section 9); keep it true when defaults change.
    sample_cpu_time: ClassVar[dict[str, str]] = {}

    # --- data check (core.datacheck) -------------------------------------------------------
    def check_inputs(self, data: PreparedData, cfg: RunConfig) -> Any:
        """Every example of ``data`` as ``core.datacheck.inputs.CheckInputs`` (features, labels or
        targets, duplicate keys, masked previews) for ``loupe check``."""
        from core.errors import LoupeError

        raise LoupeError(f"{self.title} runs have no data check yet.",
                         "check a text, image or tabular run.")

    def evaluation_view(self, dataset: Dataset) -> Dataset:
        """``dataset`` as evaluation reads it (no training augmentation): what a fold model of
        the fine-tuned data check scores (``core.datacheck.finetune``)."""
        return dataset

    def split_frame(self, data: PreparedData, split: str) -> tuple[pd.DataFrame, str]:
        """(one split of the run's data as columns a person reads, the truth column's name): what
        a split's error slices cut (``core.split_slices``); rows in the split's order."""
        from core.errors import LoupeError

        raise LoupeError(f"{self.title} runs have no error slices yet.",
                         "look at a text, image or tabular run.")

    # --- sample previews ------------------------------------------------------------------
    def sample_frame(self, name: str) -> pd.DataFrame | None:
        """Built-in sample ``name`` as one table (for the privacy report, masked preview and
        column pickers), or None when the kind's samples are not tables (images)."""
        return None

    @abstractmethod
    def default_config(self, sample: str | None = None) -> RunConfig:
        """A config that trains well out of the box (on ``sample`` when given)."""

    @abstractmethod
    def load_data(self, cfg: RunConfig) -> PreparedData:
        """Load, validate (raising LoupeError) and split. Must not touch the store."""

    # --- model ----------------------------------------------------------------------------
    @abstractmethod
    def build_model(self, cfg: RunConfig, data: PreparedData) -> nn.Module:
        """A fresh model for this data (pretrained weights loaded where the config asks)."""

    def fit_directly(self, cfg: RunConfig, data: PreparedData) -> DirectFit | None:
        """A model that is fitted in one call instead of by the epoch loop (e.g. boosted trees),
        or None (the default): train with the loop."""
        return None

    def on_device(self, model: nn.Module, runtime: Any) -> nn.Module:
        """Device-specific layout tweaks before training (e.g. channels-last on GPU)."""
        return model

    @abstractmethod
    def forward(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean loss, outputs) for one batch; outputs are logits or predictions per sample."""

    def optimizer_groups(self, model: nn.Module, cfg: RunConfig) -> list[dict[str, Any]]:
        """Parameter groups for AdamW; no weight decay on biases and norms by default."""
        decay, no_decay = [], []
        for name, param in model.named_parameters():
            if not param.requires_grad:
                continue
            (no_decay if param.ndim < 2 or "norm" in name.lower() else decay).append(param)
        return [
            {"params": decay, "weight_decay": cfg.train.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]

    # --- the starting point and the schedule (LP-FT) -------------------------------------
    def start_candidate(self, cfg: RunConfig, data: PreparedData) -> str:
        """What the model built by ``build_model`` already is when it is worth keeping on its own
        (e.g. 'linear probe'): the loop then scores it on validation before the first epoch, logs
        that as epoch 0 and keeps it when no epoch beats it. '' (default): never a candidate."""
        return ""

    def plan(self, cfg: RunConfig, data: PreparedData) -> RunConfig:
        """The config to train with. A kind may choose settings the user left at their defaults
        from the data (epochs from the dataset size) and say so in ``data.notices``."""
        return cfg

    # --- evaluation -----------------------------------------------------------------------
    @abstractmethod
    def metrics(self, outputs: np.ndarray, targets: np.ndarray, data: PreparedData) -> dict[str, float]:
        """Scalar metrics from gathered outputs/targets of one split (must include ``monitor``
        unless it is 'loss', which the loop computes)."""

    def report(
        self,
        model: nn.Module,
        data: PreparedData,
        outputs: dict[str, np.ndarray],
        targets: dict[str, np.ndarray],
    ) -> dict[str, Any]:
        """JSON-able extras after training (confusion matrix, residuals, worst examples, baselines).

        ``outputs``/``targets`` are keyed by split (train/val/test) in dataset order.
        """
        return {}

    # --- artifacts ------------------------------------------------------------------------
    @abstractmethod
    def save_artifact(self, model: nn.Module, cfg: RunConfig, data: PreparedData, out_dir: Path) -> None:
        """Write weights (safetensors) and everything needed to predict (JSON). No pickle."""

    @abstractmethod
    def load_predictor(self, artifact_dir: Path, device: str = "auto") -> Predictor:
        """Reload an artifact folder written by ``save_artifact``."""

    @abstractmethod
    def load_weights(self, model: nn.Module, artifact_dir: Path) -> None:
        """Load the saved weights back into a model built by ``build_model`` (best checkpoint)."""

    # --- the model folder's description and export masking --------------------------------
    # ``artifact_files``: file name inside the folder ``save_artifact`` writes -> what it holds,
    # in one sentence. The model card's "How to load" lists the ones a folder has; nothing
    # outside the task names these files.
    artifact_files: ClassVar[dict[str, str]] = {
        "model.safetensors": "the weights (safetensors: tensors only, no pickle)",
    }

    #: Model files that are not safetensors but hold a model (a tree text model): an export
    #: needs at least one of these or a ``.safetensors`` file.
    weight_files: ClassVar[tuple[str, ...]] = ()

    def mask_artifact_config(self, name: str, data: Any) -> tuple[Any, str]:
        """How an export masks the JSON file ``name`` of the model folder before it leaves:
        (masked data, what masking means for predictions, or ''). Default: every text through
        the keyed hash (``core.output.mask_data``), machine fields kept."""
        from core.output import mask_data

        return mask_data(data, "hash"), ""

    # --- run names (a run given no name is called '<dataset>-<model>', issue 15) -----------
    #: model name -> the short word a run name uses (e.g. efficientnet_lite0 -> lite0)
    model_short_names: ClassVar[dict[str, str]] = {}

    def run_name(self, cfg: RunConfig) -> str:
        """What a run without a name is called: its data and model, e.g. 'cats-dogs-lite0',
        'house_prices-mlp' (``RunStore.unique_name`` adds '-2', '-3' for repeats)."""
        from core.datasets.samples import parse_sample

        source = (cfg.data.source or "").strip().rstrip("/\\")
        data = parse_sample(source) or Path(source).stem or self.kind
        model = cfg.model.name or ""
        short = self.model_short_names.get(model) or Path(model.rstrip("/\\")).name or "model"
        return f"{data[:40]}-{short[:30]}"

    # --- throughput accounting ------------------------------------------------------------
    def count(self, batch: dict[str, torch.Tensor]) -> dict[str, int]:
        """How much work a batch is: samples, and tokens where that means something."""
        counts = {"samples": int(batch["labels"].shape[0])}
        if "attention_mask" in batch:
            counts["tokens"] = int(batch["attention_mask"].sum().item())
        return counts

    def describe_inputs(self, data: PreparedData) -> Sequence[str]:
        """Short names of what the model reads (columns, 'text', 'image'), for cards and forms."""
        return []

    # --- explanations ---------------------------------------------------------------------
    #: "module:Class" of this kind's ``core.explain.base.Explainer`` (its methods, how it reads
    #: inputs, its figures), imported on first use so importing the registry never pulls in
    #: shap or plotly. Empty: the kind offers no explanations.
    explainer_ref: str = ""

    def explainer(self) -> Any:
        """This kind's explainer (one instance per task), or None when it has none."""
        if not self.explainer_ref:
            return None
        cached = self.__dict__.get("_explainer")
        if cached is None:
            module, _, name = self.explainer_ref.partition(":")
            cached = getattr(importlib.import_module(module), name)()
            self.__dict__["_explainer"] = cached
        return cached

    # --- deploy: ONNX export (core.deploy) -----------------------------------------------
    #: "module:Class" of this kind's ``core.deploy.onnx_kind.OnnxKind`` (how its model becomes
    #: ONNX and runs back), imported on first use. Empty: the kind has no ONNX export.
    onnx_ref: str = ""

    def onnx(self) -> Any:
        """This kind's ONNX hook (one instance per task), or None when it has none."""
        if not self.onnx_ref:
            return None
        cached = self.__dict__.get("_onnx")
        if cached is None:
            module, _, name = self.onnx_ref.partition(":")
            cached = getattr(importlib.import_module(module), name)()
            self.__dict__["_onnx"] = cached
        return cached
