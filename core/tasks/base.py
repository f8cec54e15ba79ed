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


class Predictor(ABC):
    """A trained model reloaded from its artifact folder, ready for inference."""

    task: str
    meta: dict[str, Any]
    model: nn.Module

    @abstractmethod
    def predict(self, inputs: Any, batch_size: int = 64) -> pd.DataFrame:
        """One row per input: ``prediction``, and ``p_<label>`` probabilities for classifiers."""

    @abstractmethod
    def load_inputs(self, path: Path) -> Any:
        """Read a file (or folder/zip) of inputs in the form ``predict`` takes."""


class Task(ABC):
    """One task kind. Subclasses are registered once with ``core.tasks.register``."""

    kind: str  # registry key, e.g. "tabular"
    title: str  # human name, e.g. "Tabular regression"
    monitor: str = "loss"  # validation metric for early stopping / best checkpoint
    monitor_mode: str = "min"  # "min" or "max"
    headline_metric: str = "test_loss"  # final metric shown first in run tables and pickers
    default_lr: float = 1e-3

    # --- training form --------------------------------------------------------------------
    # ModelConfig fields the dashboard's training form asks for (the rest keep their defaults)
    # and the tooltip of its model-name field. Default: every model setting the form can show.
    model_settings: tuple[str, ...] = tuple(s.name for s in section_settings("model") if s.form == "model")
    model_name_help: str = "A model name for this kind."

    # --- data -----------------------------------------------------------------------------
    @abstractmethod
    def samples(self) -> dict[str, str]:
        """Built-in sample datasets: name -> one-line description."""

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

    def mask_artifact_config(self, name: str, data: Any) -> tuple[Any, str]:
        """How an export masks the JSON file ``name`` of the model folder before it leaves:
        (masked data, what masking means for predictions, or ''). Default: every text through
        the keyed hash (``core.output.mask_data``), machine fields kept."""
        from core.output import mask_data

        return mask_data(data, "hash"), ""

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
