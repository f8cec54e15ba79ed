"""Error slices of a run's own split (issue 19 item 5): where the trained model does worst.

    split_evaluation(run_id, split="test") -> BatchEvaluation

The run's model predicts its own split, read as a person reads it (``Task.split_frame``: the
text and its length, a table's columns, an image's class and size in pixels); the split is then
scored and sliced exactly as a labelled batch on Predict (``core.batch_eval``, whose slices are
masked). The result is cached beside the run as JSON: a finished run's model and split do not
change, so the Runs page, ``loupe slices`` and the HTML report compute it once.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from core.batch_eval import TRUTH_ATTR, BatchEvaluation, evaluate_batch
from core.batch_slices import Slice
from core.errors import LoupeError
from core.tasks.base import join_predictions

SPLITS = ("test", "val", "train")
SPLIT_NAMES = {"test": "test", "val": "validation", "train": "training"}


def split_evaluation(run_id: str, split: str = "test", store: Any = None,
                     refresh: bool = False) -> BatchEvaluation:
    """The scores and error slices of run ``run_id``'s model on its own ``split``."""
    from core.store import RunStore

    if split not in SPLITS:
        raise LoupeError(f"There is no split '{split}'.", f"use one of: {', '.join(SPLITS)}.")
    store = store or RunStore()
    run = store.get_run(run_id)
    if run["status"] != "completed":
        raise LoupeError(f"Run {run['id']} has not completed ({run['status']}).",
                         "wait for it to finish, or pick a completed run.")
    path = _cache_path(store, run["id"], split)
    cached = None if refresh else _read(path)
    if cached is not None:
        return cached
    evaluation = _evaluate(run, store, split)
    from core.output import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(asdict(evaluation), default=float))
    return evaluation


def cached_split_evaluation(run_id: str, split: str = "test", store: Any = None) -> BatchEvaluation | None:
    """The cached result, or None: never computes (a page shows it at once when it exists)."""
    from core.store import RunStore

    store = store or RunStore()
    return _read(_cache_path(store, store.get_run(run_id)["id"], split))


def _evaluate(run: dict[str, Any], store: Any, split: str) -> BatchEvaluation:
    from core.tasks import get_task

    task = get_task(run["task"])
    data = task.load_data(store.config(run["id"]))
    frame, truth = task.split_frame(data, split)
    if frame.empty:
        raise LoupeError(f"Run {run['id']} has no {SPLIT_NAMES[split]} examples.",
                         "pick another split (test, val or train).")
    _, _, predicted = predict_split(task, data, store, run["id"], split)
    frame = join_predictions(frame, predicted[["prediction"]])
    frame.attrs[TRUTH_ATTR] = truth
    evaluation = evaluate_batch(frame, data.meta.get("labels") or None)
    if evaluation is None:  # every kind's split has its truth: this is a bug, said plainly
        raise LoupeError(f"Run {run['id']}'s {SPLIT_NAMES[split]} split could not be scored.",
                         "report this with the run's kind and data.")
    if run.get("dataset_fingerprint") and data.fingerprint != run["dataset_fingerprint"]:
        evaluation.notices.append("The data changed since this run trained: the split is read as it is now.")
    return evaluation


def slices_table(evaluation: BatchEvaluation) -> Any:
    """The slices as a table a person reads (values already masked): column, slice, rows, the
    headline metric and its gap to all rows. Shared by the Runs page, the CLI and the report."""
    import pandas as pd

    from core.plots import format_number

    name = "accuracy" if evaluation.task == "classification" else "RMSE"
    return pd.DataFrame({"column": [s.column for s in evaluation.slices],
                         "slice": [s.value for s in evaluation.slices],
                         "rows": [s.rows for s in evaluation.slices],
                         name: [format_number(s.metric) for s in evaluation.slices],
                         "vs all rows": [f"{s.gap:+.3g}" for s in evaluation.slices]})


def predict_split(task: Any, data: Any, store: Any, run_id: str, split: str) -> tuple[Any, Any, Any]:
    """(the split's inputs as ``Predictor.predict`` takes them, their true targets, the run's
    model's output on them): shared with the comparison of two runs (``core.datacheck.compare``)."""
    inputs, truth = task.onnx().split_inputs(data, split)
    predictor = task.load_predictor(store.artifact_path(run_id, "model"), "cpu")
    return inputs, truth, predictor.predict(inputs)


def _cache_path(store: Any, run_id: str, split: str) -> Path:
    return store.run_dir(run_id) / "slices" / f"{split}.json"


def _read(path: Path) -> BatchEvaluation | None:
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text())
        raw["slices"] = [Slice(**s) for s in raw.get("slices", [])]
        return BatchEvaluation(**raw)
    except (ValueError, KeyError, TypeError):
        return None  # a damaged cache entry is recomputed
