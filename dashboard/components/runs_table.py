"""The run-history table shown on Home and Runs: a page of runs with each one's headline metric."""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import streamlit as st

COLUMNS = ["id", "name", "task", "status", "metric", "value", "created_at", "tags", "device", "notes"]
COLUMN_CONFIG = {
    "value": st.column_config.NumberColumn("value", format="localized", help="The headline test metric."),
    "created_at": st.column_config.TextColumn("created"),
}


def runs_frame(runs: pd.DataFrame, headline: Callable[[str], str]) -> pd.DataFrame:
    """Display rows for ``RunStore.list_runs`` output (parses metrics only for the rows shown)."""
    if runs.empty:
        return pd.DataFrame(columns=COLUMNS)
    metric, value = [], []
    for task, raw in zip(runs["task"], runs["metrics_json"], strict=True):
        name = headline(task)
        metrics = json.loads(raw) if isinstance(raw, str) and raw else {}
        metric.append(name)
        value.append(metrics.get(name))
    numbers = pd.to_numeric(pd.Series(value, index=runs.index), errors="coerce")
    out = runs.assign(metric=metric, value=[float(f"{v:.4g}") if pd.notna(v) else None for v in numbers])
    out["tags"] = [", ".join(t) if t is not None and len(t) else "" for t in out["tags"]]
    out["created_at"] = pd.to_datetime(out["created_at"]).dt.strftime("%Y-%m-%d %H:%M")
    return out[COLUMNS].reset_index(drop=True)
