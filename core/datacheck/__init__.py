"""Fix my data, step one: find the examples of a run's data that look wrong (issue 19).

    check_run(run_id) -> DataCheck

- classification (text, images): label issues from out-of-fold probabilities of a logistic
  regression on a frozen pretrained backbone's features, ranked by cleanlab (``labels``);
- regression (tables): extreme out-of-fold residuals and outlying feature values (``regression``);
- every kind: exact and near duplicates, and those straddling train and val/test (``duplicates``).

Each flag has a score and a plain-words reason; texts are masked. The kind supplies its examples
(``Task.check_inputs`` -> ``CheckInputs``); nothing here names a kind. Results are cached in the
run's folder by settings and data fingerprint, so asking again is instant.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from core.datacheck.duplicates import NEAR_THRESHOLD
from core.datacheck.inputs import SPLITS
from core.datacheck.result import ISSUES, DataCheck, run_check

CACHE_DIR = "data_check"


def _cache_key(run: dict[str, Any], settings: dict[str, Any]) -> str:
    raw = json.dumps({"data": run.get("dataset_fingerprint"), **settings}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _cache_path(store: Any, run: dict[str, Any], folds: int, seed: int, near_threshold: float,
                finetune: bool = False) -> Path:
    settings: dict[str, Any] = {"folds": folds, "seed": seed, "near_threshold": near_threshold}
    if finetune:  # (absent when off: the cheap check's earlier cache entries stay valid)
        settings["finetune"] = True
    return store.run_dir(run["id"]) / CACHE_DIR / f"{_cache_key(run, settings)}.json"


def _read(path: Path) -> DataCheck | None:
    if not path.is_file():
        return None
    try:
        return DataCheck.from_dict(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError):
        return None  # a damaged cache entry is recomputed


def cached_check(run_id: str, store: Any = None, folds: int = 5, seed: int = 0,
                 near_threshold: float = NEAR_THRESHOLD, finetune: bool = False) -> DataCheck | None:
    """The cached data check with these settings, or None: never computes (a page shows an
    earlier result at once and computes only when asked)."""
    from core.store import RunStore

    store = store or RunStore()
    return _read(_cache_path(store, store.get_run(run_id), folds, seed, near_threshold, finetune))


def check_run(run_id: str, store: Any = None, folds: int = 5, seed: int = 0,
              near_threshold: float = NEAR_THRESHOLD, refresh: bool = False,
              finetune: bool = False) -> DataCheck:
    """The data check of a run's data (all splits), from the cache unless ``refresh``.
    ``finetune``: label issues from the run's own model fine-tuned once per fold (K trainings:
    minutes to hours) instead of a logistic regression on frozen embeddings (seconds)."""
    import time

    from core.errors import LoupeError
    from core.output import atomic_write
    from core.store import RunStore
    from core.tasks import get_task

    if not 2 <= folds <= 20:
        raise LoupeError(f"folds must be between 2 and 20, not {folds}.", "use e.g. --folds 5.")
    if not 0.5 <= near_threshold <= 1.0:
        raise LoupeError(f"The near-duplicate similarity must be between 0.5 and 1, not {near_threshold}.",
                         "use e.g. --near 0.98.")
    store = store or RunStore()
    run = store.get_run(run_id)
    path = _cache_path(store, run, folds, seed, near_threshold, finetune)
    cached = None if refresh else _read(path)
    if cached is not None:
        return cached
    task, cfg = get_task(run["task"]), store.config(run["id"])
    data = task.load_data(cfg)
    inputs = task.check_inputs(data, cfg)
    refs = [ref for split in SPLITS for ref in data.refs.get(split, [])]
    if len(refs) == len(inputs.frame):  # where each flagged example lives, for a review's edits
        inputs.frame["ref"] = refs
    started, probs = time.perf_counter(), None
    if finetune:
        if not inputs.is_classification:
            raise LoupeError("The fine-tuned check finds label issues, and this run has no classes.",
                             "run the check without --finetune (residuals and outliers need no "
                             "fine-tuning).")
        from core.datacheck.finetune import finetuned_out_of_fold

        probs = finetuned_out_of_fold(task, cfg, data, folds, seed)
        inputs.feature_note = (f"label issues from the run's model fine-tuned once per fold "
                               f"({folds} folds); duplicates from {inputs.feature_note}")
    check = run_check(inputs, folds, seed, near_threshold, probs)
    check.seconds = time.perf_counter() - started
    if run.get("dataset_fingerprint") and data.fingerprint != run["dataset_fingerprint"]:
        check.notices.append("The data changed since this run trained: the check reads it as it is now.")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(check.to_dict(), default=float))
    return check


__all__ = ["ISSUES", "DataCheck", "cached_check", "check_run", "run_check"]
