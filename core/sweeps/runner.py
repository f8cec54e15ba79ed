"""The sweep driver: asks Optuna for trials, runs each as an ordinary training run, tells the result.

Trials run as child processes (``core.jobs.start_job`` with ``--sweep-trial``): one at a time on a
CPU, one per GPU when several are visible (``parallel``). The child reports each epoch's
validation metric to Optuna and stops when the pruner says so (``core.sweeps.study.TrialReporter``).
The driver only ever tells Optuna a trial's end, from the run's row: completed -> its metric,
cancelled and tagged ``pruned`` -> PRUNED, anything else -> FAIL (failed trials do not count
towards the budget; three failures in a row stop the sweep).

Crash safety: study state is in the journal file, the run rows in DuckDB. On (re)start
``reconcile`` looks at every trial Optuna still has as RUNNING: a run that completed meanwhile is
told COMPLETE (never run again), a run whose process is still alive is waited for, anything else
(killed with the driver, or never started) is told FAIL and the budget asks for a new trial. So a
kill -9 at any point followed by ``resume`` finishes the budget with no duplicate trial.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import TrialState

from core.errors import LoupeError
from core.sweeps import study as st
from core.sweeps.records import SweepRecords, SweepSpec
from core.sweeps.space import apply_params, grid_size, grid_values, suggest_params

MAX_FAILURES_IN_A_ROW = 3
COUNTED = (TrialState.COMPLETE, TrialState.PRUNED)


class SweepDriver:
    def __init__(self, sweep_id: str, records: SweepRecords, executor: str = "process",
                 poll: float = 1.0, on_event: Callable[[str], None] | None = None) -> None:
        self.rec, self.id, self.executor, self.poll = records, sweep_id, executor, poll
        self.row = records.get(sweep_id)
        self.spec: SweepSpec = records.spec(self.row)
        self.folder = records.folder(sweep_id)
        self.say = on_event or (lambda text: None)
        self.running: dict[int, str] = {}  # trial number -> run id
        self.failures = 0

    # --- setup ----------------------------------------------------------------------------
    def _study(self) -> optuna.Study:
        grid = grid_values(self.spec.space) if self.spec.sampler == "grid" else None
        probe = st.open_study(self.folder, self.id, self.spec.direction)
        seed = self.spec.seed + len(probe.trials)  # a resumed driver does not replay old draws
        return st.open_study(self.folder, self.id, self.spec.direction,
                             st.make_sampler(self.spec.sampler, seed, grid),
                             st.make_pruner(self.spec.pruner))

    def _budget(self) -> int:
        n = self.spec.n_trials if self.spec.n_trials is not None else 10**9
        return min(n, grid_size(self.spec.space)) if self.spec.sampler == "grid" else n

    # --- the loop -------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.rec.recover()
        row = self.rec.get(self.id)
        if row["status"] == "running" and self.rec.driver_alive(row) and row["pid"] != os.getpid():
            raise LoupeError(f"Sweep {self.id} is already running (process {row['pid']}).",
                             f"watch it with `loupe sweep show {self.id}`, or cancel it first.")
        self.rec.claim(self.id)
        elapsed0, started = float(row["elapsed_s"] or 0.0), time.monotonic()
        if self.spec.parallel > 1:  # the children's turn-taking lets this many train at once
            limit = int(os.environ.get("LOUPE_MAX_PARALLEL", "1"))
            os.environ["LOUPE_MAX_PARALLEL"] = str(max(limit, self.spec.parallel))
        study = self._study()
        status, error = "completed", None
        try:
            self._reconcile(study)
            while True:
                if self.rec.heartbeat(self.id):
                    self._cancel_running(study)
                    status = "cancelled"
                    break
                self._collect(study)
                elapsed = elapsed0 + time.monotonic() - started
                self._record(study, elapsed)
                if self.failures >= MAX_FAILURES_IN_A_ROW:
                    status, error = "failed", self._last_error(study)
                    break
                counted = sum(t.state in COUNTED for t in study.trials)
                time_left = self.spec.minutes is None or elapsed < self.spec.minutes * 60
                if time_left and counted + len(self.running) < self._budget() \
                        and len(self.running) < max(1, self.spec.parallel):
                    self._launch(study)
                    continue
                if not self.running:
                    break
                time.sleep(self.poll)
        except KeyboardInterrupt:
            self._cancel_running(study)
            self._finish(study, started, elapsed0, "interrupted", "Stopped by the user (Ctrl-C).")
            raise
        except BaseException as exc:
            self._finish(study, started, elapsed0, "failed", str(exc)[:2000])
            raise
        return self._finish(study, started, elapsed0, status, error)

    def _finish(self, study: optuna.Study, started: float, elapsed0: float, status: str,
                error: str | None) -> dict[str, Any]:
        elapsed = elapsed0 + time.monotonic() - started
        self._record(study, elapsed)
        from datetime import datetime

        self.rec.update(self.id, status=status, finished_at=datetime.now(), error=error, pid=None)
        self.say(f"sweep {self.id}: {status}")
        return self.rec.get(self.id)

    # --- trials ---------------------------------------------------------------------------
    def _launch(self, study: optuna.Study) -> None:
        trial = study.ask()
        params = suggest_params(trial, self.spec.space)
        cfg = apply_params(self.spec.config, params)
        name = f"{self.row['name']}-t{trial.number}"
        cfg = cfg.replace(name=name, tags=[*cfg.tags, "sweep"])
        if self.spec.parallel > 1:
            from core.runtime import visible_gpus

            gpus = visible_gpus()
            if gpus > 1 and cfg.train.device in ("auto", "cuda"):
                cfg = cfg.replace(train={"device": f"cuda:{trial.number % gpus}"})
        self.say(f"trial {trial.number}: " + ", ".join(f"{k}={_short(v)}" for k, v in params.items()))
        if self.executor == "inline":
            self._run_inline(study, trial, cfg)
            return
        from core.jobs import start_job

        run_id = start_job(cfg, self.rec.store,
                           extra_args=["--sweep-trial", f"{self.id}:{trial.number}"])
        self.rec.link_run(run_id, self.id, trial.number)
        trial.set_user_attr("run_id", run_id)
        self.running[trial.number] = run_id

    def _run_inline(self, study: optuna.Study, trial: optuna.trial.Trial, cfg: Any) -> None:
        """Train in this process (the Python API and the benchmark): same hooks, no child."""
        from core.train import train

        number = trial.number
        reporter = st.TrialReporter(self.folder, self.id, number, self.spec.metric,
                                    self.spec.pruner, self.rec.store)
        links = {"run": None}

        def link(progress: Any) -> None:
            if links["run"] is None:
                links["run"] = progress.run_id
                self.rec.link_run(progress.run_id, self.id, number)

        try:
            result = train(cfg, self.rec.store, [link, reporter], should_stop=reporter.should_stop)
        except LoupeError as exc:
            study.tell(number, state=TrialState.FAIL)
            study.set_user_attr(f"error_{number}", str(exc)[:500])
            self.failures += 1
            return
        trial.set_user_attr("run_id", result.run_id)
        mark_pruned(self.rec, result.run_id, reporter)
        self.running[number] = result.run_id
        self._collect(study)

    def _collect(self, study: optuna.Study) -> None:
        """Tell Optuna about trials whose run has ended."""
        for number, run_id in list(self.running.items()):
            state = self._run_state(run_id)
            if state is None:
                continue
            self._tell(study, number, run_id, state)
            del self.running[number]

    def _run_state(self, run_id: str) -> dict[str, Any] | None:
        """The run's row when it has ended; None while it is queued or running."""
        try:
            run = self.rec.store.get_run(run_id)
        except LoupeError:
            return {"status": "deleted", "metrics": {}, "tags": [], "error": "run deleted"}
        if run["status"] in ("queued", "running"):
            return None
        return run

    def _tell(self, study: optuna.Study, number: int, run_id: str, run: dict[str, Any]) -> None:
        value = run["metrics"].get(self.spec.metric)
        if run["status"] == "completed" and value is not None:
            study.tell(number, float(value))
            self.failures = 0
            self.say(f"trial {number}: {self.spec.metric} = {float(value):.4g} (run {run_id})")
        elif run["status"] == "cancelled" and "pruned" in run["tags"]:
            study.tell(number, state=TrialState.PRUNED)
            self.failures = 0
            self.say(f"trial {number}: pruned (run {run_id})")
        else:
            study.tell(number, state=TrialState.FAIL)
            if run["status"] != "cancelled":
                self.failures += 1
            why = run.get("error") or f"no {self.spec.metric} in the run's metrics"
            study.set_user_attr(f"error_{number}", str(why)[:500])
            self.say(f"trial {number}: {run['status']} (run {run_id})")

    def _reconcile(self, study: optuna.Study) -> None:
        """Trials left RUNNING by an earlier driver: finish, wait for, or fail each (see module doc)."""
        self.rec.store.recover_interrupted()
        runs = self.rec.runs(self.id)
        by_trial = {int(r.trial_number): r.id for r in runs.itertuples() if r.trial_number == r.trial_number}
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            run_id = by_trial.get(trial.number) or trial.user_attrs.get("run_id")
            if run_id is None:
                study.tell(trial.number, state=TrialState.FAIL)
                continue
            self.running[trial.number] = run_id
            run = self._run_state(run_id)
            if run is not None and run["status"] == "interrupted":
                run = {**run, "status": "failed"}  # died with the driver: the trial is redone
            if run is not None:
                self._tell(study, trial.number, run_id, run)
                del self.running[trial.number]

    def _cancel_running(self, study: optuna.Study) -> None:
        from core.jobs import cancel_job

        for number, run_id in list(self.running.items()):
            with contextlib.suppress(LoupeError):
                cancel_job(run_id, self.rec.store)
            study.tell(number, state=TrialState.FAIL)
            del self.running[number]

    def _record(self, study: optuna.Study, elapsed: float) -> None:
        trials = study.get_trials(deepcopy=False)
        done = sum(t.state in COUNTED for t in trials)
        fields: dict[str, Any] = {"trials_done": done, "elapsed_s": elapsed}
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        if complete:
            best = study.best_trial
            run_id = best.user_attrs.get("run_id") or self._run_of(best.number)
            fields.update(best_trial=best.number, best_value=float(best.value), best_run_id=run_id)
        self.rec.update(self.id, **fields)

    def _run_of(self, number: int) -> str | None:
        runs = self.rec.runs(self.id)
        hit = runs[runs["trial_number"] == number]
        return None if hit.empty else str(hit["id"].iloc[0])

    def _last_error(self, study: optuna.Study) -> str:
        errors = [v for k, v in study.user_attrs.items() if k.startswith("error_")]
        return f"{MAX_FAILURES_IN_A_ROW} trials in a row failed; the last: {errors[-1] if errors else '?'}"


def mark_pruned(records: SweepRecords, run_id: str, reporter: st.TrialReporter) -> None:
    """A run stopped by the pruner: tagged ``pruned`` and its status says why (still 'cancelled')."""
    if reporter.pruned_at is None:
        return
    store = records.store
    run = store.get_run(run_id)
    if run["status"] == "completed":  # the pruner spoke after the last epoch: it finished anyway
        store.tag_run(run_id, [t for t in run["tags"] if t != "pruned"])
        return
    store.tag_run(run_id, [*run["tags"], "pruned"])
    store.set_status(run_id, "cancelled",
                     error=f"Pruned by the sweep after epoch {reporter.pruned_at}: its validation "
                           "score was worse than earlier trials at the same epoch.")


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
