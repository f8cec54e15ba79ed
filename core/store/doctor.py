"""`loupe doctor`: check the run history, repair a damaged one, clean up orphans.

Repair never deletes: the damaged file (and its WAL) is renamed ``loupe.duckdb.corrupt-<time>``,
a fresh history is built beside it under a temporary name, every row DuckDB can still read is
copied in (table by table, then row group by row group when a table is partly damaged), and only
then is the fresh file renamed into place. Run folders are kept.

Orphans are what a run left behind after its row was deleted: ``runs/<id>`` folders and metric,
artifact, system and explanation rows whose run id has no run row.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from core.errors import LoupeError
from core.store.health import damaged_error, is_lock_error
from core.store.ids import is_run_id
from core.store.schema import migrate

TABLES = ("runs", "metrics", "artifacts", "system_metrics", "privacy_audit", "column_overrides",
          "explanations", "uploads", "sweeps", "pinned_comparisons")
ORPHAN_TABLES = ("metrics", "artifacts", "system_metrics", "explanations", "pinned_comparisons")
CHUNK_ROWS = 122_880  # one DuckDB row group: a damaged block loses at most its own group


@dataclass
class Check:
    """What `loupe doctor` found."""

    path: Path
    problem: str | None = None  # None: every table of the history reads back
    orphan_dirs: list[str] = field(default_factory=list)
    orphan_rows: dict[str, int] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return self.problem is None and not self.orphan_dirs and not any(self.orphan_rows.values())


@dataclass
class Repair:
    kept_as: Path
    copied: dict[str, int]
    lost: dict[str, str]  # table -> why (some or all of its rows could not be read)


def read_all(path: Path) -> None:
    """Read every row of every table (so every block's checksum is verified); raises on damage."""
    deadline = time.monotonic() + 10.0
    while True:  # Loupe's connections are short-lived: wait out another process's write
        try:
            con = duckdb.connect(str(path), read_only=True)
            break
        except duckdb.Error as exc:
            if not is_lock_error(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    try:
        names = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='main'").fetchall()}
        for table in TABLES:
            if table in names:  # hashing whole rows reads every column's blocks
                con.execute(f"SELECT count(*), sum(hash({table})) FROM {table}").fetchall()
    finally:
        con.close()


def check(path: Path) -> Check:
    result = Check(path)
    if not path.exists():
        return result
    try:
        read_all(path)
    except duckdb.Error as exc:
        if is_lock_error(exc):  # in use, not damaged
            raise LoupeError(f"The run history {path} is in use by another process.",
                             "stop the other Loupe processes (dashboard, trainings), then run "
                             "`loupe doctor` again.") from exc
        result.problem = str(damaged_error(path, exc))
        return result
    from core.store.runs import RunStore

    store = RunStore(path)
    known = _run_ids(store)
    result.orphan_dirs = _orphan_dirs(store.runs_root, known)
    with store.connect() as con:
        for table in ORPHAN_TABLES:
            result.orphan_rows[table] = int(con.execute(
                f"SELECT count(*) FROM {table} WHERE run_id NOT IN (SELECT id FROM runs)"
            ).fetchone()[0])
    return result


def remove_orphans(path: Path) -> tuple[list[str], dict[str, int]]:
    """Delete orphan run folders and rows; returns what was removed."""
    from core.store.runs import RunStore

    store = RunStore(path)
    removed: dict[str, int] = {}
    with store.connect() as con:
        con.execute("BEGIN TRANSACTION")
        for table in ORPHAN_TABLES:
            rows = con.execute(f"DELETE FROM {table} WHERE run_id NOT IN (SELECT id FROM runs)"
                               " RETURNING 1").fetchall()
            removed[table] = len(rows)
        con.execute("COMMIT")
    folders = _orphan_dirs(store.runs_root, _run_ids(store))
    for name in folders:
        shutil.rmtree(store.runs_root / name, ignore_errors=True)
    return folders, removed


def _run_ids(store: object) -> set[str]:
    with store.connect() as con:  # type: ignore[attr-defined]
        return {r[0] for r in con.execute("SELECT id FROM runs").fetchall()}


def _orphan_dirs(root: Path, known: set[str]) -> list[str]:
    """Run-id-shaped folders under ``runs/`` without a run row (anything else is left alone)."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir()
                  if p.is_dir() and not p.is_symlink() and is_run_id(p.name) and p.name not in known)


def repair(path: Path) -> Repair:
    """Move a damaged history aside (kept), build a fresh one and copy every readable row."""
    if not path.exists():
        raise LoupeError(f"There is no run history at {path}.", "nothing to repair.")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.corrupt-{stamp}")
    fresh = path.with_name(f"{path.name}.repair-tmp")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    copied: dict[str, int] = {}
    lost: dict[str, str] = {}
    try:
        con = duckdb.connect(str(fresh))
        try:
            migrate(con)
            _salvage(con, path, copied, lost)
        finally:
            con.close()
        path.rename(kept)
        wal = path.with_name(path.name + ".wal")
        if wal.exists():
            wal.rename(kept.with_name(kept.name + ".wal"))
        fresh.rename(path)
    except OSError as exc:
        raise LoupeError(f"Could not repair {path} ({exc.strerror or exc}).",
                         "make LOUPE_HOME writable with free space, then run it again.") from exc
    finally:
        with contextlib.suppress(OSError):
            fresh.unlink(missing_ok=True)
    from core.store import runs

    runs._MIGRATED.discard(str(path))
    return Repair(kept, copied, lost)


def _salvage(con: duckdb.DuckDBPyConnection, old: Path, copied: dict[str, int],
             lost: dict[str, str]) -> None:
    try:
        con.execute(f"ATTACH '{_sql_text(old)}' AS old (READ_ONLY)")
    except duckdb.Error as exc:
        for table in TABLES:
            lost[table] = f"the file could not be opened ({type(exc).__name__})"
        return
    try:
        present = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name='old'").fetchall()}
        for table in TABLES:
            if table not in present:
                lost[table] = "table missing or unreadable"
                continue
            copied[table], problem = _copy_table(con, table)
            if problem:
                lost[table] = problem
    except duckdb.Error as exc:
        for table in TABLES:
            lost.setdefault(table, f"catalog unreadable ({type(exc).__name__})")
    finally:
        with contextlib.suppress(duckdb.Error):
            con.execute("DETACH old")


def _copy_table(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, str | None]:
    """Rows copied, and a note when some could not be read."""
    new_cols = [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name=current_database()"
        " AND table_name=?", [table]).fetchall()]
    old_cols = {r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name='old' AND table_name=?",
        [table]).fetchall()}
    cols = ", ".join(f'"{c}"' for c in new_cols if c in old_cols)
    insert = f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM old.{table}"
    try:
        return len(con.execute(insert + " RETURNING 1").fetchall()), None
    except duckdb.Error:
        pass
    try:  # partly damaged: row group by row group
        total = int(con.execute(f"SELECT max(rowid) + 1 FROM old.{table}").fetchone()[0] or 0)
    except duckdb.Error as exc:
        return 0, f"unreadable ({type(exc).__name__})"
    count, bad = 0, 0
    for start in range(0, total, CHUNK_ROWS):
        try:
            count += len(con.execute(
                insert + " WHERE rowid >= ? AND rowid < ? RETURNING 1",
                [start, start + CHUNK_ROWS]).fetchall())
        except duckdb.Error:
            bad += 1
    return count, (f"{bad} damaged block(s) of up to {CHUNK_ROWS:,} rows could not be read"
                   if bad else None)


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")
