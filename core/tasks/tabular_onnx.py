"""ONNX export of a tabular model, one exporter per model architecture.

``EXPORTERS`` maps the artifact's ``config.json`` ``architecture`` to a function
``(predictor, path) -> None`` writing an ONNX model. The network's (``mlp``) input is ``features``
(the encoded float32 matrix ``Preprocessor.transform`` makes) and its output the prediction in
scaled target units (the predictor unscales it, as for its torch model).

The trees (``trees``, ``core.models.trees``) are converted with ``onnxmltools.convert_lightgbm``
into one ``TreeEnsembleRegressor`` (ai.onnx.ml) whose input is ``tree_features``: the float32
form of the matrix ``TreeColumns.transform`` makes, so the ONNX predictor reads categories,
missing and unseen values exactly as the LightGBM predictor does (codes; NaN takes the learned
missing branch). Its output is the raw score on the fitted scale; ``OnnxTrees.predict_raw``
undoes a log target in float64 as ``TreeModel`` does. Tolerance: thresholds and leaf values are
stored as float32, so predictions differ from LightGBM's float64 ones by float32 rounding (about
1e-6 relative; ``TREE_TOLERANCE``). A tree ensemble has no MatMul/Gemm weights for dynamic int8
quantization to rewrite, so trees have no ``onnx-int8`` form (``int8_refusal``).

The MLP is exported with the TorchScript exporter (``dynamo=False``: no ``onnxscript`` needed,
same on Python 3.10–3.13). Its input is given a unit middle axis so every ``nn.Linear`` becomes
``MatMul + Add`` (not ``Gemm``), which is what onnxruntime's dynamic int8 quantization rewrites.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.deploy.onnx_kind import OPSET, OnnxKind, OrtModule
from core.errors import LoupeError
from core.tasks.tabular_serving import TabularRequests


class _ThreeD(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.model(features.unsqueeze(1)).squeeze(1)


def export_mlp(predictor: Any, path: Path) -> None:
    model = _ThreeD(predictor.model).cpu().eval()
    x = torch.zeros((2, int(predictor.model.in_features)), dtype=torch.float32)
    with torch.no_grad():
        torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=OPSET,
                          input_names=["features"], output_names=["prediction"],
                          dynamic_axes={"features": {0: "batch"}, "prediction": {0: "batch"}})


#: ONNX opset of the tree models: the highest onnxmltools' LightGBM converter writes (1.16: 15);
#: onnxruntime runs it on every provider (tree ensembles run on the CPU).
TREE_OPSET = 15
#: fp32 ONNX trees vs LightGBM: max abs difference relative to the target's standard deviation
TREE_TOLERANCE = 1e-4


def export_trees(predictor: Any, path: Path) -> None:
    """The LightGBM booster as one ONNX ``TreeEnsembleRegressor`` (raw score, fitted scale)."""
    try:
        from onnxmltools import convert_lightgbm
        from onnxmltools.convert.common.data_types import FloatTensorType
    except ImportError as exc:
        raise LoupeError("ONNX export of tree models needs the onnxmltools package.",
                         "install Loupe's deploy extra (pip install 'loupe[deploy]').") from exc
    width = len(predictor.tree.columns.columns)
    model = convert_lightgbm(predictor.tree.booster, name="loupe_trees", target_opset=TREE_OPSET,
                             initial_types=[("tree_features", FloatTensorType([None, width]))],
                             zipmap=False)
    path.write_bytes(model.SerializeToString())


#: architecture (config.json) -> exporter. The hook for new tabular models.
EXPORTERS: dict[str, Callable[[Any, Path], None]] = {"mlp": export_mlp, "trees": export_trees}


def architecture(config: dict[str, Any]) -> str:
    return str(config.get("architecture", "mlp"))


class OnnxTrees(nn.Module):
    """An exported tree ensemble behind ``TreeModel``'s face (``predict_raw``, ``columns``): the
    predictor's tree path runs it unchanged. float32 features in, the log target undone in float64."""

    def __init__(self, session: Any, columns: Any) -> None:
        super().__init__()
        self.session, self.columns = session, columns
        self.input_name = session.get_inputs()[0].name

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        feed = np.ascontiguousarray(np.asarray(x, dtype=np.float64).astype(np.float32))
        raw = np.asarray(self.session.run(None, {self.input_name: feed})[0], dtype=np.float64)
        return self.columns.inverse_target(raw.reshape(-1))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        raise LoupeError("The ONNX tree model gives predictions only, not TreeSHAP values.",
                         "explain with the LightGBM model (booster.txt) of the model folder.")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(self.predict_raw(x.detach().cpu().double().numpy()), dtype=torch.float32)

    def to(self, *args: Any, **kwargs: Any) -> OnnxTrees:
        return self


def _architecture_of(artifact_dir: Path) -> str:
    try:
        return architecture(json.loads((Path(artifact_dir) / "config.json").read_text()))
    except (OSError, ValueError, AttributeError):
        return "mlp"


class _TabularSession(OrtModule):
    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.run({"features": features.float()}).reshape(-1)


class TabularOnnx(TabularRequests, OnnxKind):
    quantization = "dynamic"
    fp32_tolerance = 1e-4  # relative to the target's standard deviation
    serving_ref = "core.tasks.tabular_serving:TabularServing"

    def export(self, predictor: Any, path: Path) -> None:
        arch = architecture(predictor.meta["config"])
        exporter = EXPORTERS.get(arch)
        if exporter is None:
            raise LoupeError(f"Tabular '{arch}' models have no ONNX export yet.",
                             f"export the safetensors folder instead; ONNX covers {', '.join(EXPORTERS)}.")
        exporter(predictor, path)

    def session_module(self, session: Any) -> nn.Module:
        return _TabularSession(session)

    def attach(self, predictor: Any, session: Any) -> None:
        if getattr(predictor, "tree", None) is not None:  # the tree path, same encoding, ONNX inside
            predictor.tree = predictor.model = OnnxTrees(session, predictor.tree.columns)
        else:
            predictor.model = self.session_module(session)

    def tolerance(self, artifact_dir: Path) -> float:
        return TREE_TOLERANCE if _architecture_of(artifact_dir) == "trees" else self.fp32_tolerance

    def opset(self, artifact_dir: Path) -> int:
        return TREE_OPSET if _architecture_of(artifact_dir) == "trees" else OPSET

    def int8_refusal(self, artifact_dir: Path) -> str | None:
        if _architecture_of(artifact_dir) != "trees":
            return None
        return ("Tree models have no int8 form: int8 dynamic quantization rewrites MatMul/Gemm "
                "weights, and a tree ensemble has none (its thresholds and leaf values stay float32), "
                "so an int8 file would be the fp32 ONNX model under another name. The fp32 ONNX "
                "model is the compact form of a tree model.")

    def split_inputs(self, data: Any, split: str) -> tuple[Any, np.ndarray]:
        frame = data.raw[split]
        target = data.meta["preprocessing"]["target"]
        return frame.drop(columns=[target]), frame[target].to_numpy(dtype=float)

    def example(self, inputs: Any) -> Any:
        return inputs.iloc[:1]
