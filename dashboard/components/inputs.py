"""Showing one prediction on Predict. The input forms are each kind's own: ``view_for(kind).input_form``
(dashboard/kinds/)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import plots
from core.output import mask_message, mask_table, md


def show_prediction(result: pd.DataFrame, predictor: Any, image: Any = None) -> None:
    """The first row of a prediction frame: the value or class, and class probabilities as bars.
    Labels (the value and the ``p_`` headers) pass the output boundary first."""
    result = mask_table(result)
    row = result.iloc[0]
    probs = [c for c in result.columns if c.startswith("p_")]
    if image is not None:
        st.image(image, width=220)
    if "error" in result.columns and isinstance(row.get("error"), str):
        st.error(md(row["error"]))
        return
    target = getattr(getattr(predictor, "prep", None), "target", None)
    value = row["prediction"]
    shown = str(value) if isinstance(value, str) else plots.format_number(value)
    label = f"Predicted {mask_message(target)}" if target else "Predicted class" if probs else "Prediction"
    st.metric(label, shown,
              help="Probability of the predicted class below." if probs else None)
    if probs:
        labels = [c[2:] for c in probs]
        st.plotly_chart(plots.class_bars_figure(labels, [float(row[c]) for c in probs]), key="pred_bars")
