"""Pure plotly figure builders: data in, figure out, no I/O and no streamlit.

The dashboard pages and the HTML export draw with the same builders, so a chart looks the same
on screen and in a report. Privacy figures (``core.privacy.figures``) and explanation figures
(``core.explain.figures``) are re-exported lazily: ``core.plots.pii_heatmap_figure`` works as soon
as that module exists, and a missing module never breaks the import of this one.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

PALETTE = ("#4f46e5", "#f97316", "#10b981", "#e11d48", "#0ea5e9", "#a855f7", "#84cc16", "#f59e0b",
           "#64748b", "#14b8a6")
SPLIT_DASH = {"train": "solid", "val": "dash", "test": "dot"}
SPLIT_SYMBOL = {"train": "circle", "val": "diamond", "test": "square"}
_REEXPORTED = ("core.privacy.figures", "core.explain.figures")
# Hyperparameters worth a parallel-coordinates axis, by their dotted path in the run config.
HPARAMS = ("train.lr", "train.batch_size", "train.epochs", "train.weight_decay", "train.warmup_ratio",
           "train.grad_accum", "model.dropout", "model.max_length", "model.image_size", "model.name",
           "model.hidden_sizes")


def format_number(value: Any) -> str:
    """A metric for people: 35,954 · 12.35 · 0.01441 · '–' when missing."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value) if value is not None else "–"
    if not math.isfinite(number):
        return "–"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:.4g}"


