"""RunStore: the one access path to the DuckDB run history.

Concurrency design. DuckDB lets one process at a time open a database file for writing, and a
process holding it blocks every other process, readers included. Training runs in a child process
while the dashboard reads, and several trainings may run at once, so no process keeps the file
open: every operation opens a short-lived connection, does its work in one transaction and closes
it. When another process holds the file the open fails with a lock error; we retry with jittered
backoff for up to ``lock_timeout`` seconds. Writers buffer metrics in memory and append them as one
DataFrame per flush (every couple of seconds), so the lock is held for milliseconds at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from core.config import RunConfig
from core.errors import LoupeError
from core.paths import loupe_home
from core.store.cache_files import forget_cache_entries
from core.store.guards import ACTIVE, check_deletable
from core.store.health import (
    damaged_error,
    is_lock_error,
    looks_damaged,
    pid_alive,
    pid_or_none,
)
from core.store.ids import check_run_id, resolve_run_id
from core.store.metrics import MetricSeries
from core.store.schema import migrate

if TYPE_CHECKING:  # DataFrames come from DuckDB (.df()), which imports pandas when asked
    import pandas as pd

STATUSES = ("queued", "running", "completed", "failed", "interrupted", "cancelled")
RUN_COLUMNS = (
    "id, task, name, status, created_at, started_at, finished_at, config_json, dataset_fingerprint,"
    " device, precision, metrics_json, tags, notes, error, pid, host, heartbeat_at"
)
_MIGRATED: set[str] = set()


def _now() -> datetime:
    return datetime.now()


def _user_text(text: str | None) -> str:
    """Run names, notes and tags are stored masked (privacy mode): what a user types into them
    reaches every list, card and export, so personal data in them never enters the store."""
    from core.output import mask_message

    return mask_message(text) if text else (text or "")


def stored_config(cfg: RunConfig) -> RunConfig:
    """The config as the store keeps it: name and tags masked like every user-typed field."""
    return cfg.replace(name=_user_text(cfg.name), tags=[_user_text(t) for t in cfg.tags])


def metrics_from_json(raw: Any) -> dict[str, Any]:
    """A run's metrics from its ``metrics_json`` cell: {} for a run that never finished (the
    cell is NULL, which a DataFrame row gives as None or NaN depending on the pandas version)."""
    return json.loads(raw) if isinstance(raw, str) and raw else {}


class RunStore(MetricSeries):
    """Runs, metrics, artifacts and system figures in one DuckDB file under LOUPE_HOME."""

    def __init__(self, path: str | Path | None = None, lock_timeout: float = 60.0) -> None:
        self.home = loupe_home() if path is None else Path(path).parent
        self.home.mkdir(parents=True, exist_ok=True)
        self.path = Path(path) if path is not None else self.home / "loupe.duckdb"
        self.runs_root = self.home / "runs"
        self.lock_timeout = lock_timeout
        self.lock_retries = 0  # how often this store had to wait for another process
        if str(self.path) not in _MIGRATED:
            with self.connect() as con:
                try:
                    migrate(con)
                except duckdb.Error as exc:  # any failure to read or update the schema
                    raise damaged_error(self.path, exc) from exc
            _MIGRATED.add(str(self.path))

    # --- connections ----------------------------------------------------------------------
    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection; waits (with backoff) while another process holds the file."""
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.005
        while True:
            try:
                con = duckdb.connect(str(self.path))
                break
            except duckdb.Error as exc:
                if isinstance(exc, duckdb.IOException) and not (
                        is_lock_error(exc) or looks_damaged(exc)):
                    raise LoupeError(
                        f"Cannot open the run history {self.path}: {exc}",
                        "check that LOUPE_HOME and the file are readable and writable.",
                    ) from exc
                if not is_lock_error(exc):
                    raise damaged_error(self.path, exc) from exc
                if time.monotonic() > deadline:
                    raise LoupeError(
                        f"The run history {self.path} stayed locked by another process for "
                        f"{self.lock_timeout:.0f} s.",
                        "wait for the other Loupe process to finish, or stop it.",
                    ) from exc
                self.lock_retries += 1
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.2)
        try:
            yield con
        except duckdb.Error as exc:
            if looks_damaged(exc):  # a bad block found while reading: the file, not the query
                raise damaged_error(self.path, exc, "read") from exc
            if isinstance(exc, duckdb.IOException):  # a full disk or a folder turned read-only
                raise LoupeError(
                    f"Cannot write the run history {self.path}: {exc}",
                    "free disk space (or make LOUPE_HOME writable) and try again; an interrupted "
                    "run continues with `loupe resume RUN_ID`.",
                ) from exc
            raise
        finally:
            con.close()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.connect() as con:
            con.execute(sql, list(params))

    def _frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute(sql, list(params)).df()

    def _records(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows as dicts of plain Python values (no pandas: see ``list_run_records``)."""
        with self.connect() as con:
            cursor = con.execute(sql, list(params))
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # --- run lifecycle --------------------------------------------------------------------
    def create_run(self, cfg: RunConfig, fingerprint: str = "", status: str = "queued") -> str:
        run_id = uuid.uuid4().hex[:10]
        cfg = stored_config(cfg)
        name = cfg.name or f"{cfg.task}-{run_id[:6]}"
        self._execute(
            "INSERT INTO runs (id, task, name, status, created_at, config_json, dataset_fingerprint,"
            " tags, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '')",
            [run_id, cfg.task, name, status, _now(), cfg.to_json(), fingerprint, list(cfg.tags)],
        )
        return run_id

    def set_train_settings(self, run_id: str, train: dict[str, Any]) -> None:
        """Record the training settings a queued run really uses (a task may choose settings
        left at their defaults from the data, e.g. text epochs), so pages show those."""
        with self.connect() as con:
            row = con.execute("SELECT config_json FROM runs WHERE id=?", [run_id]).fetchone()
            if row is None:
                return
            config = json.loads(row[0])
            config["train"] = {**config.get("train", {}), **train}
            con.execute("UPDATE runs SET config_json=? WHERE id=?",
                        [json.dumps(config, sort_keys=True), run_id])

    def unique_name(self, base: str) -> str:
        """``base``, or ``base-2``, ``base-3``… when runs already carry it (derived run names)."""
        base = _user_text(base)
        taken = set(self._frame("SELECT name FROM runs WHERE name = ? OR name LIKE ? ESCAPE '\\'",
                                [base, base.replace("\\", "\\\\").replace("%", "\\%")
                                 .replace("_", "\\_") + "-%"])["name"])
        if base not in taken:
            return base
        n = 2
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"

    def start_run(self, run_id: str, device: str, precision: str, fingerprint: str = "") -> bool:
        """Mark the run running in this process; False when the run no longer exists (deleted)."""
        with self.connect() as con:
            rows = con.execute(
                "UPDATE runs SET status='running', started_at=?, device=?, precision=?, pid=?,"
                " host=?, heartbeat_at=?, error=NULL, finished_at=NULL,"
                " dataset_fingerprint=coalesce(nullif(?, ''), dataset_fingerprint) WHERE id=?"
                " RETURNING id",
                [_now(), device, precision, os.getpid(), socket.gethostname(), _now(), fingerprint,
                 run_id],
            ).fetchall()
        return bool(rows)

    def run_exists(self, run_id: str) -> bool:
        with self.connect() as con:
            return con.execute("SELECT 1 FROM runs WHERE id=?", [run_id]).fetchone() is not None

    def finish_run(self, run_id: str, metrics: dict[str, Any], status: str = "completed") -> None:
        self._execute(
            "UPDATE runs SET status=?, finished_at=?, metrics_json=? WHERE id=?",
            [status, _now(), json.dumps(metrics, default=float), run_id],
        )

    def fail_run(self, run_id: str, error: str) -> None:
        self._execute(
            "UPDATE runs SET status='failed', finished_at=?, error=? WHERE id=?",
            [_now(), _user_text(error[:4000]), run_id],
        )

    def set_status(self, run_id: str, status: str, error: str | None = None) -> None:
        if status not in STATUSES:
            raise LoupeError(f"Unknown run status '{status}'.", f"use one of {', '.join(STATUSES)}.")
        finished = _now() if status not in ACTIVE else None
        self._execute(
            "UPDATE runs SET status=?, finished_at=?, error=coalesce(?, error) WHERE id=?",
            [status, finished, error and _user_text(error), run_id],
        )

    def heartbeat(self, run_id: str) -> bool:
        """Mark the run alive; True when it should stop: cancel requested, or the run deleted."""
        with self.connect() as con:
            con.execute("UPDATE runs SET heartbeat_at=? WHERE id=?", [_now(), run_id])
            row = con.execute("SELECT cancel_requested FROM runs WHERE id=?", [run_id]).fetchone()
        return row is None or bool(row[0])

    def request_cancel(self, run_id: str) -> None:
        self._execute("UPDATE runs SET cancel_requested=true WHERE id=?", [run_id])
        self._execute(
            "UPDATE runs SET status='cancelled', finished_at=? WHERE id=? AND status='queued'",
            [_now(), run_id],
        )

    def recover_interrupted(self, stale_after: float = 120.0) -> list[str]:
        """Runs left 'running' by a process that died (killed, crashed, power loss) → interrupted.

        A run is dead when its process is gone on this host, or its heartbeat is older than
        ``stale_after`` seconds on another host.
        """
        rows = self._records("SELECT id, pid, host, heartbeat_at FROM runs WHERE status='running'")
        dead = []
        here = socket.gethostname()
        for row in rows:
            if row["host"] == here:
                gone = bool(row["pid"]) and not pid_alive(int(row["pid"]))
            else:
                beat = row["heartbeat_at"]
                gone = beat is not None and (_now() - beat).total_seconds() > stale_after
            if gone and self.mark_interrupted(row["id"], row["pid"]):
                dead.append(row["id"])
        return dead

    def mark_interrupted(self, run_id: str, seen_pid: Any) -> bool:
        """Compare-and-set: only a run still 'running' under the process we saw dead turns
        interrupted; one that finished meanwhile (its process exits right after) keeps its status."""
        error = "The training process stopped unexpectedly."
        with self.connect() as con:
            changed = con.execute(
                "UPDATE runs SET status='interrupted', finished_at=?, error=coalesce(?, error) "
                "WHERE id=? AND status='running' AND pid IS NOT DISTINCT FROM ? RETURNING id",
                [_now(), error, run_id, pid_or_none(seen_pid)],
            ).fetchall()
        return bool(changed)

    # --- queries --------------------------------------------------------------------------
    def resolve_id(self, ref: str) -> str:
        """The run id that ``ref`` names: the exact id or a unique literal prefix (core.store.ids)."""
        def query(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
            with self.connect() as con:
                return con.execute(sql, list(params)).fetchall()

        return resolve_run_id(ref, query)

    def get_run(self, run_id: str) -> dict[str, Any]:
        """One run by id or unique prefix (see ``resolve_id``)."""
        run_id = self.resolve_id(run_id)
        frame = self._frame(f"SELECT {RUN_COLUMNS} FROM runs WHERE id=?", [run_id])
        if frame.empty:  # deleted between the two reads
            raise LoupeError(f"No run with id '{run_id}'.", "list runs with `loupe runs`.")
        row = frame.iloc[0].to_dict()
        row["config"] = json.loads(row.pop("config_json"))
        row["metrics"] = metrics_from_json(row.pop("metrics_json"))
        row["tags"] = list(row["tags"] if row["tags"] is not None else [])
        return row

    def config(self, run_id: str) -> RunConfig:
        return RunConfig.from_dict(self.get_run(run_id)["config"])

    def list_runs(self, **query: Any) -> pd.DataFrame:
        """The runs ``query`` selects (``task``, ``status``, ``tag``, ``text``, ``order_by``,
        ``descending``, ``limit``, ``offset``: see ``_list_query``), newest first by default."""
        return self._frame(*self._list_query(**query))

    def list_run_records(self, **query: Any) -> list[dict[str, Any]]:
        """``list_runs`` as a list of dicts of plain values (datetimes, lists, None) without
        pandas: `loupe runs` answers without importing it."""
        return self._records(*self._list_query(**query))

    def _list_query(
        self,
        task: str | None = None,
        status: str | None = None,
        tag: str | None = None,
        text: str | None = None,
        order_by: str = "created_at",
        descending: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> tuple[str, list[Any]]:
        where, params = self._filters(task, status, tag, text)
        allowed = {"created_at", "finished_at", "name", "task", "status", "started_at"}
        if order_by not in allowed:
            raise LoupeError(f"Cannot sort runs by '{order_by}'.", f"use one of {sorted(allowed)}.")
        sql = (
            f"SELECT id, task, name, status, created_at, started_at, finished_at, device, precision,"
            f" metrics_json, tags, notes, error, dataset_fingerprint,"
            f" json_extract_string(config_json, '$.data.source') AS data_source FROM runs {where}"
            f" ORDER BY {order_by} {'DESC' if descending else 'ASC'} NULLS LAST"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return sql, list(params)

    def count_runs(self, **filters: Any) -> int:
        where, params = self._filters(**filters)
        return int(self._frame(f"SELECT count(*) AS n FROM runs {where}", params)["n"][0])

    @staticmethod
    def _filters(
        task: str | None = None, status: str | None = None, tag: str | None = None,
        text: str | None = None,
    ) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if task:
            clauses.append("task = ?")
            params.append(task)
        if status:
            clauses.append("status = ?")
            params.append(status)
        if tag:
            clauses.append("list_contains(tags, ?)")
            params.append(_user_text(tag))
        if text:  # the search text is literal: % and _ are escaped, not wildcards
            clauses.append("(name ILIKE ? ESCAPE '\\' OR notes ILIKE ? ESCAPE '\\'"
                           " OR id ILIKE ? ESCAPE '\\')")
            literal = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params += [f"%{literal}%"] * 3
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params

    # --- editing --------------------------------------------------------------------------
    def tag_run(self, run_id: str, tags: Sequence[str]) -> None:
        clean = sorted({_user_text(t.strip()) for t in tags if t.strip()})
        self._execute("UPDATE runs SET tags=? WHERE id=?", [clean, run_id])

    def rename_run(self, run_id: str, name: str) -> None:
        if not name.strip():
            raise LoupeError("A run name cannot be empty.", "type a name.")
        self._execute("UPDATE runs SET name=? WHERE id=?", [_user_text(name.strip()), run_id])

    def set_notes(self, run_id: str, notes: str) -> None:
        self._execute("UPDATE runs SET notes=? WHERE id=?", [_user_text(notes), run_id])

    def delete_run(self, run_id: str) -> None:
        """Remove the run, its metrics, artifacts, cached explanations, pinned comparisons, the
        cache entries its data used (``core.store.cache_files``: e.g. its photos' decoded pixels)
        and its folder.

        A queued or running run is refused: its trainer would go on writing. Cancel it first
        (``loupe cancel``); the trainer also stops by itself when it finds its run gone.
        """
        check_deletable(self, run_id)
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            for table in ("metrics", "artifacts", "system_metrics", "explanations",
                          "pinned_comparisons"):
                con.execute(f"DELETE FROM {table} WHERE run_id=?", [run_id])
            con.execute("DELETE FROM runs WHERE id=?", [run_id])
            con.execute("COMMIT")
        forget_cache_entries(self.run_dir(run_id, create=False))
        shutil.rmtree(self.run_dir(run_id, create=False), ignore_errors=True)

    # --- artifacts ------------------------------------------------------------------------
    def run_dir(self, run_id: str, create: bool = True) -> Path:
        """``LOUPE_HOME/runs/<id>``; the id is checked first, so no path can leave ``runs/``."""
        path = self.runs_root / check_run_id(run_id)
        if create:
            path.mkdir(parents=True, exist_ok=True)
        return path

    def add_artifact(self, run_id: str, kind: str, path: Path) -> None:
        """Record a file or folder with its size and content hash."""
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        digest, size = hashlib.sha256(), 0
        for file in files:
            size += file.stat().st_size
            with open(file, "rb") as handle:
                for chunk in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(chunk)
        with self.connect() as con:  # one transaction; nothing is recorded for a deleted run
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM artifacts WHERE run_id=? AND kind=?", [run_id, kind])
            con.execute(
                "INSERT INTO artifacts SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS"
                " (SELECT 1 FROM runs WHERE id=?)",
                [run_id, kind, str(path), size, digest.hexdigest(), _now(), run_id],
            )
            con.execute("COMMIT")

    def artifacts(self, run_id: str) -> pd.DataFrame:
        return self._frame(
            "SELECT kind, path, bytes, sha256, created_at FROM artifacts WHERE run_id=?", [run_id]
        )

    def artifact_path(self, run_id: str, kind: str = "model") -> Path:
        frame = self._frame("SELECT path FROM artifacts WHERE run_id=? AND kind=?", [run_id, kind])
        if frame.empty:
            raise LoupeError(
                f"Run '{run_id}' has no saved {kind}.",
                "pick a run that completed training (status 'completed').",
            )
        return Path(frame["path"][0])
