"""ONNX export of an image classifier and its int8 form.

Exported with the TorchScript exporter (``dynamo=False``: no ``onnxscript`` needed, the same on
Python 3.10–3.13), batch axis dynamic, input ``pixel_values`` (N, 3, H, W) normalised as at
evaluation. int8 is static QDQ quantization (per-channel weights) calibrated on validation
images: dynamic quantization leaves convolutions' activations in float and gains little here.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.datasets.image_transforms import ImageProblem, decode_image, eval_tensor
from core.deploy.onnx_kind import OPSET, OnnxKind, OrtModule
from core.errors import LoupeError


class _ImageSession(OrtModule):
    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.run({"pixel_values": pixel_values.float()})


class ImageOnnx(OnnxKind):
    quantization = "static"
    fp32_tolerance = 1e-3

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

    # --- serving ---
    def request_input(self, value: Any, field: str) -> np.ndarray:
        if not isinstance(value, str):
            raise LoupeError(f"{field} must be an image as a base64 text, not {type(value).__name__}.",
                             'send {"input": "<base64 of a JPEG or PNG file>"}.')
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise LoupeError(f"{field} is not valid base64 ({exc}).",
                             "encode the image file's bytes with base64.") from exc
        try:
            return decode_image(data)
        except ImageProblem as exc:
            raise LoupeError(f"{field}: the image {exc}.",
                             "send a JPEG, PNG, WebP, BMP or GIF file.") from exc

    def request_example(self, predictor: Any) -> str:
        return "<base64 of a JPEG or PNG file>"