def empty_figure(title: str, message: str, height: int = 260) -> go.Figure:
    """A figure that says why there is nothing to draw (never a blank canvas)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 14, "color": "#6b7280"})
    fig.update_layout(title=title, xaxis_visible=False, yaxis_visible=False, height=height)
    return _style(fig)


def _style(fig: go.Figure) -> go.Figure:
    fig.update_layout(template="plotly_white", margin={"l": 50, "r": 20, "t": 50, "b": 45},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
                      font={"size": 12})
    return fig


# --- training curves ---------------------------------------------------------------------------
SPLIT_COLORS = {"train": PALETTE[0], "val": PALETTE[1], "test": PALETTE[2]}
# Metrics that are shares (0..1): drawn on a 0..1 axis so one good epoch does not look like a
# dot floating on an arbitrary range.
UNIT_METRICS = ("accuracy", "f1", "precision", "recall", "auc", "balanced_accuracy")


def is_unit_metric(metric: str) -> bool:
    """Whether ``metric`` is a share between 0 and 1 (accuracy, macro_f1, val_auc, …)."""
    name = metric.lower()
    return any(name == m or name.endswith(("_" + m, m + "_macro")) or name.startswith(m + "_")
               for m in UNIT_METRICS)


def curves_figure(curves: pd.DataFrame, metric: str, title: str | None = None,
                  by: str = "run", height: int = 320) -> go.Figure:
    """One metric over optimizer steps; a line per (``by`` value, split).

    ``curves`` has columns split, name, step, value (as ``RunStore.curves`` returns) and, when
    several runs are overlaid, a ``by`` column (the run label). One run: each split its own colour
    (train, validation, test); several runs: a colour per run and a dash per split. Shares
    (accuracy, F1, …) sit on a 0–1 axis; a series of a single point (a 1-epoch run) is drawn as
    a large marker on a step axis that starts at 0, with a note saying why there is no line.
    """
    title = title or metric
    part = curves[curves["name"] == metric] if not curves.empty else curves
    if part.empty:
        return empty_figure(title, f"No '{metric}' points yet", height)
    fig = go.Figure()
    groups = list(part[by].unique()) if by in part.columns else [None]
    single = True
    for i, group in enumerate(groups):
        rows = part if group is None else part[part[by] == group]
        for split, line in rows.groupby("split", sort=True):
            label = _split_label(split) if group is None else f"{group} · {_split_label(split)}"
            color = (SPLIT_COLORS.get(split, PALETTE[3]) if len(groups) == 1
                     else PALETTE[i % len(PALETTE)])
            line = line.sort_values("step")
            single = single and len(line) == 1
            mode = "markers" if len(line) == 1 else "lines+markers" if len(line) < 30 else "lines"
            fig.add_scatter(x=line["step"], y=line["value"], mode=mode, name=label,
                            line={"color": color, "dash": SPLIT_DASH.get(split, "solid")},
                            marker={"color": color, "size": 11 if len(line) == 1 else 6,
                                    "symbol": SPLIT_SYMBOL.get(split, "circle")},
                            hovertemplate=f"{label}<br>step %{{x}}: %{{y:.4g}}<extra></extra>")
    fig.update_layout(title=title, xaxis_title="optimizer step", yaxis_title=metric, height=height,
                      showlegend=True)
    values = pd.to_numeric(part["value"], errors="coerce")
    if is_unit_metric(metric) and values.between(0, 1).all():
        fig.update_yaxes(range=[0, 1.04], tickformat=".1f")
    if single:  # nothing to join yet: say so, and keep the point off the axis edges
        steps = pd.to_numeric(part["step"], errors="coerce")
        fig.update_xaxes(range=[0, max(float(steps.max()), 1.0) * 1.25], rangemode="tozero")
        fig.add_annotation(text="one evaluation so far: a curve appears after the next epoch",
                           showarrow=False, x=0.01, y=0.02, xref="paper", yref="paper",
                           xanchor="left", yanchor="bottom", font={"size": 11, "color": "#6b7280"})
    if metric == "lr":
        fig.update_yaxes(exponentformat="e")
    return _style(fig)


def _split_label(split: str) -> str:
    return {"val": "validation"}.get(str(split), str(split))


# --- regression ----------------------------------------------------------------------------
def predicted_vs_true_figure(true: Sequence[float], pred: Sequence[float], title: str = "Predicted vs true",
                             height: int = 360) -> go.Figure:
    """Scatter of predictions against targets with the y = x line."""
    true, pred = np.asarray(true, dtype=float), np.asarray(pred, dtype=float)
    if not len(true):
        return empty_figure(title, "No test predictions in this run's report", height)
    lo, hi = float(min(true.min(), pred.min())), float(max(true.max(), pred.max()))
    fig = go.Figure()
    fig.add_scatter(x=true, y=pred, mode="markers", name="test rows", marker={"size": 5, "opacity": 0.55,
                                                                               "color": PALETTE[0]},
                    hovertemplate="true %{x:.4g}<br>predicted %{y:.4g}<extra></extra>")
    fig.add_scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect", line={"color": "#9ca3af",
                                                                                 "dash": "dash"})
    fig.update_layout(title=title, xaxis_title="true", yaxis_title="predicted", height=height)
    return _style(fig)


def residual_figure(true: Sequence[float], pred: Sequence[float], title: str = "Residuals",
                    height: int = 360) -> go.Figure:
    """Residual (true − predicted) against the prediction, with the zero line."""
    true, pred = np.asarray(true, dtype=float), np.asarray(pred, dtype=float)
    if not len(true):
        return empty_figure(title, "No test predictions in this run's report", height)
    fig = go.Figure()
    fig.add_scatter(x=pred, y=true - pred, mode="markers", name="test rows",
                    marker={"size": 5, "opacity": 0.55, "color": PALETTE[1]},
                    hovertemplate="predicted %{x:.4g}<br>residual %{y:.4g}<extra></extra>")
    fig.add_hline(y=0, line={"color": "#9ca3af", "dash": "dash"})
    fig.update_layout(title=title, xaxis_title="predicted", yaxis_title="true − predicted",
                      height=height, showlegend=False)
    return _style(fig)


# --- classification -------------------------------------------------------------------------
def confusion_figure(labels: Sequence[str], matrix: Sequence[Sequence[int]], title: str = "Confusion matrix",
                     normalize: bool = True, height: int | None = None) -> go.Figure:
    """Heat map of true (rows) × predicted (columns); colour by row share, text by count."""
    counts = np.asarray(matrix, dtype=float)
    if counts.size == 0:
        return empty_figure(title, "No confusion matrix in this run's report")
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    z = share if normalize else counts
    names = [str(label) for label in labels]
    text = [[f"{int(c)}" for c in row] for row in counts] if len(names) <= 20 else None
    fig = go.Figure(go.Heatmap(
        z=z, x=names, y=names, colorscale="Blues", zmin=0, zmax=1 if normalize else None,
        text=text, texttemplate="%{text}" if text else None,
        customdata=counts, colorbar={"title": "row share" if normalize else "count"},
        hovertemplate="true %{y} → predicted %{x}<br>%{customdata:.0f} (%{z:.1%})<extra></extra>"
        if normalize else "true %{y} → predicted %{x}: %{z:.0f}<extra></extra>"))
    side = height or max(320, min(720, 34 * len(names) + 160))
    fig.update_layout(title=title, xaxis_title="predicted", yaxis_title="true", height=side,
                      yaxis={"autorange": "reversed", "type": "category"}, xaxis={"type": "category"})
    return _style(fig)


def slice_bars_figure(names: Sequence[str], values: Sequence[float], rows: Sequence[int], overall: float,
                      metric: str, height: int | None = None) -> go.Figure:
    """Horizontal bars of a metric per slice of the data (first = worst, drawn on top), with
    the whole set's value as a dashed line; hover gives the slice's row count."""
    title = f"{metric} by slice (worst on top)"
    if not len(names):
        return empty_figure(title, "Too few rows to cut into slices")
    order = list(range(len(names)))[::-1]  # plotly draws the first bar at the bottom
    fig = go.Figure(go.Bar(
        x=[float(values[i]) for i in order], y=[str(names[i]) for i in order], orientation="h",
        marker_color=PALETTE[1], customdata=[int(rows[i]) for i in order],
        hovertemplate="%{y}<br>" + metric + " %{x:.4g} over %{customdata} rows<extra></extra>"))
    fig.add_vline(x=float(overall), line={"color": "#6b7280", "dash": "dash"},
                  annotation_text="all rows", annotation_position="top")
    fig.update_layout(title=title, xaxis_title=metric, showlegend=False,
                      height=height or max(260, 28 * len(names) + 120),
                      yaxis={"type": "category", "automargin": True})
    return _style(fig)


def class_bars_figure(labels: Sequence[str], probs: Sequence[float], title: str = "Class probabilities",
                      height: int = 280) -> go.Figure:
    """Horizontal bars of one prediction's class probabilities, most likely on top."""
    order = np.argsort(np.asarray(probs, dtype=float))
    fig = go.Figure(go.Bar(x=[float(probs[i]) for i in order], y=[str(labels[i]) for i in order],
                           orientation="h", marker_color=PALETTE[0],
                           hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    fig.update_layout(title=title, xaxis={"range": [0, 1], "tickformat": ".0%"},
                      height=max(height, 26 * len(order) + 90), showlegend=False)
    return _style(fig)


def per_class_figure(rows: Sequence[dict[str, Any]], title: str = "Per-class scores",
                     height: int = 360) -> go.Figure:
    """Grouped bars of precision, recall and F1 per class (rows as ``report["per_class"]``)."""
    if not rows:
        return empty_figure(title, "No per-class scores in this run's report", height)
    labels = [str(r["label"]) for r in rows]
    fig = go.Figure()
    for i, metric in enumerate(("precision", "recall", "f1")):
        fig.add_bar(x=labels, y=[r.get(metric) for r in rows], name=metric, marker_color=PALETTE[i],
                    hovertemplate=f"%{{x}}: {metric} %{{y:.3f}}<extra></extra>")
    fig.update_layout(title=title, barmode="group", yaxis_range=[0, 1.05], height=height,
                      xaxis={"type": "category"})
    return _style(fig)


def baselines_figure(scores: dict[str, dict[str, float]], metric: str = "rmse",
                     title: str | None = None, height: int = 320) -> go.Figure:
    """One bar per model (``report["baselines"]["test"]``): the network against simple baselines."""
    title = title or f"Test {metric} by model (lower is better)"
    models = [m for m in scores if metric in scores[m]]
    if not models:
        return empty_figure(title, f"No baseline '{metric}' in this run's report", height)
    values = [scores[m][metric] for m in models]
    fig = go.Figure(go.Bar(x=models, y=values, marker_color=PALETTE[0], textposition="outside",
                           text=[format_number(v) for v in values]))
    fig.update_layout(title=title, yaxis_title=metric, height=height, showlegend=False)
    return _style(fig)


# --- comparing runs ---------------------------------------------------------------------------
def flatten_config(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'train': {'lr': 0.001}} → {'train.lr': 0.001}; lists become readable strings."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten_config(value, path + "."))
        elif isinstance(value, (list, tuple)):
            out[path] = "×".join(map(str, value)) if value else "-"
        else:
            out[path] = value
    return out


BaselineFn = Callable[[str, dict[str, Any]], "tuple[str, str, float, float | None] | None"]


def metrics_table(runs: Iterable[dict[str, Any]], prefixes: Sequence[str] = ("test_", "val_"),
                  baseline: BaselineFn | None = None) -> pd.DataFrame:
    """One row per run: name, task, status and its final metrics (``<split>_<name>``).

    ``baseline(task, metrics)`` -> (headline name, best baseline name, its value, the run's
    value) adds "best baseline" columns beside each run (does the model earn its keep?)."""
    rows = []
    for run in runs:
        metrics = run.get("metrics")
        if metrics is None:
            from core.store.runs import metrics_from_json

            metrics = metrics_from_json(run.get("metrics_json"))
        row = {"run": run.get("name") or run.get("id"), "id": run.get("id"), "task": run.get("task"),
               "status": run.get("status")}
        best = baseline(str(run.get("task")), metrics) if baseline is not None else None
        if baseline is not None:
            headline, name, value, own = best or ("", None, None, None)
            row.update({"headline": headline or None, "model": own, "best baseline": name,
                        "baseline value": value})
        row.update({k: v for k, v in sorted(metrics.items()) if k.startswith(tuple(prefixes))
                    and not k.endswith(("_linear", "_mean", "_trees", "_mlp")) and "precision_" not in k
                    and "recall_" not in k and "f1_" not in k.replace("macro_f1", "")})
        rows.append(row)
    return pd.DataFrame(rows)


def summary_metrics(metrics: dict[str, Any], split: str = "test", limit: int = 4) -> dict[str, Any]:
    """The few final metrics worth a glance: ``<split>_*`` without baselines and per-class scores."""
    row = metrics_table([{"metrics": metrics}], prefixes=(f"{split}_",)).iloc[0].to_dict()
    picked = {k: v for k, v in row.items() if k.startswith(f"{split}_")}
    return dict(list(picked.items())[:limit])


def hparam_frame(runs: Iterable[dict[str, Any]], metric: str) -> pd.DataFrame:
    """Hyperparameters that vary across runs, plus ``metric``, one row per run."""
    rows = []
    for run in runs:
        flat = flatten_config(run.get("config") or {})
        row = {"run": run.get("name") or run.get("id")}
        row.update({k: flat.get(k) for k in HPARAMS if k in flat})
        row[metric] = (run.get("metrics") or {}).get(metric, math.nan)
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    keep = ["run"] + [c for c in frame.columns if c not in ("run", metric)
                      and frame[c].astype(str).nunique() > 1] + [metric]
    return frame[keep]


def parallel_coordinates_figure(frame: pd.DataFrame, metric: str, height: int = 380) -> go.Figure:
    """Each run a line through its hyperparameters, coloured by ``metric`` (from ``hparam_frame``)."""
    title = f"Hyperparameters vs {metric}"
    axes = [c for c in frame.columns if c not in ("run", metric)]
    if frame.empty or metric not in frame.columns or len(frame) < 2:
        return empty_figure(title, "Select at least two runs to compare", height)
    dims = []
    for col in [*axes, metric]:
        values = pd.to_numeric(frame[col], errors="coerce")
        if values.notna().all():
            log = col == "train.lr" and (values > 0).all()
            dims.append({"label": f"log10 {col}" if log else col,
                         "values": np.log10(values) if log else values})
        else:
            labels = frame[col].astype(str)
            codes = {v: i for i, v in enumerate(sorted(labels.unique()))}
            dims.append({"label": col, "values": labels.map(codes), "tickvals": list(codes.values()),
                         "ticktext": list(codes)})
    color = pd.to_numeric(frame[metric], errors="coerce").fillna(0)
    fig = go.Figure(go.Parcoords(line={"color": color, "colorscale": "Viridis", "showscale": True,
                                       "colorbar": {"title": metric}}, dimensions=dims))
    fig.update_layout(title=title, height=height)
    if not axes:
        fig.add_annotation(text="These runs share every hyperparameter", showarrow=False, x=0.5,
                           y=-0.12, xref="paper", yref="paper")
    return _style(fig)


def report_figures(report: dict[str, Any], title: str = "") -> list[go.Figure]:
    """The figures a run's report.json supports: confusion matrix, or predicted-vs-true + residuals."""
    prefix = f"{title} · " if title else ""
    if report.get("confusion_matrix"):
        cm = report["confusion_matrix"]
        split = cm.get("split", "test")
        return [confusion_figure(cm["labels"], cm["matrix"], f"{prefix}confusion matrix ({split})")]
    preds = report.get("test_predictions")
    if preds:
        figs = [predicted_vs_true_figure(preds["true"], preds["pred"], f"{prefix}predicted vs true"),
                residual_figure(preds["true"], preds["pred"], f"{prefix}residuals")]
        test = (report.get("baselines") or {}).get("test")
        if test:  # the model beside its baselines (mean, ridge, trees or the network)
            figs.append(baselines_figure(test, "rmse", f"{prefix}test RMSE by model (lower is better)"))
        return figs
    return [empty_figure(prefix + "report", "This run's report has no plot data")]


# --- re-exports from privacy and explanation ---------------------------------------------------------
def __getattr__(name: str) -> Any:
    """``core.plots.<builder>`` for the privacy/explanation builders, loaded on first use."""
    for module_name in _REEXPORTED:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module 'core.plots' has no attribute {name!r}")


def has_builder(name: str) -> bool:
    """Whether a figure builder (own or re-exported) is available now."""
    try:
        __getattr__(name) if name not in globals() else None
    except AttributeError:
        return False
    return True
