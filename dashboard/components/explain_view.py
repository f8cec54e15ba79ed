"""Explain page helpers: methods offered (labelled by the kind's view), rendering a result.

Examples from report.json are each kind's own: ``view_for(kind).examples`` (dashboard/kinds/)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.plots import format_number
from dashboard.kinds import view_for

METHOD_LABELS: dict[str, str] = {
    "shap": "SHAP", "shap_global": "Global importance + dependence", "attention": "Attention heads + rollout",
}


def methods_for(kind: str) -> dict[str, str]:
    """Methods core.explain offers for a kind (none: {}), with labels (the kind's own wording first)."""
    from core.explain import methods_for as core_methods

    names = core_methods(kind)
    own = view_for(kind).method_labels
    return {m: own.get(m, METHOD_LABELS.get(m, m)) for m in names}


def explains_the_model(kind: str, method: str) -> bool:
    """True for methods that explain the whole model and take no input (tabular global SHAP)."""
    from core.explain import explainer_for

    return method in explainer_for(kind).global_methods


def figure_options(result: Any, key: str) -> dict[str, Any]:
    """Widgets for the figure options a result supports (the attention layer)."""
    attentions = getattr(result, "arrays", {}).get("attentions")
    if getattr(result, "method", "") != "attention" or attentions is None:
        return {}
    layers = int(attentions.shape[0])
    layer = st.slider("Layer", 1, layers, layers, key=f"layer_{key}",
                      help="Which layer's heads to show (numbered from 1, as in the charts); "
                           "rollout combines all layers.")
    return {"layer": layer - 1}
WIDE_FIGURES = ("token", "strip", "waterfall", "heads", "layer", "overlay", "rollout")


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
