"""A model ready to serve: the predictor in the chosen format, its kind's request checks, the
metadata it publishes and (for a run in this Loupe) explanations.

Two sources: a run of this Loupe's history (``service_for_run``: original torch model or an ONNX
format built on start), or a deploy bundle folder (``service_for_bundle``: no history needed).
Outputs are masked exactly as the dashboard's Predict page masks its tables
(``mask_table(mask_frame(...))``) and explanations as they leave the process (``masked()``).
"""

from __future__ import annotations

import math
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core.deploy.batching import Batcher
from core.deploy.compress import (
    ORIGINAL,
    check_available,
    check_format,
    onnx_hook,
    onnx_predictor,
    write_onnx,
)
from core.errors import LoupeError
from core.output import mask_data

MAX_BATCH = 256


@dataclass
class ModelService:
    kind: str
    fmt: str
    predictor: Any
    metadata: dict[str, Any]
    run_id: str | None = None  # a run of this history: explained (and cached) in it
    store: Any = None
    bundle: Path | None = None  # a deploy bundle: explained with its own model folder
    explain_cache: Path | None = None  # where a bundle's explanations are cached (None: default)
    explain_lock: threading.Lock = field(default_factory=threading.Lock)
    max_batch: int = 1  # concurrent requests grouped into one model call, up to this many inputs
    _batcher: Batcher | None = field(default=None, repr=False)
    _batcher_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def hook(self) -> Any:
        return onnx_hook(self.kind)

    def parse_inputs(self, body: Any) -> tuple[list[Any], bool]:
        """(checked inputs, whether the request was a batch) from a request body."""
        if not isinstance(body, dict):
            raise LoupeError("The request body must be a JSON object.",
                             'send {"input": ...} for one input or {"inputs": [...]} for a batch.')
        if ("input" in body) == ("inputs" in body):
            raise LoupeError("The request needs exactly one of the fields 'input' or 'inputs'.",
                             'send {"input": ...} for one input or {"inputs": [...]} for a batch.')
        if "input" in body:
            return [self.hook.request_input(body["input"], "input")], False
        items = body["inputs"]
        if not isinstance(items, list) or not items:
            raise LoupeError("The field 'inputs' must be a non-empty list.", 'send {"inputs": [..., ...]}.')
        if len(items) > MAX_BATCH:
            raise LoupeError(f"The field 'inputs' holds {len(items):,} inputs; the limit is {MAX_BATCH}.",
                             "split the batch into several requests.")
        return [self.hook.request_input(v, f"inputs[{i}]") for i, v in enumerate(items)], True

    @property
    def batcher(self) -> Batcher:
        """The one thread that calls the predictor, grouping concurrent requests (``batching``)."""
        with self._batcher_lock:
            if self._batcher is None:
                self._batcher = Batcher(self.predictor.predict, max_items=self.max_batch)
            return self._batcher

    def predict(self, inputs: list[Any]) -> list[dict[str, Any]]:
        """Predictions for one request's inputs, masked as the Predict page masks its tables."""
        return answer_rows(self.batcher(inputs))

    @property
    def can_explain(self) -> bool:
        return self.run_id is not None or self.bundle is not None

    def explain(self, value: Any, method: str | None) -> dict[str, Any]:
        if not self.can_explain:
            raise LoupeError("This server has neither a run in a Loupe history nor a bundle folder "
                             "to explain with.", "serve a run (`loupe serve-model RUN_ID`) or a "
                             "bundle (`--bundle DIR`).")
        from core.explain import explain, explain_folder

        item = self.hook.request_input(value, "input")
        params = {"method": method} if method else {}
        if self.run_id is not None:
            result = explain(self.run_id, item, store=self.store, device="cpu", **params).masked()
        else:
            with self.explain_lock:  # one at a time: the folder's predictor keeps per-call state
                result = explain_folder(self.bundle, self.kind, item, cache_dir=self.explain_cache,
                                        label=str(self.metadata.get("run_id") or "bundle"),
                                        device="cpu", **params).masked()
            result.notices.append(f"Explained with the original model in the bundle folder; the served "
                                  f"{self.fmt} model's agreement with it is in /metadata (comparison).")
        table = result.frame()
        return {"method": result.method, "from_cache": result.from_cache,
                "input": result.input_label, "prediction": plain(mask_data(result.prediction)),
                "labels": list(result.labels), "notices": list(result.notices),
                "attributions": [{str(k): plain(v) for k, v in r.items()}
                                 for r in table.to_dict("records")]}


def answer_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One request's prediction rows, masked exactly as the Predict page masks its tables."""
    from core.output import mask_table
    from core.privacy import mask_frame

    frame = mask_table(mask_frame(frame.reset_index(drop=True)))
    return [{str(k): plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def plain(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to null, containers recursively."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def service_for_run(run_id: str, fmt: str = ORIGINAL, store: Any = None, max_batch: int = 1) -> ModelService:
    """Serve a run of this history, as the original model or an ONNX format built now."""
    from core.export import CARD_NAME, collect_export
    from core.store import RunStore
    from core.tasks import get_task

    check_format(fmt)
    store = store or RunStore()
    run = store.get_run(run_id)
    kind, model_dir = run["task"], store.artifact_path(run["id"], "model")
    onnx_hook(kind)  # a kind without the hook cannot check requests: say so now
    if fmt != ORIGINAL:
        check_available(kind, model_dir, fmt)  # e.g. trees have no int8 form: say why
    if fmt == ORIGINAL:
        predictor = get_task(kind).load_predictor(model_dir, "cpu")
    else:
        folder = Path(tempfile.mkdtemp(prefix="loupe-serve-"))
        calibration = None
        if fmt == "onnx-int8" and onnx_hook(kind).quantization == "static":
            data = get_task(kind).load_data(store.config(run["id"]))
            calibration = onnx_hook(kind).split_inputs(data, "val")[0]
        written = write_onnx(kind, get_task(kind).load_predictor(model_dir, "cpu"), folder,
                             calibration, formats=[fmt])
        predictor = onnx_predictor(kind, model_dir, written[fmt])
    card = collect_export(run["id"], store).files[CARD_NAME].decode()
    metadata = {"run_id": run["id"], "task": kind, "format": fmt,
                "name": mask_data(run.get("name") or "", "hash"),
                "metrics": mask_data(run.get("metrics") or {}, "hash"), "model_card": card,
                "request_example": onnx_hook(kind).request_example(predictor)}
    return ModelService(kind, fmt, predictor, plain(metadata), run_id=run["id"], store=store,
                        max_batch=max_batch)


def service_for_bundle(folder: str | Path, explain_cache: str | Path | None = None,
                       max_batch: int = 1) -> ModelService:
    """Serve a deploy bundle folder (``loupe export --format onnx…``) with Loupe's own predictor:
    no history needed, and ``/explain`` works: it uses the bundle's own model folder
    (``core.explain.explain_folder``), cached in ``explain_cache`` (default: Loupe's cache folder,
    see ``bundle_cache_dir``). Without Loupe, the bundle's ``serve.py`` serves predictions
    (``core.deploy.portable``)."""
    from core.deploy.portable import bundle_metadata, read_deploy

    folder = Path(folder).expanduser()
    deploy = read_deploy(folder)
    kind, fmt = deploy["task"], deploy["format"]
    predictor = onnx_predictor(kind, folder, folder / deploy["model_file"])
    metadata = bundle_metadata(folder, deploy, onnx_hook(kind).request_example(predictor))
    return ModelService(kind, fmt, predictor, metadata, bundle=folder, max_batch=max_batch,
                        explain_cache=Path(explain_cache).expanduser() if explain_cache else None)
