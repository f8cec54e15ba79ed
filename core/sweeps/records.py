"""Sweep rows in the run history (migration 5): the ``sweeps`` table and the run -> sweep link.

Goes through ``RunStore.connect`` (short-lived connections with lock retry), like every other
access to the DuckDB file. Optuna's own study state lives beside it in a journal file
(``core.sweeps.study``); this table is what lists, pages and reports read.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core.config import RunConfig
from core.errors import LoupeError
from core.store import RunStore
from core.store.guards import ACTIVE
from core.store.health import pid_alive, pid_or_none

SWEEP_STATUSES = ("queued", "running", "completed", "cancelled", "failed", "interrupted")
COLUMNS = ("id, task, name, status, created_at, started_at, finished_at, config_json, space_json,"
           " metric, direction, n_trials, minutes, sampler, pruner, parallel, seed, best_run_id,"
           " best_value, best_trial, trials_done, elapsed_s, pid, host, heartbeat_at,"
           " cancel_requested, error")


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep is asked to do (validated by ``core.sweeps.create_sweep``)."""

    config: RunConfig  # the base run: data, and every setting the space does not vary
    space: dict[str, dict[str, Any]]
    metric: str  # a validation metric of the run, e.g. val_rmse
    direction: str  # minimize | maximize
    n_trials: int | None = 20
    minutes: float | None = None
    sampler: str = "tpe"
    pruner: str = "median"
    parallel: int = 1
    seed: int = 0
    name: str = ""


def _now() -> datetime:
    return datetime.now()


