"""Privacy audit trail and per-dataset column-role overrides, kept in the run store.

Masking is the default; turning it off is a deliberate act that must leave a trace: who, when,
which dataset (by content fingerprint), which columns. Only names and fingerprints are written
here, never a cell value, so the audit table itself holds no personal data. Overrides are keyed
by the dataset fingerprint so the same data gets the user's choices back however the file is
named, and edited data starts from a fresh scan.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

import pandas as pd

from core.privacy.report import check_role

UNMASK = "unmask"
REMASK = "remask"
OVERRIDE = "override"
AUDIT_COLUMNS = ["id", "logged_at", "dataset_fingerprint", "dataset_name", "action", "columns",
                 "actor"]


_DELETE_OVERRIDE = (
    "DELETE FROM column_overrides WHERE dataset_fingerprint = ? AND column_name = ?"
)


class _Store(Protocol):
    def connect(self): ...  # a context manager yielding a DuckDB connection


def _columns(columns: Iterable[str]) -> list[str]:
    return sorted({str(c) for c in columns})


def record_event(store: _Store, fingerprint: str, dataset_name: str, action: str,
                 columns: Iterable[str], actor: str = "local user") -> str:
    """Append one audit row; returns its id."""
    event_id = uuid.uuid4().hex
    with store.connect() as con:
        con.execute(
            "INSERT INTO privacy_audit (id, logged_at, dataset_fingerprint, dataset_name, action,"
            " columns_json, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [event_id, datetime.now(), fingerprint, dataset_name, action,
             json.dumps(_columns(columns)), actor],
        )
    return event_id


def record_unmask(store: _Store, fingerprint: str, dataset_name: str, columns: Iterable[str],
                  actor: str = "local user") -> str:
    """Record that ``columns`` of a dataset are shown unmasked from now on; returns the id."""
    return record_event(store, fingerprint, dataset_name, UNMASK, columns, actor)


def record_remask(store: _Store, fingerprint: str, dataset_name: str, columns: Iterable[str],
                  actor: str = "local user") -> str:
    """Record that ``columns`` go back to masked (privacy mode on again for them)."""
    return record_event(store, fingerprint, dataset_name, REMASK, columns, actor)


def audit_log(store: _Store, fingerprint: str | None = None) -> pd.DataFrame:
    """The audit trail, newest first; ``columns`` is a list of column names per event."""
    sql = ("SELECT id, logged_at, dataset_fingerprint, dataset_name, action, columns_json, actor"
           " FROM privacy_audit")
    params: list[str] = []
    if fingerprint is not None:
        sql += " WHERE dataset_fingerprint = ?"
        params.append(fingerprint)
    with store.connect() as con:
        frame = con.execute(sql + " ORDER BY logged_at DESC, id", params).df()
    frame["columns"] = [json.loads(c) if c else [] for c in frame.pop("columns_json")]
    return frame[AUDIT_COLUMNS]


def unmasked_columns(store: _Store, fingerprint: str) -> set[str]:
    """Columns of a dataset currently unmasked: replays unmask/remask events in order."""
    with store.connect() as con:
        rows = con.execute(
            "SELECT action, columns_json FROM privacy_audit WHERE dataset_fingerprint = ?"
            " AND action IN (?, ?) ORDER BY logged_at, id", [fingerprint, UNMASK, REMASK],
        ).fetchall()
    shown: set[str] = set()
    for action, cols in rows:
        names = set(json.loads(cols or "[]"))
        shown = shown | names if action == UNMASK else shown - names
    return shown


def save_override(store: _Store, fingerprint: str, column: str, classification: str,
                  actor: str = "local user") -> None:
    """Set a column's role for this dataset (replacing any earlier choice) and audit it."""
    check_role(classification, column)
    with store.connect() as con:
        con.execute("BEGIN TRANSACTION")
        con.execute(_DELETE_OVERRIDE, [fingerprint, column])
        con.execute(
            "INSERT INTO column_overrides (dataset_fingerprint, column_name, classification,"
            " updated_at) VALUES (?, ?, ?, ?)", [fingerprint, column, classification,
                                                 datetime.now()])
        con.execute("COMMIT")
    record_event(store, fingerprint, "", f"{OVERRIDE}: {classification}", [column], actor)


def clear_override(store: _Store, fingerprint: str, column: str) -> None:
    """Forget a column's override so the detected role applies again."""
    with store.connect() as con:
        con.execute(_DELETE_OVERRIDE, [fingerprint, column])


def load_overrides(store: _Store, fingerprint: str) -> dict[str, str]:
    """Column -> role overrides saved for this dataset (pass to ``scan_frame(overrides=...)``)."""
    with store.connect() as con:
        rows = con.execute(
            "SELECT column_name, classification FROM column_overrides"
            " WHERE dataset_fingerprint = ? ORDER BY column_name", [fingerprint],
        ).fetchall()
    return dict(rows)
