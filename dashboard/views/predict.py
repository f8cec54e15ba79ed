"""Predict: one input through the kind's form (``view_for(kind).input_form``), or a whole file with
a download of the results.

Batch results are masked (``mask_frame``) before they are shown or downloaded, so personal data in
the input columns never leaves as plain text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.batch_eval import BatchEvaluation, evaluate_batch
from core.output import csv_bytes, mask_message, mask_table, md
from core.plots import format_number
from core.privacy import mask_frame
from dashboard.components.batch_eval_view import show_batch_evaluation
from dashboard.components.feedback import show_errors
from dashboard.components.inputs import show_prediction
from dashboard.components.run_picker import pick_run
from dashboard.components.uploads import pick_upload
from dashboard.kinds import view_for
from dashboard.resources import get_predictor

PREVIEW_ROWS = 200

st.title("Predict")
run = pick_run("predict_run")
if run is None:
    st.stop()
run_id, kind = run["id"], run["task"]
view = view_for(kind)


@st.cache_data(show_spinner="Predicting…", max_entries=8)
def batch_predict(run_id: str, path: str, mtime: float) -> tuple[pd.DataFrame, BatchEvaluation | None]:
    """Inputs and predictions side by side, masked, and the scores when the file has labels (or
    the target); cached per run and file content."""
    predictor = get_predictor(run_id)
    result = predictor.predict_file(Path(path))  # the user's columns kept
    evaluation = evaluate_batch(result, predictor.labels)  # before masking: raw labels compared
    notes = list(result.attrs.get("notices", []))  # e.g. values that are not numbers
    # predictions first on screen: a wide table must not push them off-screen (issue 15); the
    # file `loupe predict` writes keeps the user's column order with the predictions after them
    first = [c for c in result.attrs.get("prediction_columns", []) if c in result.columns]
    result = result[first + [c for c in result.columns if c not in first]]
    result = mask_table(mask_frame(result))
    result.attrs["notices"] = notes
    return result, evaluation


predictor = None
with show_errors("Model"):
    predictor = get_predictor(run_id)
    metric = {k: v for k, v in run["metrics"].items() if k.startswith("test_")}
    st.caption(f"{kind} model · trained {pd.Timestamp(run['created_at']):%Y-%m-%d %H:%M} · "
               + " · ".join(f"{md(k)} {format_number(v)}" for k, v in list(metric.items())[:3]))
if predictor is None:
    st.stop()

single, batch = st.tabs(["One input", "A file of inputs"])
with single:
    form = view.input_form
    if form is None:
        st.info(f"There is no single-input form for '{kind}' models yet; use a file of inputs.")
    else:
        with show_errors("Prediction"):
            value = form(predictor, f"predict_{run_id}")
            if value is not None:
                result = predictor.predict(value if isinstance(value, dict) else [value])
                show_prediction(result, predictor, value if view.input_image else None)

with batch:
    upload = st.file_uploader("File of inputs", type=view.batch_upload_types, key=f"predict_file_{kind}",
                              help="A table with the training columns (tabular), texts (text) or a zip of "
                                   "images (image). Results are masked.")
    with show_errors("Batch prediction"):
        kept = pick_upload(f"predict_{kind}", view.batch_upload_types, upload, newest=False)
        if kept is not None:
            path = kept.path
            result, evaluation = batch_predict(run_id, str(path), path.stat().st_mtime)
            st.success(f"{len(result):,} predictions.", icon=":material/check_circle:")
            for note in result.attrs.get("notices", []):
                st.warning(md(mask_message(note)), icon=":material/warning:")
            if evaluation is not None:  # the scores before a long table, not under it
                show_batch_evaluation(evaluation, key=f"batch_eval_{run_id}")
            st.dataframe(result.head(PREVIEW_ROWS), hide_index=True, key="predict_batch_table")
            if len(result) > PREVIEW_ROWS:
                st.caption(f"Showing the first {PREVIEW_ROWS} rows; the download has all of them.")
            st.download_button("Download predictions (CSV)", csv_bytes(result),
                               file_name=f"predictions-{run_id}.csv", mime="text/csv", type="primary")