class SweepRecords:
    """Reads and writes sweep rows through a RunStore."""

    def __init__(self, store: RunStore | None = None) -> None:
        self.store = store or RunStore()

    def folder(self, sweep_id: str) -> Path:
        return self.store.home / "sweeps" / sweep_id

    def create(self, spec: SweepSpec) -> str:
        from core.output import mask_message

        sweep_id = uuid.uuid4().hex[:10]
        name = mask_message(spec.name) if spec.name else f"{spec.config.task}-sweep-{sweep_id[:6]}"
        with self.store.connect() as con:
            con.execute(
                f"INSERT INTO sweeps ({COLUMNS}) VALUES (?, ?, ?, 'queued', ?, NULL, NULL, ?, ?, ?, ?,"
                " ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, false, NULL)",
                [sweep_id, spec.config.task, name, _now(), spec.config.to_json(),
                 json.dumps(spec.space), spec.metric, spec.direction, spec.n_trials, spec.minutes,
                 spec.sampler, spec.pruner, spec.parallel, spec.seed],
            )
        self.folder(sweep_id).mkdir(parents=True, exist_ok=True)
        return sweep_id

    def resolve(self, ref: Any) -> str:
        """The sweep that ``ref`` names: its id or a unique prefix of 4+ characters."""
        text = ref.strip() if isinstance(ref, str) else ""
        if not text:
            raise LoupeError("No sweep id given (it is empty).", "pass an id from `loupe sweeps`.")
        with self.store.connect() as con:
            rows = con.execute("SELECT id FROM sweeps WHERE id=? OR (length(?) >= 4 AND "
                               "starts_with(id, ?)) LIMIT 3", [text, text, text]).fetchall()
        ids = sorted({r[0] for r in rows})
        if text in ids:
            return text
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise LoupeError(f"No sweep with id {text!r}.", "list sweeps with `loupe sweeps`.")
        raise LoupeError(f"The prefix {text!r} matches several sweeps: {', '.join(ids)}.",
                         "type more characters of the id.")

    def get(self, ref: str) -> dict[str, Any]:
        sweep_id = self.resolve(ref)
        frame = self.store._frame(f"SELECT {COLUMNS} FROM sweeps WHERE id=?", [sweep_id])
        if frame.empty:
            raise LoupeError(f"No sweep with id {sweep_id!r}.", "list sweeps with `loupe sweeps`.")
        row = frame.iloc[0].to_dict()
        row["config"] = json.loads(row.pop("config_json"))
        row["space"] = json.loads(row.pop("space_json"))
        for key in ("n_trials", "best_trial", "pid", "parallel", "seed", "trials_done"):
            row[key] = None if pd.isna(row[key]) else int(row[key])
        for key in ("minutes", "best_value"):
            row[key] = None if pd.isna(row[key]) else float(row[key])
        return row

    def spec(self, row: dict[str, Any]) -> SweepSpec:
        return SweepSpec(RunConfig.from_dict(row["config"]), row["space"], row["metric"],
                         row["direction"], row["n_trials"], row["minutes"], row["sampler"],
                         row["pruner"], row["parallel"] or 1, row["seed"] or 0, row["name"])

    def list(self, limit: int | None = None) -> pd.DataFrame:
        sql = ("SELECT id, task, name, status, created_at, finished_at, metric, direction, n_trials,"
               " minutes, sampler, pruner, trials_done, best_value, best_run_id, error FROM sweeps"
               " ORDER BY created_at DESC")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self.store._frame(sql)

    def runs(self, sweep_id: str) -> pd.DataFrame:
        return self.store._frame(
            "SELECT id, name, status, trial_number, metrics_json, tags, error, created_at,"
            " finished_at FROM runs WHERE sweep_id=? ORDER BY trial_number", [sweep_id])

    # --- updates ------------------------------------------------------------------------------
    def update(self, sweep_id: str, **fields: Any) -> None:
        allowed = {"status", "started_at", "finished_at", "best_run_id", "best_value", "best_trial",
                   "trials_done", "elapsed_s", "pid", "host", "heartbeat_at", "cancel_requested",
                   "error"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"not a sweep field: {bad}")
        sets = ", ".join(f"{k}=?" for k in fields)
        self.store._execute(f"UPDATE sweeps SET {sets} WHERE id=?", [*fields.values(), sweep_id])

    def claim(self, sweep_id: str) -> None:
        """This process now drives the sweep."""
        self.update(sweep_id, status="running", pid=os.getpid(), host=socket.gethostname(),
                    heartbeat_at=_now(), cancel_requested=False, error=None, finished_at=None)
        with self.store.connect() as con:
            con.execute("UPDATE sweeps SET started_at=coalesce(started_at, ?) WHERE id=?",
                        [_now(), sweep_id])

    def link_run(self, run_id: str, sweep_id: str, trial_number: int) -> None:
        self.store._execute("UPDATE runs SET sweep_id=?, trial_number=? WHERE id=?",
                            [sweep_id, trial_number, run_id])

    def heartbeat(self, sweep_id: str) -> bool:
        """Mark the driver alive; True when a cancel was asked for (or the sweep was deleted)."""
        with self.store.connect() as con:
            con.execute("UPDATE sweeps SET heartbeat_at=? WHERE id=?", [_now(), sweep_id])
            row = con.execute("SELECT cancel_requested FROM sweeps WHERE id=?", [sweep_id]).fetchone()
        return row is None or bool(row[0])

    def driver_alive(self, row: dict[str, Any]) -> bool:
        """Whether the process driving ``row`` still runs (on this host; elsewhere: trust it)."""
        if row["status"] not in ("running", "queued") or not row.get("pid"):
            return False
        if row.get("host") != socket.gethostname():
            return True
        return pid_alive(int(row["pid"]))

    def recover(self) -> list[str]:
        """Sweeps left 'running' by a driver that died -> interrupted (resumable)."""
        dead = []
        for sweep_id in self.store._frame("SELECT id FROM sweeps WHERE status='running'")["id"]:
            row = self.get(sweep_id)
            if row["status"] == "running" and not self.driver_alive(row) \
                    and self.mark_interrupted(sweep_id, row.get("pid")):
                dead.append(sweep_id)
        return dead

    def mark_interrupted(self, sweep_id: str, seen_pid: Any) -> bool:
        """Compare-and-set: a driver finishes by writing its status and exiting, so a sweep seen
        'running' under a dead pid may have completed since; only one still running turns
        interrupted (this once overwrote a completed sweep)."""
        with self.store.connect() as con:
            changed = con.execute(
                "UPDATE sweeps SET status='interrupted', error=? WHERE id=? AND status='running' "
                "AND pid IS NOT DISTINCT FROM ? RETURNING id",
                ["The sweep process stopped unexpectedly; `loupe sweep resume` continues it.",
                 sweep_id, pid_or_none(seen_pid)],
            ).fetchall()
        return bool(changed)

    def delete(self, ref: str, keep_runs: bool) -> list[str]:
        """Remove the sweep, its study file and, unless ``keep_runs``, its trial runs. Refused
        while it runs. Returns the ids of the runs deleted (none when kept: they are unlinked)."""
        self.recover()
        row = self.get(ref)
        if row["status"] in ACTIVE and self.driver_alive(row):
            raise LoupeError(f"Sweep {row['id']} is {row['status']}: deleting it now would leave its "
                             "trials running.",
                             f"cancel it first with `loupe sweep cancel {row['id']}`.")
        runs = self.runs(row["id"])
        if not keep_runs and runs["status"].isin(ACTIVE).any():
            self.store.recover_interrupted()
            runs = self.runs(row["id"])
        deleted = []
        if keep_runs:
            self.store._execute("UPDATE runs SET sweep_id=NULL, trial_number=NULL WHERE sweep_id=?",
                                [row["id"]])
        else:
            for run_id in runs["id"]:
                self.store.delete_run(run_id)  # refuses a run still training
                deleted.append(run_id)
        self.store._execute("DELETE FROM sweeps WHERE id=?", [row["id"]])
        shutil.rmtree(self.folder(row["id"]), ignore_errors=True)
        return deleted
