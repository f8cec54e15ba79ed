"""The per-kind ONNX hook: how one task kind turns its trained model into ONNX and runs it back.

A kind opts in with ``Task.onnx_ref = "module:Class"`` (its module lives with the kind, in
``core/tasks/<kind>_onnx.py``); the class subclasses ``OnnxKind``. Everything around it (int8
quantization, the accuracy check, the bundle, the endpoint) is shared and never names a kind.

The ONNX model replaces the predictor's torch module (``OnnxKind.session_module``): the kind's
own ``Predictor`` keeps doing input reading, tokenising / encoding, masking and output framing,
so ONNX predictions go through exactly the code path the dashboard uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.errors import LoupeError

#: ONNX opset: 17 is run by onnxruntime's CPU and CUDA providers alike (LayerNormalization op).
OPSET = 17


class OrtModule(nn.Module):
    """An onnxruntime session behind the call signature of the torch model it replaces."""

    def __init__(self, session: Any) -> None:
        super().__init__()
        self.session = session
        self.input_names = [i.name for i in session.get_inputs()]

    def run(self, feeds: dict[str, torch.Tensor | np.ndarray]) -> torch.Tensor:
        arrays = {name: _numpy(feeds[name]) for name in self.input_names}
        return torch.from_numpy(np.asarray(self.session.run(None, arrays)[0]))

    def to(self, *args: Any, **kwargs: Any) -> OrtModule:  # the session picks its own device
        return self


def _numpy(value: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().contiguous().numpy()
    return np.ascontiguousarray(value)


class OnnxKind:
    """What a kind provides for ONNX export. Subclasses live in ``core/tasks/<kind>_onnx.py``."""

    #: "dynamic" (int8 weights, activations quantized on the fly: MatMul/Gemm-heavy models) or
    #: "static" (QDQ with calibration on validation inputs: convolutional models).
    quantization: str = "dynamic"
    #: tolerance the round-trip check and tests hold the fp32 ONNX model to (max abs difference of
    #: probabilities, or of regression outputs in target units relative to the target's spread)
    fp32_tolerance: float = 1e-3
    #: "module:Class" of the kind's torch-free runtime for deploy bundles (``core/tasks/<kind>_
    #: serving.py``): ``Class(folder, onnx_session)`` with ``predict``, ``request_input``,
    #: ``request_example`` and ``requirements`` (its extra packages). None: no portable bundle.
    serving_ref: str | None = None

    def export(self, predictor: Any, path: Path) -> None:
        """Write the predictor's model as ONNX (fp32) to ``path``."""
        raise NotImplementedError

    def session_module(self, session: Any) -> nn.Module:
        """An ``nn.Module`` with the torch model's call signature that runs ``session``."""
        return OrtModule(session)

    def attach(self, predictor: Any, session: Any) -> None:
        """Make ``predictor`` run ``session`` (default: it replaces ``predictor.model``)."""
        predictor.model = self.session_module(session)

    def tolerance(self, artifact_dir: Path) -> float:
        """The fp32 tolerance for the model in ``artifact_dir`` (a kind may hold several models)."""
        return self.fp32_tolerance

    def opset(self, artifact_dir: Path) -> int:
        """The ONNX (default domain) opset the export of ``artifact_dir`` writes."""
        return OPSET

    def int8_refusal(self, artifact_dir: Path) -> str | None:
        """Why the model in ``artifact_dir`` has no int8 form (None: it has one). The check,
        the bundle and the Export page then offer the fp32 ONNX model only and say why."""
        return None

    def split_inputs(self, data: Any, split: str) -> tuple[Any, np.ndarray]:
        """(inputs as ``Predictor.predict`` takes them, true targets) of one split."""
        raise NotImplementedError

    def calibration(self, predictor: Any, inputs: Any, limit: int = 32) -> Iterator[dict[str, np.ndarray]]:
        """Model feeds for static quantization (only kinds with ``quantization = "static"``)."""
        raise LoupeError("This kind has no calibration inputs.", "use dynamic quantization.")

    # --- serving (core.deploy.server) ---------------------------------------------------
    def request_input(self, value: Any, field: str) -> Any:
        """One input of a JSON request, checked, in the form ``Predictor.predict`` takes;
        raises ``LoupeError`` naming ``field`` when it is not usable."""
        raise NotImplementedError

    def request_example(self, predictor: Any) -> Any:
        """A JSON-able input for the docs and the curl example."""
        raise NotImplementedError

    def example(self, inputs: Any) -> Any:
        """One input from ``inputs`` (for single-input latency)."""
        return inputs[:1] if hasattr(inputs, "iloc") else [inputs[0]]
