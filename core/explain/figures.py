"""Plotly figures for explanations: pure functions, data in, figure out (no store, no model).

Colour conventions: attributions use a diverging scale centred at 0 (red pushes the output up,
blue pushes it down) with symmetric limits, so white always means "no effect"; attention weights
(0..1) use a sequential scale. Every trace carries hover text with the exact values.
``figures_to_html`` writes several figures into one self-contained page (plotly.js inlined once).
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.plots import format_number

DIVERGING = "RdBu_r"
SEQUENTIAL = "Blues"
EMPTY_TOKEN = "·"


def _limit(values: np.ndarray) -> float:
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite)]
    top = float(finite.max()) if finite.size else 0.0
    return top if top > 0 else 1e-9


def _show(token: str) -> str:
    text = str(token).strip()
    return text if text else EMPTY_TOKEN


# --- text -----------------------------------------------------------------------------------
TOKEN_FONT = 15  # px: the token labels must read like body text, not like tick marks


def token_strip(tokens: Sequence[str], values: Sequence[float], label: str = "",
                base_value: float | None = None, per_row: int = 10, title: str | None = None
                ) -> go.Figure:
    """Tokens as coloured cells (wrapped into rows of ``per_row``), coloured by attribution."""
    vals = np.asarray(values, dtype=float)
    n = len(tokens)
    rows = max(1, -(-n // per_row))
    z = np.full((rows, per_row), np.nan)
    text = np.full((rows, per_row), "", dtype=object)
    hover = np.full((rows, per_row), "", dtype=object)
    for i, (tok, v) in enumerate(zip(tokens, vals, strict=True)):
        r, c = divmod(i, per_row)
        z[r, c], text[r, c] = v, _show(tok)
        hover[r, c] = f"token {i}: {html.escape(_show(tok))}<br>SHAP: {v:+.5f}"
    lim = _limit(vals)
    fig = go.Figure(go.Heatmap(
        z=z, text=text, customdata=hover, texttemplate="%{text}",
        textfont={"size": TOKEN_FONT}, hovertemplate="%{customdata}<extra></extra>",
        colorscale=DIVERGING, zmid=0, zmin=-lim, zmax=lim, xgap=3, ygap=3,
        colorbar={"title": "SHAP"},
    ))
    subtitle = f" (base {base_value:.4f}, sum {np.nansum(vals):+.4f})" if base_value is not None else ""
    fig.update_layout(
        title=title or f"Token attributions for '{label}'{subtitle}",
        yaxis={"autorange": "reversed", "showticklabels": False},
        xaxis={"showticklabels": False}, height=110 + 56 * rows, margin={"l": 20, "r": 20, "t": 60, "b": 20},
    )
    return fig


# --- images ---------------------------------------------------------------------------------
def image_overlay(photo: np.ndarray, values: Sequence[float], segments: np.ndarray, label: str = "",
                  box: Sequence[float] | None = None, opacity: float = 0.65, title: str | None = None
                  ) -> go.Figure:
    """The photo as it is (aspect kept, the model's crop outlined) beside the same photo under
    the SHAP value of each region. The colour of a region is its own SHAP value, so the colour
    bar, the hover and the title's sum use one scale: the regions' values add up to the sum."""
    from PIL import Image

    photo = np.asarray(photo, dtype=np.uint8)
    segments = np.asarray(segments)
    vals = np.asarray(values, dtype=float)
    ph, pw = photo.shape[:2]
    left, top, right, bottom = box if box is not None else (0.0, 0.0, float(pw), float(ph))
    h, w = segments.shape
    dx, dy = (right - left) / w, (bottom - top) / h
    edges = np.zeros((h, w), dtype=bool)
    edges[:-1] |= segments[:-1] != segments[1:]
    edges[:, :-1] |= segments[:, :-1] != segments[:, 1:]
    faded = (photo.astype(np.float32) * 0.55 + 255 * 0.45)
    outside = np.ones((ph, pw), dtype=bool)
    y0, y1 = max(0, int(round(top))), min(ph, int(round(bottom)))
    x0, x1 = max(0, int(round(left))), min(pw, int(round(right)))
    outside[y0:y1, x0:x1] = False
    faded[outside] = faded[outside] * 0.5 + 255 * 0.5  # the model never sees these pixels
    if y1 > y0 and x1 > x0:
        lines = np.asarray(Image.fromarray(edges.astype(np.uint8) * 255).resize(
            (x1 - x0, y1 - y0), Image.Resampling.NEAREST)) > 0
        faded[y0:y1, x0:x1][lines] = (110, 110, 110)
    lim = _limit(vals)
    share = np.bincount(segments.ravel(), minlength=len(vals)) / segments.size
    region_of = segments.astype(int)
    custom = np.stack([region_of, (share * 100)[region_of]], axis=-1)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.04,
                        subplot_titles=("input (dashed: what the model sees)",
                                        f"SHAP per region for '{label}'"))
    fig.add_trace(go.Image(z=photo, hovertemplate="x %{x}, y %{y}<extra></extra>"), 1, 1)
    fig.add_trace(go.Image(z=faded.astype(np.uint8), hoverinfo="skip"), 1, 2)
    fig.add_trace(go.Heatmap(
        z=vals[segments], x0=left + dx / 2, dx=dx, y0=top + dy / 2, dy=dy, customdata=custom,
        colorscale=DIVERGING, zmid=0, zmin=-lim, zmax=lim, opacity=opacity,
        colorbar={"title": {"text": "SHAP<br>per region"}, "tickformat": "+.3f"},
        hovertemplate="region %{customdata[0]} (%{customdata[1]:.1f}% of the crop)"
                      "<br>SHAP %{z:+.4f}<extra></extra>"), 1, 2)
    fig.add_shape(type="rect", x0=left, y0=top, x1=right, y1=bottom, row=1, col=1,
                  line={"color": "white", "width": 2, "dash": "dash"})
    for col in (1, 2):
        anchor = "x" if col == 1 else "x2"
        fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, range=[0, pw],
                         row=1, col=col)
        fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, range=[ph, 0],
                         scaleanchor=anchor, row=1, col=col)
    panel = 430
    total = float(vals.sum())
    fig.update_layout(
        title=title or f"Image regions for '{label}': {len(vals)} regions, their SHAP values sum to "
                       f"{total:+.4f} (f(x) − f(all hidden))",
        height=int(panel * ph / max(pw, 1)) + 110, margin={"l": 20, "r": 20, "t": 80, "b": 20})
    return fig


# --- tables ---------------------------------------------------------------------------------
def waterfall(features: Sequence[str], values: Sequence[float], base_value: float, prediction: float,
              feature_values: Sequence[str] | None = None, max_features: int = 12,
              title: str | None = None) -> go.Figure:
    """From E[f(x)] to f(x): one bar per column (largest effects), the rest folded into one."""
    vals = np.asarray(values, dtype=float)
    names = [f"{f} = {v}" for f, v in zip(features, feature_values, strict=True)] if feature_values \
        else [str(f) for f in features]
    order = np.argsort(-np.abs(vals), kind="stable")
    shown, rest = order[:max_features], order[max_features:]
    labels = [names[i] for i in shown][::-1]
    deltas = [float(vals[i]) for i in shown][::-1]
    if len(rest):
        labels.insert(0, f"{len(rest)} other columns")
        deltas.insert(0, float(vals[rest].sum()))
    fig = go.Figure(go.Waterfall(
        orientation="h", measure=["absolute"] + ["relative"] * len(deltas) + ["total"],
        y=["E[f(x)]"] + labels + ["f(x)"], x=[float(base_value)] + deltas + [0.0],
        base=0, text=[format_number(base_value)] + [_signed(d) for d in deltas] + [format_number(prediction)],
        textposition="outside", increasing={"marker": {"color": "#d6604d"}},
        decreasing={"marker": {"color": "#4393c3"}}, totals={"marker": {"color": "#878787"}},
        hovertemplate="%{y}<br>%{text}<extra></extra>",
    ))
    fig.update_layout(title=title or f"Why f(x) = {format_number(prediction)} "
                                     f"(base {format_number(base_value)})",
                      height=160 + 28 * (len(deltas) + 2), margin={"l": 20, "r": 40, "t": 60, "b": 20},
                      showlegend=False, xaxis={"range": _waterfall_range(base_value, deltas)})
    return fig


def _signed(value: float) -> str:
    return ("+" if value >= 0 else "") + format_number(value)


def _waterfall_range(base_value: float, deltas: Sequence[float]) -> list[float]:
    """Zoom on the path from E[f(x)] to f(x), not on 0: a 3e4 effect on a 6e5 price must show.
    The E[f(x)] and f(x) bars then run off the left (or right) edge, as in shap's own plot."""
    path = np.concatenate([[base_value], base_value + np.cumsum(deltas)]) if len(deltas) \
        else np.array([base_value])
    low, high = float(path.min()), float(path.max())
    span = high - low or max(abs(base_value) * 0.05, 1e-6)
    return [low - 0.3 * span, high + 0.3 * span]  # room for the value labels outside the bars


def importance_bar(importance: pd.DataFrame, max_features: int = 20, title: str | None = None) -> go.Figure:
    """Mean |SHAP| per column (global importance), largest on top."""
    top = importance.sort_values("mean_abs_shap", ascending=False).head(max_features).iloc[::-1]
    fig = go.Figure(go.Bar(
        x=top["mean_abs_shap"], y=top["feature"], orientation="h", marker={"color": "#4393c3"},
        customdata=top.get("mean_shap", pd.Series(np.nan, index=top.index)),
        hovertemplate="%{y}<br>mean |SHAP| %{x:.4g}<br>mean SHAP %{customdata:+.4g}<extra></extra>",
    ))
    fig.update_layout(title=title or "Global importance (mean |SHAP|)", xaxis_title="mean |SHAP|",
                      height=140 + 26 * len(top), margin={"l": 20, "r": 20, "t": 60, "b": 40})
    return fig


def dependence_scatter(dependence: pd.DataFrame, feature: str, title: str | None = None) -> go.Figure:
    """Feature value vs its attribution, one point per explained row."""
    part = dependence[dependence["feature"] == feature]
    numeric = part["numeric"].notna().any() if "numeric" in part else False
    x = part["numeric"] if numeric else part["value"].astype(str)
    lim = _limit(part["shap"].to_numpy())
    fig = go.Figure(go.Scatter(
        x=x, y=part["shap"], mode="markers", text=part["value"].astype(str),
        marker={"color": part["shap"], "colorscale": DIVERGING, "cmid": 0, "cmin": -lim, "cmax": lim,
                "size": 7, "opacity": 0.8, "line": {"width": 0}},
        hovertemplate=f"{html.escape(feature)} = %{{text}}<br>SHAP %{{y:+.4g}}<extra></extra>",
    ))
    fig.add_hline(y=0, line={"color": "#999", "width": 1})
    fig.update_layout(title=title or f"Dependence: {feature}", xaxis_title=feature, yaxis_title="SHAP",
                      height=380, margin={"l": 20, "r": 20, "t": 60, "b": 40})
    if not numeric:
        fig.update_xaxes(type="category")
    return fig


# --- attention ------------------------------------------------------------------------------
def _window(n: int, start: int, size: int | None) -> slice:
    size = n if size is None else max(1, min(int(size), n))
    start = max(0, min(int(start), n - size))
    return slice(start, start + size)


def _axis_labels(tokens: Sequence[str], cut: slice) -> tuple[list[int], list[str]]:
    positions = list(range(cut.start, cut.stop))
    return positions, [f"{_show(tokens[i])}" for i in positions]


def attention_matrix(matrix: np.ndarray, tokens: Sequence[str], title: str = "Attention",
                     start: int = 0, size: int | None = 64, colorscale: str = SEQUENTIAL) -> go.Figure:
    """One (T, T) matrix — a head, or the rollout — rows: attending token, columns: attended."""
    cut = _window(len(tokens), start, size)
    sub = np.asarray(matrix, dtype=float)[cut, cut]
    pos, labels = _axis_labels(tokens, cut)
    hover = [[f"{html.escape(labels[i])} ({pos[i]}) → {html.escape(labels[j])} ({pos[j]})"
              for j in range(len(pos))] for i in range(len(pos))]
    fig = go.Figure(go.Heatmap(
        z=sub, x=pos, y=pos, customdata=hover, colorscale=colorscale, zmin=0,
        zmax=float(max(sub.max(), 1e-9)),
        hovertemplate="%{customdata}<br>weight %{z:.4f}<extra></extra>", colorbar={"title": "weight"},
    ))
    side = max(320, min(900, 18 * len(pos) + 160))
    fig.update_layout(title=title, height=side, width=side + 80, margin={"l": 20, "r": 20, "t": 60, "b": 20})
    fig.update_xaxes(tickvals=pos, ticktext=labels, tickangle=-60, side="bottom")
    fig.update_yaxes(tickvals=pos, ticktext=labels, autorange="reversed")
    return fig


def attention_heads(attentions: np.ndarray, tokens: Sequence[str], layer: int,
                    heads: Sequence[int] | None = None, start: int = 0, size: int | None = 32,
                    cols: int = 3, summary: pd.DataFrame | None = None) -> go.Figure:
    """Facets: every head (or the chosen ones) of one layer (0-based ``layer``; shown 1-based,
    as the page's Layer slider counts), each with its tokens on both axes and a title saying
    what the head does (pattern and focus from ``summary``), on one shared colour scale."""
    att = np.asarray(attentions, dtype=float)[layer]
    heads = list(range(att.shape[0])) if heads is None else list(heads)
    cut = _window(len(tokens), start, size)
    pos, labels = _axis_labels(tokens, cut)
    cols = max(1, min(cols, len(heads)))
    rows = max(1, -(-len(heads) // cols))
    titles = [_head_title(summary, layer, h) for h in heads]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles,
                        horizontal_spacing=0.09, vertical_spacing=0.5 / max(rows, 1) if rows > 1 else 0.1)
    font = 11 if len(pos) <= 24 else 9
    for k, h in enumerate(heads):
        r, c = divmod(k, cols)
        fig.add_trace(go.Heatmap(
            z=att[h][cut, cut], x=pos, y=pos, coloraxis="coloraxis",
            customdata=[[f"{labels[i]} → {labels[j]}" for j in range(len(pos))] for i in range(len(pos))],
            hovertemplate=f"head {h + 1}<br>%{{customdata}}<br>weight %{{z:.4f}}<extra></extra>",
        ), r + 1, c + 1)
        fig.update_yaxes(autorange="reversed", tickvals=pos, ticktext=labels, tickfont={"size": font},
                         row=r + 1, col=c + 1)
        fig.update_xaxes(tickvals=pos, ticktext=labels, tickangle=-60, tickfont={"size": font},
                         row=r + 1, col=c + 1)
    layers = np.asarray(attentions).shape[0]
    facet = max(260, min(460, 15 * len(pos) + 60))
    fig.update_layout(title=f"Layer {layer + 1} of {layers}: attention per head, rows attend to "
                            f"columns (tokens {cut.start + 1}-{cut.stop})",
                      coloraxis={"colorscale": SEQUENTIAL, "cmin": 0, "cmax": 1,
                                 "colorbar": {"title": "weight"}},
                      height=140 + rows * (facet + 110), margin={"l": 20, "r": 20, "t": 90, "b": 20})
    fig.update_annotations(font={"size": 13})
    return fig


def _head_title(summary: pd.DataFrame | None, layer: int, head: int) -> str:
    """'head 3 · previous token · focus 0.62' (1-based head, as on the overview)."""
    if summary is None or summary.empty:
        return f"head {head + 1}"
    row = summary[(summary["layer"] == layer) & (summary["head"] == head)]
    if row.empty:
        return f"head {head + 1}"
    pattern = str(row["pattern"].iloc[0])
    pattern = {"previous": "previous token", "next": "next token", "self": "itself"}.get(pattern, pattern)
    return f"head {head + 1} · {pattern} · focus {float(row['focus'].iloc[0]):.2f}"


def head_overview(summary: pd.DataFrame, value: str = "focus") -> go.Figure:
    """Layers x heads grid of how focused each head is, hover: where it looks and its pattern.
    Layers and heads are numbered from 1, as the Layer slider and the per-head facets are."""
    layers, heads = int(summary["layer"].max()) + 1, int(summary["head"].max()) + 1
    z = np.full((layers, heads), np.nan)
    hover = np.full((layers, heads), "", dtype=object)
    for row in summary.itertuples():
        z[row.layer, row.head] = getattr(row, value)
        hover[row.layer, row.head] = (
            f"layer {row.layer + 1}, head {row.head + 1}<br>{value} {getattr(row, value):.3f}"
            f"<br>top token: {html.escape(_show(row.top_token))} ({row.top_weight:.2f})"
            f"<br>top content token: {html.escape(_show(row.top_content_token))}<br>pattern: {row.pattern}")
    fig = go.Figure(go.Heatmap(z=z, x=list(range(1, heads + 1)), y=list(range(1, layers + 1)),
                               customdata=hover, colorscale="Viridis", zmin=0, zmax=1,
                               colorbar={"title": value}, hovertemplate="%{customdata}<extra></extra>"))
    fig.update_layout(title="Which heads attend where (hover for details)", xaxis_title="head",
                      yaxis_title="layer", height=140 + 34 * layers,
                      margin={"l": 20, "r": 20, "t": 60, "b": 40})
    fig.update_yaxes(autorange="reversed", dtick=1)
    fig.update_xaxes(dtick=1)
    return fig


# --- dispatch and export ------------------------------------------------------------------
def explanation_figures(expl: Any, start: int = 0, size: int | None = None, layer: int | None = None,
                        top: int = 3) -> dict[str, go.Figure]:
    """The standard figures of an ``Explanation``, by name (drawn by its kind's explainer)."""
    from core.explain.api import explainer_for

    return explainer_for(expl.kind).figures(expl, start=start, size=size, layer=layer, top=top)


def figures_to_html(figs: Sequence[go.Figure], path: str | os.PathLike[str], title: str = "Loupe",
                    force: bool = False) -> str:
    """One self-contained HTML page with every figure; plotly.js is inlined once. Returns the path.

    Through the output boundary: the target is checked first (an existing file only with
    ``force``), every figure's texts and the title are masked, the title is HTML-escaped, and the
    page lands atomically."""
    from core.output import atomic_write, check_output, html_text
    from core.output.figures import mask_figure

    out = check_output(path, (".html", ".htm"), force=force, what="explanation page", flag="--html")
    parts = [mask_figure(fig).to_html(full_html=False, include_plotlyjs=(i == 0),
                                      config={"displaylogo": False})
             for i, fig in enumerate(figs)]
    shown = html_text(title)
    page = (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{shown}</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:24px}</style></head><body>"
            f"<h1>{shown}</h1>\n" + "\n".join(f"<div>{p}</div>" for p in parts)
            + "</body></html>")
    atomic_write(out, page)
    return str(out)
