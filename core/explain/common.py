"""Pieces every explainer shares: progress reporting, device batch sizes, class selection.

Why batch sizes live here: SHAP calls the model with a few masked inputs at a time by default
(5 for text, 10 otherwise). Each call then pays the model's fixed overhead for a tiny batch; on a
CPU that overhead dominates and on a GPU the device idles. We ask SHAP for large batches instead
(``batch_size`` passed to the explainer call) and cut them into device-sized chunks ourselves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from core.errors import LoupeError

__all__ = ["CPU_BATCH", "GPU_BATCH", "Progress", "ProgressFn", "class_index", "device_batch_size",
           "pick_classes", "prediction_summary", "prepare_shap", "reproducible_ties", "to_output"]

ProgressFn = Callable[[float, str], None]

CPU_BATCH = 256
GPU_BATCH = 1024


def prepare_shap() -> Any:
    """shap, imported on first use (it takes seconds to import; a run that never explains skips it).

    Loupe uses shap's public API only and changes nothing inside it. The shap releases that still
    use numba (the newest ones for Python 3.10 and 3.11) compile their kernels on the first
    explanation in each process; ``benchmarks/shap_startup_bench.py`` measures that per Python.
    """
    import shap

    return shap


@contextmanager
def reproducible_ties(seed: int = 0) -> Iterator[None]:
    """The same explanation for the same input, every time: shap's Partition explainer breaks
    ties between equally promising tree nodes with ``np.random.randn()`` from numpy's global
    generator, so on a model whose outputs barely move (many exact ties) two calls could refine
    different nodes. Inside this block that generator starts from ``seed``; its state outside is
    restored afterwards, so nothing else's randomness changes."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def device_batch_size(runtime: Any, cpu: int = CPU_BATCH, gpu: int = GPU_BATCH) -> int:
    """Masked inputs per model call: large on a GPU, moderate on a CPU (cache-friendly)."""
    device = getattr(runtime, "device", None)
    return gpu if getattr(device, "type", "cpu") == "cuda" else cpu


class Progress:
    """Wraps a ``progress(fraction, message)`` callback; never lets it slow the work down.

    ``step(n)`` counts model evaluations against an expected total and reports at most every
    ``every`` seconds, plus once at the end (``done``).
    """

    def __init__(self, callback: ProgressFn | None, total: int, label: str, every: float = 0.2,
                 start: float = 0.0, end: float = 1.0) -> None:
        self.callback, self.total, self.label = callback, max(1, int(total)), label
        self.every, self.start, self.end = every, start, end
        self.count = 0
        self._last = 0.0

    def report(self, fraction: float, message: str) -> None:
        if self.callback is not None:
            self.callback(float(min(1.0, max(0.0, fraction))), message)

    def step(self, n: int) -> None:
        self.count += int(n)
        now = time.monotonic()
        if self.callback is not None and now - self._last >= self.every:
            self._last = now
            share = min(1.0, self.count / self.total)
            self.report(self.start + (self.end - self.start) * share,
                        f"{self.label}: {self.count:,} of ~{self.total:,} model evaluations")

    def done(self, message: str = "done") -> None:
        self.report(self.end, message)


def pick_classes(target_class: int | str | Sequence[int | str] | None, labels: Sequence[str],
                 predicted: int) -> list[int]:
    """Class indexes to explain: the predicted class first, then any chosen ones (by name or index)."""
    chosen: list[int] = [int(predicted)]
    if target_class is None:
        return chosen
    wanted = [target_class] if isinstance(target_class, (int, str, np.integer)) else list(target_class)
    for item in wanted:
        index = class_index(item, labels)
        if index not in chosen:
            chosen.append(index)
    return chosen


def class_index(item: int | str, labels: Sequence[str]) -> int:
    labels = [str(label) for label in labels]
    if isinstance(item, str) and item in labels:
        return labels.index(item)
    if isinstance(item, str) and item.strip().lstrip("-").isdigit():
        item = int(item)
    if isinstance(item, (int, np.integer)) and 0 <= int(item) < len(labels):
        return int(item)
    raise LoupeError(f"There is no class {item!r} in this model.",
                     f"choose one of {', '.join(map(repr, labels))} (or its index).")


def prediction_summary(probs: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """{"label", "index", "confidence", "probabilities"} for one classified input."""
    probs = np.asarray(probs, dtype=float)
    index = int(np.argmax(probs))
    return {"label": str(labels[index]), "index": index, "confidence": float(probs[index]),
            "probabilities": {str(label): float(p) for label, p in zip(labels, probs, strict=True)}}


def to_output(probs: np.ndarray, output: str) -> np.ndarray:
    """Model output SHAP explains: probabilities, or their log-odds (``logit``)."""
    if output == "probability":
        return probs
    if output == "logit":
        p = np.clip(probs.astype(np.float64), 1e-7, 1 - 1e-7)
        return np.log(p) - np.log1p(-p)
    raise LoupeError(f"Unknown output '{output}'.", "use 'probability' or 'logit'.")
