"""Tabular regression on the pages: target column, a row form, worst-predicted validation rows."""

from __future__ import annotations

from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from core.datasets.tables import numeric_or_none
from core.errors import LoupeError
from core.output import mask_message, md
from core.privacy import mask_frame
from dashboard.kinds.base import TABLE_TYPES, ColumnRole, Edit, KindView


def _numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns if numeric_or_none(frame[c]) is not None]


def tabular_form(predictor: Any, key: str, submit: str = "Predict") -> dict[str, Any] | None:
    """A field per training column: numbers start at the training median, categories at the mode."""
    prep = predictor.prep
    with st.form(f"row_{key}"):
        st.caption(f"Predicts **{md(prep.target)}** from {len(prep.input_columns)} columns "
                   "(values start at the training median / most frequent category).")
        cols = st.columns(3)
        row: dict[str, Any] = {}
        for i, name in enumerate(prep.numeric):  # labels are Markdown: masked and escaped
            row[name] = cols[i % 3].number_input(md(name), value=float(prep.medians.get(name, 0.0)),
                                                 format="%.4g", key=f"{key}_num_{name}")
        offset = len(prep.numeric)
        for i, name in enumerate(prep.categorical):
            options = list(prep.categories.get(name, []))
            fill = prep.fills.get(name)
            shown = _masked_options(name, options)  # the raw value is chosen, the masked one shown
            row[name] = cols[(offset + i) % 3].selectbox(
                md(name), options, index=options.index(fill) if fill in options else 0,
                format_func=lambda v, shown=shown: shown.get(v, v), key=f"{key}_cat_{name}")
        submitted = st.form_submit_button(submit, type="primary")
    return row if submitted else None


def tabular_edit_form(predictor: Any, original: Any, key: str, run_id: str = "") -> Edit | None:
    """Per-feature inputs prefilled with the original row: numbers as sliders over the training
    range (widened to hold the original), categories as selectboxes (masked values shown)."""
    import math

    from core.explain.shap_tabular import raw_split, row_frame
    from core.whatif.pins import row_changes
    from core.whatif.tabular import feature_spaces
    from dashboard.resources import get_store

    prep = predictor.prep
    row = row_frame(original, list(prep.input_columns)).reset_index(drop=True)
    spaces = feature_spaces(raw_split(get_store(), run_id, "train"), prep) if run_id else {}
    st.caption("Move a slider or pick another category; changed features are highlighted in the comparison.")
    cols = st.columns(3)
    edited: dict[str, Any] = {}
    for i, name in enumerate(prep.numeric):
        raw = pd.to_numeric(pd.Series([row.at[0, name]]), errors="coerce").iloc[0]
        value = float(prep.medians.get(name, 0.0)) if pd.isna(raw) else float(raw)
        space = spaces.get(name)
        low, high = (space.low, space.high) if space is not None and space.high > space.low else \
            (value - 1.0, value + 1.0)
        low, high = min(low, value), max(high, value)
        if space is not None and space.integer and float(value).is_integer():
            edited[name] = cols[i % 3].slider(md(name), math.floor(low), math.ceil(high), int(value),
                                              key=f"{key}_num_{name}")
        else:
            edited[name] = cols[i % 3].slider(md(name), float(low), float(high), value,
                                              step=float((high - low) / 200) or 0.01, format="%.4g",
                                              key=f"{key}_num_{name}")
    offset = len(prep.numeric)
    for i, name in enumerate(prep.categorical):
        current = row.at[0, name]
        options = list(prep.categories.get(name, []))
        if not pd.isna(current) and current not in options:
            options = [current, *options]
        shown = _masked_options(name, [str(o) for o in options])
        index = options.index(current) if current in options else 0
        edited[name] = cols[(offset + i) % 3].selectbox(
            md(name), options, index=index, format_func=lambda v, shown=shown: shown.get(str(v), "…"),
            key=f"{key}_cat_{name}")
    frame = pd.DataFrame([edited])[list(prep.input_columns)]
    changes = row_changes(row[list(prep.input_columns)], frame)
    if not changes:
        return None
    fields = tuple(c for c in prep.input_columns if any(line.startswith(f"{c}: ") for line in changes))
    shown = [f"{c}: {_number(row.at[0, c])} → {_number(frame.at[0, c])}" for c in fields]
    return Edit(frame, shown if len(shown) == len(changes) else changes, fields)


def _number(value: Any) -> str:
    """'1,978' rather than '1978.0' in a change line; categories as they are."""
    try:
        return f"{float(value):,.6g}" if not isinstance(value, (str, bool)) else str(value)
    except (TypeError, ValueError):
        return str(value)


def tabular_counterfactual_form(predictor: Any, original: Any, key: str) -> dict[str, Any]:
    """The value to reach (10% above today's prediction to start) and the columns that may change."""
    from core.explain.shap_tabular import row_frame

    prep = predictor.prep
    columns = list(prep.input_columns)
    now = float(predictor.predict(row_frame(original, columns))["prediction"].iloc[0])
    left, right = st.columns([1, 2])
    target = left.number_input(f"Reach a predicted {md(prep.target)} of", value=round(now * 1.1, 6),
                               format="%.6g", key=f"{key}_target",
                               help=f"Today's prediction: {now:,.6g}. The search moves it past this value.")
    editable = right.multiselect("Columns that may change", columns, default=columns, key=f"{key}_editable",
                                 format_func=mask_message,
                                 help="Values stay inside the ranges and categories seen in training.")
    if not editable:
        raise LoupeError("No column may change, so nothing can move the prediction.",
                         "pick at least one column that may change.")
    return {"target": float(target), "editable": list(editable)}


def _masked_options(column: str, options: list[str]) -> dict[str, str]:
    """Category values as shown: masked in their column's context (a bare 'Tanaka' in a last_name
    column is a name), so a training value never reaches the screen raw."""
    if not options:
        return {}
    masked = mask_frame(pd.DataFrame({column: [str(o) for o in options]}), operator="hash")
    values = masked[column].tolist() if column in masked else ["<REDACTED>"] * len(options)
    return {o: mask_message(str(v)) for o, v in zip(options, values, strict=True)}


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


VIEW = KindView(
    upload_types=TABLE_TYPES,
    upload_help="A table with a header row: CSV, TSV, Parquet or JSON Lines.",
    column_roles=(ColumnRole("target", "Target column", "The numeric column the model learns to predict; "
                             "every other usable column is a feature.", _numeric_columns),),
    input_form=tabular_form,
    method_labels={"shap": "SHAP for one row (waterfall)"},
    examples=_tabular_examples,
    worst_labels=("A badly predicted row", "Validation row (largest error first)"),
    edit_form=tabular_edit_form,
    counterfactual_form=tabular_counterfactual_form,
    effect_curves=True,
)
