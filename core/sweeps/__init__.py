"""Hyperparameter sweeps: search a kind's settings with Optuna, offline, each trial a normal run.

The headless API (the CLI's ``loupe sweep`` and the dashboard's Sweeps page call only this):
``create_sweep`` validates everything and records the sweep; ``run_sweep`` drives it in this
process (``resume_sweep`` after a crash or cancel); ``start_sweep_process`` drives it in a detached
child (the dashboard); ``cancel_sweep``, ``delete_sweep``; ``core.sweeps.summary`` reads results.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.config import RunConfig
from core.errors import LoupeError
from core.store import RunStore
from core.sweeps.records import SweepRecords, SweepSpec
from core.sweeps.space import check_points, grid_size, validate_space
from core.sweeps.study import DIRECTIONS, PRUNERS, SAMPLERS

__all__ = ["SweepRecords", "SweepSpec", "cancel_sweep", "create_sweep", "default_objective",
           "default_space", "delete_sweep", "resume_sweep", "run_sweep", "start_sweep_process"]


def default_space(cfg: RunConfig) -> dict[str, dict[str, Any]]:
    """The kind's proposed search space around ``cfg`` (``Task.sweep_space``), validated."""
    from core.tasks import get_task

    return validate_space(get_task(cfg.task).sweep_space(cfg), "default search space")


def default_objective(kind: str) -> tuple[str, str]:
    """(validation metric, direction): the metric the kind's early stopping watches."""
    from core.tasks import get_task

    task = get_task(kind)
    return f"val_{task.monitor}", "minimize" if task.monitor_mode == "min" else "maximize"


def default_parallel() -> int:
    from core.runtime import visible_gpus

    return max(1, visible_gpus())


def create_sweep(cfg: RunConfig, space: dict[str, Any] | None = None, n_trials: int | None = 20,
                 minutes: float | None = None, sampler: str = "tpe", pruner: str = "median",
                 parallel: int | None = None, metric: str | None = None,
                 direction: str | None = None, seed: int = 0, name: str = "",
                 store: RunStore | None = None, check_data: bool = True) -> str:
    """Validate and record a sweep (nothing runs yet); returns its id. LoupeError on bad input,
    before anything is written: the space, budget, sampler, pruner, objective and the data."""
    space = validate_space(space) if space is not None else default_space(cfg)
    check_points(cfg, space)
    if n_trials is None and minutes is None:
        raise LoupeError("A sweep needs a budget.", "give a number of trials, minutes, or both.")
    if n_trials is not None and (isinstance(n_trials, bool) or not isinstance(n_trials, int)
                                 or n_trials < 1):
        raise LoupeError(f"The number of trials must be a whole number of at least 1, got "
                         f"{n_trials!r}.", "e.g. 20 trials.")
    if minutes is not None and not (minutes > 0):
        raise LoupeError(f"The time budget must be above 0 minutes, got {minutes!r}.", "e.g. 30.")
    for value, allowed, what in ((sampler, SAMPLERS, "sampler"), (pruner, PRUNERS, "pruner")):
        if value not in allowed:
            raise LoupeError(f"Unknown {what} '{value}'.", f"use one of {', '.join(allowed)}.")
    if sampler == "grid" and grid_size(space) > 10_000:
        raise LoupeError(f"The grid has {grid_size(space)} points.",
                         "give fewer choices, or use the tpe or random sampler.")
    auto_metric, auto_direction = default_objective(cfg.task)
    metric, direction = metric or auto_metric, direction or auto_direction
    if not metric.startswith("val_") or len(metric) <= 4:
        raise LoupeError(f"The objective '{metric}' is not a validation metric.",
                         f"name one like {auto_metric} (trials are compared on validation rows; "
                         "the test rows stay untouched for the final score).")
    if direction not in DIRECTIONS:
        raise LoupeError(f"Unknown direction '{direction}'.", f"use one of {', '.join(DIRECTIONS)}.")
    parallel = default_parallel() if parallel is None else parallel
    if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
        raise LoupeError(f"Parallel trials must be at least 1, got {parallel!r}.", "e.g. 1 on a CPU.")
    if check_data:
        from core.tasks import get_task

        get_task(cfg.task).load_data(cfg)  # a bad file or column is refused now, not in trial 1
    spec = SweepSpec(cfg, space, metric, direction, n_trials, minutes, sampler, pruner, parallel,
                     seed, name)
    records = SweepRecords(store)
    sweep_id = records.create(spec)
    from core.sweeps.study import open_study

    study = open_study(records.folder(sweep_id), sweep_id, direction)
    defaults = {k: _value_of(cfg, k) for k in space}
    if sampler != "grid" and all(_inside(space[k], v) for k, v in defaults.items()):
        study.enqueue_trial(defaults)  # trial 0 is the base config: the baseline to beat
    return sweep_id


def _value_of(cfg: RunConfig, key: str) -> Any:
    section, name = key.split(".")
    value = getattr(getattr(cfg, section), name)
    return ",".join(map(str, value)) if isinstance(value, tuple) else value


def _inside(spec: dict[str, Any], value: Any) -> bool:
    if "choices" in spec:
        return value in spec["choices"]
    return spec["low"] <= value <= spec["high"]


def run_sweep(sweep_id: str, store: RunStore | None = None, executor: str = "process",
              poll: float = 1.0, on_event: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Drive the sweep in this process until its budget is spent, it is cancelled or fails;
    returns its row. ``executor="inline"`` trains each trial in this process (no child)."""
    from core.sweeps.runner import SweepDriver

    records = SweepRecords(store)
    sweep_id = records.resolve(sweep_id)
    return SweepDriver(sweep_id, records, executor, poll, on_event).run()


def resume_sweep(sweep_id: str, store: RunStore | None = None, **kwargs: Any) -> dict[str, Any]:
    """Continue a sweep that was interrupted (kill -9, Ctrl-C), cancelled or failed."""
    records = SweepRecords(store)
    records.recover()
    row = records.get(sweep_id)
    if row["status"] == "completed":
        raise LoupeError(f"Sweep {row['id']} has completed its budget.",
                         "start a new sweep to search further.")
    return run_sweep(row["id"], store, **kwargs)


def start_sweep_process(sweep_id: str, store: RunStore | None = None) -> int:
    """Drive the sweep in a detached child (``loupe sweep resume ID``); returns its pid."""
    records = SweepRecords(store)
    home = records.store.home
    log = records.folder(sweep_id) / "sweep.log"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "LOUPE_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "core.cli", "sweep", "resume", sweep_id,
                                 "--quiet"], stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    records.update(sweep_id, pid=proc.pid)
    return proc.pid


def cancel_sweep(sweep_id: str, store: RunStore | None = None) -> str:
    """Ask the driver to stop; it cancels its running trial. A sweep with no live driver is marked
    cancelled at once (its trial runs are cancelled too)."""
    records = SweepRecords(store)
    records.recover()
    row = records.get(sweep_id)
    records.update(row["id"], cancel_requested=True)
    if not records.driver_alive(row) and row["status"] in ("queued", "running", "interrupted"):
        from core.jobs import cancel_job

        runs = records.runs(row["id"])
        for run_id in runs[runs["status"].isin(["queued", "running"])]["id"]:
            cancel_job(run_id, records.store)
        records.update(row["id"], status="cancelled")
    return row["id"]


def delete_sweep(sweep_id: str, keep_runs: bool, store: RunStore | None = None) -> list[str]:
    """Delete the sweep (refused while it runs); its runs are kept (unlinked) or deleted too."""
    return SweepRecords(store).delete(sweep_id, keep_runs)
