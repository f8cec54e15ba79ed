"""ONNX export of an image classifier and its int8 form.

Exported with the TorchScript exporter (``dynamo=False``: no ``onnxscript`` needed, the same on
Python 3.10–3.13), batch axis dynamic, input ``pixel_values`` (N, 3, H, W) normalised as at
evaluation. int8 is static QDQ quantization (per-channel weights) calibrated on validation
images: dynamic quantization leaves convolutions' activations in float and gains little here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.datasets.image_transforms import eval_tensor
from core.deploy.onnx_kind import OPSET, OnnxKind, OrtModule
from core.tasks.image_serving import ImageRequests


class _ImageSession(OrtModule):
    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.run({"pixel_values": pixel_values.float()})


class ImageOnnx(ImageRequests, OnnxKind):
    quantization = "static"
    fp32_tolerance = 1e-3
    serving_ref = "core.tasks.image_serving:ImageServing"

    def export(self, predictor: Any, path: Path) -> None:
        model = predictor.model.cpu().eval()
        size = int(predictor.prep.image_size)
        x = torch.zeros((2, 3, size, size), dtype=torch.float32)
        with torch.no_grad():
            torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=OPSET,
                              input_names=["pixel_values"], output_names=["logits"],
                              dynamic_axes={"pixel_values": {0: "batch"}, "logits": {0: "batch"}})

    def session_module(self, session: Any) -> nn.Module:
        return _ImageSession(session)

    def split_inputs(self, data: Any, split: str) -> tuple[list[np.ndarray], np.ndarray]:
        dataset = getattr(data, split)
        labels = list(data.meta["labels"])
        arrays = [dataset.pool.pixels(i) for i in dataset.indices]
        return arrays, np.array([labels[i] for i in dataset.labels], dtype=object)

    def calibration(self, predictor: Any, inputs: Any, limit: int = 32) -> Iterator[dict[str, np.ndarray]]:
        for array in list(inputs)[:limit]:
            yield {"pixel_values": eval_tensor(np.asarray(array), predictor.prep)[None].numpy()}
