"""How the model did on a labelled file of inputs (``core.batch_eval``): headline numbers, notices
and the confusion matrix or the predicted-vs-true and residual plots, all masked."""

from __future__ import annotations

import streamlit as st

from core.batch_eval import BatchEvaluation, batch_figures, slices_figure
from core.output import mask_message, md
from core.plots import format_number
from core.split_slices import slices_table

NAMES = {"accuracy": "Accuracy", "macro_f1": "Macro-F1", "rmse": "RMSE", "mae": "MAE", "r2": "R²"}


def show_batch_evaluation(evaluation: BatchEvaluation, key: str, what: str = "file") -> None:
    """``what``: what was scored, for the headings ("file", "test split")."""
    st.subheader(f"How the model did on this {what}")
    st.caption(md(mask_message(
        f"Scored against column '{evaluation.truth_column}' on {evaluation.rows:,} rows"
        + (f"; {evaluation.skipped:,} rows without a usable label or prediction are left out."
           if evaluation.skipped else "."))))
    shown = [(name, evaluation.metrics[k]) for k, name in NAMES.items() if k in evaluation.metrics]
    for column, (name, value) in zip(st.columns(len(shown)), shown, strict=True):
        column.metric(name, format_number(value))
    for note in evaluation.notices:
        st.warning(md(mask_message(note)), icon=":material/warning:")
    figures = batch_figures(evaluation, what)
    for i, (column, figure) in enumerate(zip(st.columns(len(figures)), figures, strict=True)):
        column.plotly_chart(figure, key=f"{key}_figure_{i}")
    if evaluation.slices:
        st.markdown(f"**Where it does worst.** The {what} cut by each of its columns (a category, a "
                    "quarter of a number's range or of the text lengths, an image's size, the true "
                    "class); "
                    f"slices of at least 5 rows that do worse than the whole {what}.")
        left, right = st.columns([3, 2])
        left.plotly_chart(slices_figure(evaluation), key=f"{key}_slices")
        right.dataframe(slices_table(evaluation), hide_index=True, key=f"{key}_slices_table")
