"""ONNX export of a text classifier (a Hugging Face sequence classifier) and its int8 form.

Exported with ``torch.onnx.export(dynamo=False)`` (the TorchScript exporter): it needs no extra
package (the dynamo exporter needs ``onnxscript``) and behaves the same on Python 3.10–3.13.
Batch and sequence length are dynamic axes, so the predictor's length-sorted, per-batch padding
is kept. int8: dynamic quantization of the MatMul weights (the usual route for transformers).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from torch import nn

from core.deploy.onnx_kind import OPSET, OnnxKind, OrtModule
from core.tasks.text_serving import TextRequests


class _Logits(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


class _TextSession(OrtModule):
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: Any) -> Any:
        return SimpleNamespace(logits=self.run({"input_ids": input_ids, "attention_mask": attention_mask}))


class TextOnnx(TextRequests, OnnxKind):
    quantization = "dynamic"
    fp32_tolerance = 1e-3
    serving_ref = "core.tasks.text_serving:TextServing"

    def export(self, predictor: Any, path: Path) -> None:
        model = _Logits(predictor.model).cpu().eval()
        ids = torch.ones((2, 8), dtype=torch.long)
        with torch.no_grad():
            torch.onnx.export(model, (ids, torch.ones_like(ids)), str(path), dynamo=False,
                              opset_version=OPSET, input_names=["input_ids", "attention_mask"],
                              output_names=["logits"],
                              dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                            "attention_mask": {0: "batch", 1: "sequence"},
                                            "logits": {0: "batch"}})

    def session_module(self, session: Any) -> nn.Module:
        return _TextSession(session)

    def split_inputs(self, data: Any, split: str) -> tuple[list[str], np.ndarray]:
        dataset = getattr(data, split)
        labels = list(data.meta["labels"])
        return list(dataset.texts), np.array([labels[i] for i in dataset.labels], dtype=object)
