"""The run-history table shown on Home and Runs: a page of runs with each one's headline metric,
the data it was trained on and how long it took."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.plots import format_number
from core.store.runs import metrics_from_json

COLUMNS = ["id", "name", "task", "status", "metric", "value", "best baseline", "dataset", "duration",
           "created_at", "tags", "device", "notes"]
COLUMN_CONFIG = {
    "value": st.column_config.NumberColumn("value", format="localized", help="The headline test metric."),
    "best baseline": st.column_config.TextColumn(
        "best baseline", help="The strongest baseline on the same metric (name: value)."),
    "created_at": st.column_config.TextColumn("created"),
    "dataset": st.column_config.TextColumn("dataset", help="The data the run trained on (file or "
                                           "folder name; a built-in sample says so)."),
    "duration": st.column_config.TextColumn("duration", help="From the start of training to its "
                                            "end (so far, for a running one)."),
}


def dataset_label(source: object) -> str:
    """'house_prices (sample)', 'reviews.csv', 'cats-dogs': the data's name, never its full path."""
    from core.datasets.samples import parse_sample
    from core.output import mask_message

    if not isinstance(source, str) or not source.strip():
        return ""
    sample = parse_sample(source)
    if sample:
        return f"{sample} (sample)"
    return mask_message(Path(source.strip().rstrip("/\\")).name)


def duration(started: object, finished: object, status: object) -> str:
    """How long the run trained: finished - started, or now - started while it runs."""
    from dashboard.components.progress import format_duration

    if started is None or pd.isna(started):
        return ""
    end = finished if finished is not None and not pd.isna(finished) else (
        datetime.now() if status == "running" else None)
    if end is None:
        return ""
    return format_duration((pd.Timestamp(end) - pd.Timestamp(started)).total_seconds())


def runs_frame(runs: pd.DataFrame, headline: Callable[[str], str],
               baseline: Callable[[str, dict], Any] | None = None) -> pd.DataFrame:
    """Display rows for ``RunStore.list_runs`` output (parses metrics only for the rows shown);
    ``baseline`` (``dashboard.components.kinds.best_baseline``) fills "best baseline"."""
    if runs.empty:
        return pd.DataFrame(columns=COLUMNS)
    metric, value, base = [], [], []
    for task, raw in zip(runs["task"], runs["metrics_json"], strict=True):
        name = headline(task)
        metrics = metrics_from_json(raw)
        metric.append(name)
        value.append(metrics.get(name))
        best = baseline(task, metrics) if baseline is not None else None
        base.append(f"{best[1]}: {format_number(best[2])}" if best else "")
    numbers = pd.to_numeric(pd.Series(value, index=runs.index), errors="coerce")
    out = runs.assign(metric=metric, value=[float(f"{v:.4g}") if pd.notna(v) else None for v in numbers])
    out["best baseline"] = base
    out["tags"] = [", ".join(t) if t is not None and len(t) else "" for t in out["tags"]]
    out["created_at"] = pd.to_datetime(out["created_at"]).dt.strftime("%Y-%m-%d %H:%M")
    none = [None] * len(out)
    out["dataset"] = [dataset_label(s) for s in out.get("data_source", none)]
    out["duration"] = [duration(a, b, c) for a, b, c in zip(out.get("started_at", none),
                                                            out.get("finished_at", none),
                                                            out["status"], strict=True)]
    return out[COLUMNS].reset_index(drop=True)
