"""ONNX and int8 ONNX versions of a trained model, and what compression costs on the run's data.

``write_onnx`` exports the fp32 ONNX model through the kind's hook (``Task.onnx()``, see
``core.deploy.onnx_kind``) and quantizes it with onnxruntime's own tools: ``quantize_dynamic``
(int8 weights) where the hook says "dynamic", ``quantize_static`` in QDQ format, calibrated on
validation inputs, where it says "static". ``onnx_predictor`` is the kind's ``Predictor`` with
its torch model replaced by an onnxruntime session, so every format predicts through the same
input handling, masking and output framing.

``compare`` runs the original and each compressed model on the run's validation and test splits:
agreement of predicted labels (max abs difference for regression), the metric and its change,
file size, single-input and batch latency on this CPU.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import LoupeError

FORMATS = ("onnx", "onnx-int8")
ONNX_FILES = {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx"}
ORIGINAL = "original"


def onnx_hook(kind: str) -> Any:
    from core.tasks import get_task

    hook = get_task(kind).onnx()
    if hook is None:
        raise LoupeError(f"{kind} runs have no ONNX export.", "export the safetensors folder instead.")
    return hook


def check_format(fmt: str) -> str:
    if fmt not in (ORIGINAL, *FORMATS):
        raise LoupeError(f"Unknown format '{fmt}'.", f"use one of {', '.join((ORIGINAL, *FORMATS))}.")
    return fmt


def format_notes(kind: str, artifact_dir: Path) -> dict[str, str]:
    """format -> why the model in ``artifact_dir`` has no such form (e.g. int8 trees)."""
    refusal = onnx_hook(kind).int8_refusal(Path(artifact_dir))
    return {"onnx-int8": refusal} if refusal else {}


def available_formats(kind: str, artifact_dir: Path) -> tuple[str, ...]:
    """The ONNX formats the model in ``artifact_dir`` can be exported to."""
    notes = format_notes(kind, artifact_dir)
    return tuple(f for f in FORMATS if f not in notes)


def check_available(kind: str, artifact_dir: Path, fmt: str) -> str:
    """``fmt`` when the model has that form; else a LoupeError saying why and what to use."""
    note = format_notes(kind, artifact_dir).get(fmt)
    if note:
        others = [f for f in available_formats(kind, artifact_dir) if f != fmt]
        raise LoupeError(note, f"use --format {others[0]}." if others else "export the safetensors folder.")
    return fmt


class _Calibration:
    """onnxruntime's CalibrationDataReader protocol over the hook's feeds."""

    def __init__(self, feeds: Iterable[dict[str, np.ndarray]]) -> None:
        self._feeds: Iterator[dict[str, np.ndarray]] = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def write_onnx(kind: str, predictor: Any, folder: Path, calibration_inputs: Any = None,
               formats: Iterable[str] = FORMATS) -> dict[str, Path]:
    """Write the requested ONNX formats into ``folder``; returns format -> file."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    hook = onnx_hook(kind)
    folder.mkdir(parents=True, exist_ok=True)
    formats = list(formats)
    fp32 = folder / ONNX_FILES["onnx"]
    hook.export(predictor, fp32)
    written = {"onnx": fp32}
    if "onnx-int8" in formats:
        int8 = folder / ONNX_FILES["onnx-int8"]
        if hook.quantization == "static":
            if calibration_inputs is None:
                raise LoupeError("Static int8 quantization needs calibration inputs.",
                                 "export from a run whose data is still readable.")
            quantize_static(fp32, int8, _Calibration(hook.calibration(predictor, calibration_inputs)),
                            quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
        else:
            quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8)
        written["onnx-int8"] = int8
    if "onnx" not in formats:
        fp32.unlink()
        written.pop("onnx")
    return written


def session(path: Path, threads: int | None = None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_predictor(kind: str, artifact_dir: Path, onnx_path: Path, threads: int | None = None) -> Any:
    """The kind's predictor for ``artifact_dir`` running ``onnx_path`` instead of torch."""
    from core.tasks import get_task

    predictor = get_task(kind).load_predictor(Path(artifact_dir), "cpu")
    onnx_hook(kind).attach(predictor, session(onnx_path, threads))
    return predictor


# --- the accuracy and speed check -----------------------------------------------------------
def _is_classifier(frame: pd.DataFrame) -> bool:
    return any(str(c).startswith("p_") for c in frame.columns)


def _probs(frame: pd.DataFrame) -> np.ndarray:
    return frame[[c for c in frame.columns if str(c).startswith("p_")]].to_numpy(dtype=float)


def _score(frame: pd.DataFrame, truth: np.ndarray) -> tuple[str, float]:
    if _is_classifier(frame):
        return "accuracy", float(np.mean(frame["prediction"].astype(str).to_numpy() == truth.astype(str)))
    pred = frame["prediction"].to_numpy(dtype=float)
    return "rmse", float(np.sqrt(np.mean((pred - truth.astype(float)) ** 2)))


def _latency_ms(predictor: Any, inputs: Any, repeats: int) -> float:
    predictor.predict(inputs)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predictor.predict(inputs)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _head(inputs: Any, n: int) -> Any:
    return inputs.iloc[:n] if hasattr(inputs, "iloc") else list(inputs)[:n]


def compare(kind: str, predictors: dict[str, Any], sizes: dict[str, int], data: Any,
            splits: Iterable[str] = ("val", "test"), max_rows: int = 2000, batch: int = 32,
            repeats: int = 5) -> list[dict[str, Any]]:
    """One row per (format, split): agreement with the original, metric and change, size,
    single-input and batch latency (ms, median of ``repeats``). ``predictors`` holds
    ``"original"`` and the compressed formats."""
    hook = onnx_hook(kind)
    splits = tuple(splits)
    rows: list[dict[str, Any]] = []
    for split in splits:
        inputs, truth = hook.split_inputs(data, split)
        n = min(len(truth), max_rows)
        if n == 0:
            continue
        inputs, truth = _head(inputs, n), truth[:n]
        frames = {fmt: p.predict(inputs) for fmt, p in predictors.items()}
        base = frames[ORIGINAL]
        metric, base_score = _score(base, truth)
        one, many = hook.example(inputs), _head(inputs, batch)
        for fmt, frame in frames.items():
            name, score = _score(frame, truth)
            row = {"format": fmt, "split": split, "rows": n, "metric": name, "value": score,
                   "change": score - base_score, "size_bytes": sizes.get(fmt)}
            if _is_classifier(frame):
                row["agreement"] = float(np.mean(frame["prediction"].astype(str).to_numpy()
                                                 == base["prediction"].astype(str).to_numpy()))
                row["max_abs_diff"] = float(np.nanmax(np.abs(_probs(frame) - _probs(base))))
            else:
                row["max_abs_diff"] = float(np.nanmax(np.abs(frame["prediction"].to_numpy(float)
                                                             - base["prediction"].to_numpy(float))))
            if split == splits[-1]:  # speed once, on the last split
                row["latency_single_ms"] = _latency_ms(predictors[fmt], one, repeats * 4)
                row["latency_batch_ms"] = _latency_ms(predictors[fmt], many, repeats)
                row["batch_size"] = len(many)
            rows.append(row)
    if not rows:
        raise LoupeError("The run's validation and test splits are empty.", "train with more rows.")
    return rows
