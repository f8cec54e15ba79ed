"""Plotly figures of a sweep (pure: a trials frame in, a figure out), for the page and the report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

STATE_COLORS = {"complete": "#3b5bdb", "pruned": "#adb5bd", "fail": "#e03131", "running": "#f08c00"}


def objective_figure(trials: pd.DataFrame, metric: str, direction: str) -> go.Figure | None:
    """Each trial's objective (pruned trials at their last reported epoch are left out) and the
    best so far."""
    done = trials[trials["state"] == "complete"].dropna(subset=["value"]).sort_values("trial")
    if done.empty:
        return None
    best = done["value"].cummin() if direction == "minimize" else done["value"].cummax()
    fig = go.Figure()
    fig.add_scatter(x=done["trial"], y=done["value"], mode="markers", name="trial",
                    marker={"color": STATE_COLORS["complete"], "size": 9})
    fig.add_scatter(x=done["trial"], y=best, mode="lines", name="best so far",
                    line={"shape": "hv", "color": "#2f9e44"})
    fig.update_layout(title=f"{metric} by trial", xaxis_title="trial", yaxis_title=metric,
                      height=340, margin={"t": 50, "b": 40, "l": 50, "r": 20})
    return fig


def parallel_figure(trials: pd.DataFrame, params: list[str], metric: str) -> go.Figure | None:
    """Parallel coordinates: one line per completed trial across its parameters and objective."""
    done = trials[trials["state"] == "complete"].dropna(subset=["value"])
    if len(done) < 2 or not params:
        return None
    dims = []
    for name in params:
        values = done[name]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            log = values.min() > 0 and values.max() / max(values.min(), 1e-300) > 50
            shown = np.log10(values.astype(float)) if log else values.astype(float)
            dims.append({"label": f"log10 {name}" if log else name, "values": shown})
        else:
            cats = sorted(values.astype(str).unique())
            dims.append({"label": name, "values": values.astype(str).map(cats.index),
                         "tickvals": list(range(len(cats))), "ticktext": cats})
    dims.append({"label": metric, "values": done["value"].astype(float)})
    fig = go.Figure(go.Parcoords(line={"color": done["value"].astype(float), "colorscale": "Viridis",
                                       "showscale": True}, dimensions=dims))
    fig.update_layout(title="Parameters vs objective", height=380,
                      margin={"t": 70, "b": 30, "l": 60, "r": 40})
    return fig


def importance_figure(importances: dict[str, float]) -> go.Figure | None:
    if not importances:
        return None
    names = list(importances)[::-1]
    fig = go.Figure(go.Bar(x=[importances[n] for n in names], y=names, orientation="h",
                           marker_color="#3b5bdb"))
    fig.update_layout(title="Parameter importance", xaxis_title="share of the objective's variance",
                      height=80 + 34 * len(names), margin={"t": 50, "b": 40, "l": 160, "r": 20})
    return fig
