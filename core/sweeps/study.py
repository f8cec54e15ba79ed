"""Optuna's side of a sweep: storage, sampler, pruner, and the trial reporter a training uses.

Storage: ``JournalStorage`` over a file (``sweeps/<id>/study.journal`` under LOUPE_HOME). Every
change to the study is one appended log record, written under a file lock, so the state survives a
kill -9 of any process (at worst the last, unfinished record is ignored when the log is replayed),
several processes (the sweep driver and its trial children) read and write it at once, and no
database server is needed. An RDB storage on SQLite would work too but adds SQLAlchemy and
SQLite's locking to a project whose history is DuckDB; DuckDB itself allows one writing process,
which the trial children and the dashboard would fight over.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import optuna

from core.errors import LoupeError

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "halving", "none")
DIRECTIONS = ("minimize", "maximize")

optuna.logging.set_verbosity(optuna.logging.WARNING)


def storage(folder: Path) -> optuna.storages.BaseStorage:
    from optuna.storages.journal import JournalFileBackend

    folder.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(str(folder / "study.journal")))


def make_sampler(name: str, seed: int, grid: dict[str, list[Any]] | None = None) -> Any:
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        return optuna.samplers.GridSampler(grid or {}, seed=seed)
    raise LoupeError(f"Unknown sampler '{name}'.", f"use one of {', '.join(SAMPLERS)}.")


def make_pruner(name: str) -> Any:
    """Median: stop a trial whose epoch score is worse than the median of earlier trials at that
    epoch (after two finished trials, from the first epoch on). Halving: successive halving."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if name == "none":
        return optuna.pruners.NopPruner()
    raise LoupeError(f"Unknown pruner '{name}'.", f"use one of {', '.join(PRUNERS)}.")


def open_study(folder: Path, sweep_id: str, direction: str, sampler: Any = None,
               pruner: Any = None) -> optuna.Study:
    """Create the study on first use, load it afterwards (same name: the sweep id)."""
    return optuna.create_study(study_name=sweep_id, storage=storage(folder), direction=direction,
                               sampler=sampler, pruner=pruner, load_if_exists=True)


class TrialReporter:
    """Training callback of one trial: reports the validation metric of every epoch to Optuna
    (``trial.report``) and asks the pruner (``trial.should_prune``); a pruned trial sets ``pruned``
    and the training stops at its next step (``should_stop``)."""

    def __init__(self, folder: Path, sweep_id: str, number: int, metric: str, pruner: str,
                 run_store: Any = None) -> None:
        self.run_store = run_store
        self.store = storage(folder)
        study = optuna.load_study(study_name=sweep_id, storage=self.store,
                                  pruner=make_pruner(pruner))
        study_id = self.store.get_study_id_from_name(sweep_id)
        trial_id = self.store.get_trial_id_from_study_id_trial_number(study_id, number)
        self.trial = optuna.trial.Trial(study, trial_id)
        self.metric = metric.removeprefix("val_")
        self.full_metric = metric
        self.pruned_at: int | None = None

    def __call__(self, progress: Any) -> None:
        if progress.phase != "eval" or self.pruned_at is not None:
            return
        if self.metric not in progress.metrics:
            raise LoupeError(
                f"The sweep's objective '{self.full_metric}' is not a validation metric of this "
                f"run (it has {', '.join('val_' + k for k in sorted(progress.metrics))}).",
                "start the sweep again with one of those as --metric.")
        value = float(progress.metrics[self.metric])
        if not math.isfinite(value):
            self.pruned_at = int(progress.epoch)
            return
        self.trial.report(value, step=int(progress.epoch))
        if self.trial.should_prune():
            self.pruned_at = int(progress.epoch)
            if self.run_store is not None:  # tagged before the run ends: the driver reads it
                run = self.run_store.get_run(progress.run_id)
                self.run_store.tag_run(progress.run_id, [*run["tags"], "pruned"])

    def should_stop(self) -> bool:
        return self.pruned_at is not None
