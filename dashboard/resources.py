"""Cached resources: the run store and predictors (cache_resource), frames and reports (cache_data).

Everything heavy is cached here, keyed by what it depends on (LOUPE_HOME, a file's path and mtime,
a run id and its artifact's mtime), so a widget change never reloads a model or rereads a file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.errors import LoupeError
from core.paths import loupe_home
from core.store import RunStore
from core.store import uploads as _uploads
from core.store.runs import metrics_from_json
from core.store.uploads import safe_name  # noqa: F401  (re-exported for the pages and tests)


# --- store ---------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _store(home: str) -> RunStore:
    store = RunStore(Path(home) / "loupe.duckdb")
    store.recover_interrupted()
    return store


def get_store() -> RunStore:
    """The RunStore for the current LOUPE_HOME (one per home, shared by every session)."""
    return _store(str(loupe_home()))


@st.cache_resource(show_spinner=False)
def machine() -> dict[str, Any]:
    """The device Loupe would use now (imports torch once per server)."""
    from core.runtime import describe_machine

    return describe_machine()


# --- models ----------------------------------------------------------------------------------
@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def _predictor(home: str, run_id: str, artifact: str, mtime: float) -> Any:
    from core.predict import load_predictor

    return load_predictor(run_id, _store(home))


def get_predictor(run_id: str) -> Any:
    """The run's predictor, reloaded only when its artifact changes."""
    store = get_store()
    path = store.artifact_path(run_id, "model")
    if not path.exists():
        raise LoupeError(f"The model folder of run '{run_id}' is missing ({path}).",
                         "train the run again, or delete it from the Runs page.")
    return _predictor(str(store.home), run_id, str(path), path.stat().st_mtime)


# --- runs ------------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=64)
def _report(path: str, mtime: float) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def run_report(run_id: str) -> dict[str, Any]:
    """A run's report.json ({} when the run has none yet)."""
    path = get_store().run_dir(run_id, create=False) / "report.json"
    if not path.is_file():
        return {}
    return _report(str(path), path.stat().st_mtime)


@st.cache_data(show_spinner=False, max_entries=256)
def _final_curves(home: str, run_id: str, finished: str, names: tuple[str, ...], max_points: int
                  ) -> pd.DataFrame:
    return _store(home).curves(run_id, names=list(names) or None, max_points=max_points)


@st.cache_data(show_spinner=False, max_entries=256)
def _final_system(home: str, run_id: str, finished: str) -> dict[str, float]:
    return _store(home).system(run_id)


def run_curves(run: dict[str, Any], names: list[str] | None = None, max_points: int = 400) -> pd.DataFrame:
    """A run's curves; a finished run's never change, so they are cached (keyed by its finish time)."""
    store = get_store()
    finished = run.get("finished_at")
    if run.get("status") in ("queued", "running") or finished is None or pd.isna(finished):
        return store.curves(run["id"], names=names, max_points=max_points)
    return _final_curves(str(store.home), run["id"], str(finished), tuple(names or ()), max_points)


def run_system(run: dict[str, Any]) -> dict[str, float]:
    """A run's latest system figures (throughput, memory), cached once the run has finished."""
    store = get_store()
    finished = run.get("finished_at")
    if run.get("status") in ("queued", "running") or finished is None or pd.isna(finished):
        return store.system(run["id"])
    return _final_system(str(store.home), run["id"], str(finished))


@st.cache_data(show_spinner=False, max_entries=512)
def _config(home: str, run_id: str) -> dict[str, Any]:
    return _store(home).get_run(run_id)["config"]


def finished_run(row: dict[str, Any]) -> dict[str, Any]:
    """A full run record from a ``list_runs`` row of a finished run: its config never changes, so
    it is cached, which saves a store round trip per page view."""
    run = dict(row)
    run["metrics"] = metrics_from_json(run.pop("metrics_json", None))
    run["tags"] = list(run["tags"]) if run.get("tags") is not None else []
    run["config"] = _config(str(get_store().home), run["id"])
    return run


def run_label(row: dict[str, Any] | pd.Series) -> str:
    return f"{row['name']} · {row['task']} · {row['id']}"


def completed_runs(task: str | None = None, limit: int = 300) -> pd.DataFrame:
    """Finished runs (newest first) for the run pickers."""
    return get_store().list_runs(task=task, status="completed", limit=limit)


# --- data --------------------------------------------------------------------------------------
def save_upload(name: str, data: bytes) -> Path:
    """Keep uploaded bytes in the upload history (``core.store.uploads``); returns their path."""
    return _uploads.save_upload(get_store(), name, data).path


def kept_uploads(suffixes: tuple[str, ...] | None = None) -> list[_uploads.Upload]:
    """The upload history (newest first), only files of ``suffixes`` when given."""
    return _uploads.list_uploads(get_store(), suffixes)


def discard_upload(path: Path) -> None:
    """Forget an upload that could not be read, and remove its file."""
    upload = _uploads.find_upload(get_store(), path)
    if upload is not None:
        _uploads.delete_upload(get_store(), upload.id)


@st.cache_data(show_spinner="Reading the table…", max_entries=8)
def _table(path: str, mtime: float, encoding: str | None) -> tuple[pd.DataFrame, list[str]]:
    from core.datasets.tables import read_table

    table = read_table(path, encoding=encoding)
    return table.frame, list(table.notices)


def read_upload_table(path: Path, encoding: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """(frame, notices) of an uploaded table, cached by path, modification time and encoding."""
    return _table(str(path), path.stat().st_mtime, encoding)


@st.cache_data(show_spinner=False, max_entries=32)
def fingerprint(source_id: str, _frame: pd.DataFrame) -> str:
    """The privacy fingerprint of a table (keys overrides and the audit trail), once per source."""
    from core.privacy import fingerprint_frame

    return fingerprint_frame(_frame)


@st.cache_data(show_spinner="Scanning for personal data…", max_entries=8)
def _inspect(key: str, _frame: pd.DataFrame, name: str, overrides: tuple[tuple[str, str], ...]) -> Any:
    from core.privacy import inspect_frame

    return inspect_frame(_frame, name, overrides=dict(overrides) or None)


def inspect(key: str, frame: pd.DataFrame, name: str, overrides: dict[str, str]) -> Any:
    """Privacy report + profile + k-anonymity of a table; ``key`` identifies the frame's content."""
    return _inspect(key, frame, name, tuple(sorted(overrides.items())))
