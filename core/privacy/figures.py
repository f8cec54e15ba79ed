"""Plotly figure builders for the privacy views: data in, figure out, no I/O.

Every builder takes the already-safe frames from ``report`` / ``profile`` / ``anonymity`` (no raw
cell values, small counts suppressed), so a figure can be exported without another check.
``core.plots`` re-exports these.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.privacy.anonymity import KAnonymity

ROLE_COLORS = {"direct identifier": "#d62728", "quasi-identifier": "#ff7f0e", "none": "#9e9e9e"}


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(title=title, xaxis_visible=False, yaxis_visible=False, height=240)
    return fig


def pii_heatmap_figure(entities: pd.DataFrame, columns: list[str] | None = None) -> go.Figure:
    """Share of cells per (column, entity type), from ``ColumnReport.entity_frame()``."""
    title = "Personal data by column"
    if entities.empty:
        return _empty(title, "No personal data detected")
    grid = entities.pivot_table(index="column", columns="entity", values="share", aggfunc="max")
    if columns:
        grid = grid.reindex([c for c in columns if c in grid.index])
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=list(grid.columns), y=list(grid.index), zmin=0, zmax=1,
        colorscale="Reds", colorbar={"title": "share", "tickformat": ".0%"},
        hovertemplate="%{y} · %{x}: %{z:.1%} of cells<extra></extra>",
    ))
    fig.update_layout(title=title, height=max(260, 28 * len(grid) + 120),
                      yaxis={"autorange": "reversed"}, xaxis_title="entity", yaxis_title="column")
    return fig


def pii_roles_figure(report_frame: pd.DataFrame) -> go.Figure:
    """Bar per column: share of cells with PII, coloured by role (``ColumnReport.to_frame()``).

    When no cell holds personal data there is nothing to draw: the figure says so, and names the
    columns flagged by their meaning alone (quasi-identifiers such as age), instead of an empty frame.
    """
    title = "Column roles"
    if report_frame.empty:
        return _empty(title, "No columns")
    shares = pd.to_numeric(report_frame["share"], errors="coerce").fillna(0)
    if not (shares > 0).any():
        flagged = report_frame[report_frame["role"] != "none"]
        if flagged.empty:
            message = f"No personal data found in any of the {len(report_frame)} columns"
        else:
            names = ", ".join(str(c) for c in flagged["column"].head(6))
            more = f" and {len(flagged) - 6} more" if len(flagged) > 6 else ""
            message = (f"No cell holds personal data.<br>Flagged by meaning: {names}{more} "
                       f"({len(flagged)} of {len(report_frame)} columns)")
        return _empty(title, message)
    fig = go.Figure()
    for role, color in ROLE_COLORS.items():
        part = report_frame[report_frame["role"] == role]
        if part.empty:
            continue
        fig.add_bar(x=part["column"], y=part["share"], name=role, marker_color=color,
                    customdata=part[["entities", "confidence"]].to_numpy(),
                    hovertemplate="%{x}: %{y:.1%} · %{customdata[0]} "
                                  "(conf %{customdata[1]})<extra></extra>")
    fig.update_layout(title=title, yaxis={"tickformat": ".0%", "range": [0, 1]},
                      yaxis_title="share of cells with PII", barmode="group")
    return fig


def missing_values_figure(profile_columns: pd.DataFrame) -> go.Figure:
    """Share of missing values per column, from ``Profile.columns``.

    The axis fits the largest share (ticks such as 0.2%, 0.4% when little is missing, never a
    row of repeated rounded labels); a table with nothing missing gets a sentence, not bars of 0.
    """
    title = "Missing values"
    if profile_columns.empty:
        return _empty(title, "No columns")
    shares = pd.to_numeric(profile_columns["missing_share"], errors="coerce").fillna(0)
    if not (shares > 0).any():
        return _empty(title, f"No missing values in any of the {len(profile_columns)} columns")
    top = float(shares.max())
    fig = go.Figure(go.Bar(
        x=profile_columns["column"], y=shares,
        customdata=profile_columns["missing"],
        hovertemplate="%{x}: %{customdata} missing (%{y:.2%})<extra></extra>",
    ))
    fig.update_layout(title=title, yaxis={"tickformat": _share_format(top), "range": [0, top * 1.15],
                                          "nticks": 6},
                      yaxis_title="share missing", xaxis_type="category")
    return fig


def _share_format(top: float) -> str:
    """A percent tick format precise enough that ticks up to ``top`` read differently."""
    if top >= 0.1:
        return ".0%"
    if top >= 0.01:
        return ".1~%"
    return ".2~%"


def distribution_figure(dist: pd.DataFrame, column: str, k: int = 5) -> go.Figure:
    """Bar chart of one column's suppressed distribution (``Profile.distributions[column]``).

    Suppressed rows (a merged group still under k) are drawn as an empty labelled slot so the
    viewer sees that something was withheld rather than nothing existing.
    """
    title = f"Distribution of {column}"
    if dist is None or dist.empty:
        return _empty(title, f"Not shown: personal data, or fewer than {k} records")
    counts = dist["count"].fillna(0)
    text = ["suppressed" if s else "" for s in dist.get("suppressed", [False] * len(dist))]
    fig = go.Figure(go.Bar(x=dist["label"].astype(str), y=counts, text=text,
                           hovertemplate="%{x}: %{y}<extra></extra>"))
    fig.update_layout(title=title, yaxis_title="records", xaxis_type="category",
                      annotations=[{"text": f"groups under {k} records merged or suppressed",
                                    "showarrow": False, "xref": "paper", "yref": "paper",
                                    "x": 1, "y": 1.08, "xanchor": "right",
                                    "font": {"size": 11}}])
    return fig


def k_anonymity_figure(result: KAnonymity) -> go.Figure:
    """Records per equivalence-class size, with the k threshold marked."""
    title = f"k-anonymity (k={result.k})"
    if not result.size_counts:
        return _empty(title, "No records")
    sizes = sorted(result.size_counts)
    records = [s * result.size_counts[s] for s in sizes]
    colors = ["#d62728" if s < result.k else "#2ca02c" for s in sizes]
    fig = go.Figure(go.Bar(x=[str(s) for s in sizes], y=records, marker_color=colors,
                           hovertemplate="group size %{x}: %{y} records<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="group size (records sharing quasi-identifiers)",
                      yaxis_title="records", xaxis_type="category")
    return fig
