"""The toy kind on the dashboard pages: its ``KindView`` (see dashboard/kinds/base.py), registered
with ``dashboard.kinds.register_view("toy", VIEW)`` because it lives outside dashboard/kinds/.
A built-in kind would be ``dashboard/kinds/<kind>.py`` defining ``VIEW`` instead."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard.kinds import TABLE_TYPES, ColumnRole, KindView


def _columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns]


def toy_form(predictor: Any, key: str, submit: str = "Predict") -> dict[str, float] | None:
    """One number per model column; returns the row once submitted."""
    with st.form(f"toy_{key}"):
        cols = st.columns(len(predictor.features))
        row = {name: col.number_input(name, value=0.0, key=f"{key}_toy_{name}")
               for col, name in zip(cols, predictor.features, strict=True)}
        submitted = st.form_submit_button(submit, type="primary")
    return row if submitted else None


VIEW = KindView(
    upload_types=TABLE_TYPES,
    upload_help="A table of numbers with a two-class label column.",
    column_roles=(ColumnRole("target", "Label column", "The two-class column to learn.", _columns),),
    input_form=toy_form,
    method_labels={"shap": "SHAP for one row (toy waterfall)"},
)
