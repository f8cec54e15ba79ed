"""Load a run's artifact and predict, one input or a whole file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from core.store import RunStore
from core.tasks import Predictor, get_task


@lru_cache(maxsize=8)
def _cached_predictor(task: str, artifact_dir: str, mtime: float, device: str) -> Predictor:
    return get_task(task).load_predictor(Path(artifact_dir), device)


def load_predictor(run_id: str, store: RunStore | None = None, device: str = "auto") -> Predictor:
    """The run's best model, cached per process (reloaded when the artifact changes)."""
    store = store or RunStore()
    run = store.get_run(run_id)
    path = store.artifact_path(run["id"], "model")
    return _cached_predictor(run["task"], str(path), path.stat().st_mtime, device)


def predict_file(run_id: str, path: str | Path, store: RunStore | None = None,
                 device: str = "auto") -> pd.DataFrame:
    """Predictions for every input in a file (a table, a text file, an image folder or zip),
    next to the user's own columns (``Predictor.predict_file``)."""
    return load_predictor(run_id, store, device).predict_file(Path(path))
