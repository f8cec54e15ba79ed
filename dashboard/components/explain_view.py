"""Explain page helpers per kind: methods offered, examples from report.json, rendering a result."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.plots import format_number

METHOD_LABELS: dict[str, str] = {
    "shap": "SHAP", "shap_global": "Global importance + dependence", "attention": "Attention heads + rollout",
}
KIND_METHOD_LABELS: dict[tuple[str, str], str] = {
    ("tabular", "shap"): "SHAP for one row (waterfall)",
    ("text", "shap"): "SHAP token strip",
    ("image", "shap"): "SHAP overlay",
}
GLOBAL_METHODS = ("shap_global",)  # methods that explain the model, not one input


def methods_for(kind: str) -> dict[str, str]:
    """Methods core.explain offers for a kind, with labels."""
    from core.explain import METHODS

    names = METHODS.get(kind, ("shap",))
    return {m: KIND_METHOD_LABELS.get((kind, m), METHOD_LABELS.get(m, m)) for m in names}


def figure_options(result: Any, key: str) -> dict[str, Any]:
    """Widgets for the figure options a result supports (the attention layer)."""
    attentions = getattr(result, "arrays", {}).get("attentions")
    if getattr(result, "method", "") != "attention" or attentions is None:
        return {}
    layers = int(attentions.shape[0])
    layer = st.slider("Layer", 1, layers, layers, key=f"layer_{key}",
                      help="Which layer's heads to show; rollout combines all layers.")
    return {"layer": layer - 1}
WIDE_FIGURES = ("token", "strip", "waterfall", "heads", "overlay", "rollout")


def _text_examples(report: dict[str, Any]) -> list[tuple[str, Any]]:
    out = []
    for e in report.get("worst_val_examples") or []:
        text = str(e.get("text", ""))
        short = text if len(text) <= 70 else text[:67] + "…"
        label = f"true {e.get('true')} → {e.get('predicted')} ({e.get('confidence', 0):.0%}): {short}"
        out.append((label, text))
    return out


def _image_from_uri(uri: str) -> Any:
    from PIL import Image

    data = base64.b64decode(uri.split(",", 1)[1])
    return Image.open(io.BytesIO(data)).convert("RGB")


def _image_examples(report: dict[str, Any]) -> list[tuple[str, Any]]:
    out = []
    for e in report.get("worst_val_images") or []:
        path = e.get("path")
        if path and Path(path).is_file():
            value: Any = Path(path)
        elif e.get("thumbnail"):
            value = _image_from_uri(e["thumbnail"])
        else:
            continue
        out.append((f"{e.get('name', 'image')}: true {e.get('true')} → {e.get('predicted')} "
                    f"({e.get('confidence', 0):.0%})", value))
    return out


def _tabular_examples(report: dict[str, Any]) -> list[tuple[str, Any]]:
    """Worst-predicted validation rows; the row itself is read only when picked (it needs the
    run's data), so each input is a function of the run id."""
    out = []
    for e in report.get("worst_val_rows") or []:
        label = (f"validation row {e['row']}: true {e['true']:,.4g} → predicted {e['predicted']:,.4g} "
                 f"(error {e['error']:+,.4g})")
        out.append((label, partial(_validation_row, int(e["row"]))))
    return out


def _validation_row(row: int, run_id: str) -> Any:
    from core.explain.shap_tabular import raw_split
    from dashboard.resources import get_store

    frame = raw_split(get_store(), run_id, "val")
    return frame.iloc[[row]].reset_index(drop=True)


# kind -> report.json -> [(label, input)], most confidently wrong (or worst predicted) first. An
# input may be a function of the run id, called only when that example is picked.
EXAMPLES: dict[str, Callable[[dict[str, Any]], list[tuple[str, Any]]]] = {
    "text": _text_examples,
    "image": _image_examples,
    "tabular": _tabular_examples,
}


def _prediction_metrics(prediction: dict[str, Any]) -> None:
    """What the model predicted for the explained input (or on average, for global views)."""
    target = prediction.get("target")
    shown: list[tuple[str, str]] = []
    if "value" in prediction:
        shown.append((f"Predicted {target}" if target else "Prediction", format_number(prediction["value"])))
    if "mean_prediction" in prediction:
        shown.append((f"Mean predicted {target}" if target else "Mean prediction",
                      format_number(prediction["mean_prediction"])))
    if "label" in prediction:
        shown.append(("Predicted class", str(prediction["label"])))
        if prediction.get("confidence") is not None:
            shown.append(("Confidence", f"{float(prediction['confidence']):.0%}"))
    for col, (label, value) in zip(st.columns(max(len(shown), 1) + 1), shown, strict=False):
        col.metric(label, value)


def render_explanation(result: Any, key: str) -> None:
    """The explanation's own figures (two per row; wide ones full width), prediction and values."""
    _prediction_metrics(getattr(result, "prediction", None) or {})
    figures = result.figures(**figure_options(result, key)) if hasattr(result, "figures") else {}
    if not figures:
        st.warning("This explanation has no figures.")
    wide = {k: f for k, f in figures.items() if any(w in k.lower() for w in WIDE_FIGURES)}
    narrow = [(k, f) for k, f in figures.items() if k not in wide]
    for name, fig in wide.items():
        st.plotly_chart(fig, key=f"xfig_{key}_{name}")
    for i in range(0, len(narrow), 2):
        cols = st.columns(2)
        for col, (name, fig) in zip(cols, narrow[i:i + 2], strict=False):
            col.plotly_chart(fig, key=f"xfig_{key}_{name}")
    frame = result.frame() if hasattr(result, "frame") else pd.DataFrame()
    if isinstance(frame, pd.DataFrame) and not frame.empty:
        with st.expander("Values"):
            st.dataframe(frame, hide_index=True)
