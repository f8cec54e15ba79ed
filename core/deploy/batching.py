"""Micro-batching for the endpoint: concurrent ``/predict`` requests may share one model call.

One worker thread owns the predictor (it keeps per-call state, so calls never overlap):
- it takes the oldest waiting request, then (when ``max_items`` > 1) every waiting request of the
  same *shape* (texts with texts, images with images, table rows with the same columns) up to
  ``max_items`` inputs;
- when nobody else is waiting it does not wait for company: a lone client pays no delay;
- one model call for the group; each request gets its own rows back, and the caller masks them
  on its own thread (``ModelService.predict``), so masking overlaps the next model call and an
  answer never depends on who else was in the batch;
- if the group's call fails (e.g. a value the model cannot read), each request of the group is
  retried alone, so one bad request fails alone with its own error.

Whether grouping pays depends on the model and the machine: on 2 CPU cores a MiniLM batch of 32
mixed-length reviews costs *more* per text than one at a time (padding), in torch and in int8
ONNX alike, while a table MLP gains from any batch (docs/benchmarks.md section 14). So the group
size is a setting (``loupe serve-model --max-batch``), 1 by default: requests one at a time.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


def shape_of(inputs: list[Any]) -> Hashable:
    """Requests of one shape can be predicted together: same input type, same table columns."""
    first = inputs[0]
    if isinstance(first, dict):
        return ("row", tuple(sorted({str(k) for item in inputs for k in item})))
    return (type(first).__name__,)


@dataclass
class _Request:
    inputs: list[Any]
    shape: Hashable
    future: Future = field(default_factory=Future)


class Batcher:
    """Runs ``predict(inputs) -> DataFrame`` for queued requests, grouped up to ``max_items``
    inputs; each request's future gets its own rows (index from 0)."""

    def __init__(self, predict: Callable[[Any], pd.DataFrame], max_items: int = 1) -> None:
        self.predict, self.max_items = predict, max(1, int(max_items))
        self.waiting: queue.Queue[_Request] = queue.Queue()
        self.held: list[_Request] = []  # taken from the queue, not of the group being served
        self.calls = 0  # model calls made (tests and benchmarks read it)
        self.worker = threading.Thread(target=self._serve, name="loupe-batcher", daemon=True)
        self.worker.start()

    def submit(self, inputs: list[Any]) -> Future:
        request = _Request(list(inputs), shape_of(list(inputs)))
        self.waiting.put(request)
        return request.future

    def __call__(self, inputs: list[Any]) -> Any:
        """Submit and wait (for callers on a thread)."""
        return self.submit(inputs).result()

    def _next_group(self) -> list[_Request]:
        first = self.held.pop(0) if self.held else self.waiting.get()
        group, size = [first], len(first.inputs)
        while True:  # drain what is waiting now; keep other shapes for later, in order
            try:
                self.held.append(self.waiting.get_nowait())
            except queue.Empty:
                break
        rest = []
        for request in self.held:
            if request.shape == first.shape and size + len(request.inputs) <= self.max_items:
                group.append(request)
                size += len(request.inputs)
            else:
                rest.append(request)
        self.held = rest
        return group

    def _serve(self) -> None:
        while True:
            group = self._next_group()
            try:
                self._run(group)
            except BaseException as exc:  # noqa: BLE001 - never leave a waiting client hanging
                for request in group:
                    if not request.future.done():
                        request.future.set_exception(exc)

    def _run(self, group: list[_Request]) -> None:
        if len(group) == 1:
            self._run_alone(group[0])
            return
        inputs = [item for request in group for item in request.inputs]
        try:
            frame = self._predict(inputs).reset_index(drop=True)
        except Exception:  # noqa: BLE001 - retried one by one: each request gets its own error
            for request in group:
                self._run_alone(request)
            return
        start = 0
        for request in group:
            rows = frame.iloc[start:start + len(request.inputs)].reset_index(drop=True)
            start += len(request.inputs)
            request.future.set_result(rows)

    def _run_alone(self, request: _Request) -> None:
        try:
            request.future.set_result(self._predict(request.inputs).reset_index(drop=True))
        except Exception as exc:  # noqa: BLE001 - the request's own error, for its caller
            request.future.set_exception(exc)

    def _predict(self, inputs: list[Any]) -> pd.DataFrame:
        self.calls += 1
        batch = pd.DataFrame(inputs) if isinstance(inputs[0], dict) else inputs
        return self.predict(batch)
