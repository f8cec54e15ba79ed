"""Error slices of a run's own split on the Runs page (``core.split_slices``, issue 19 item 5):
pick a split, see the cached result at once or compute it on request, then the scores, the
confusion matrix or residual plots and the slices where the model does worst, all masked."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.split_slices import SPLIT_NAMES, SPLITS, cached_split_evaluation, split_evaluation
from dashboard.components.batch_eval_view import show_batch_evaluation
from dashboard.components.feedback import show_errors


def error_slices_panel(store: Any, run: dict[str, Any]) -> None:
    if run["status"] != "completed":
        st.info(f"Run {run['id']} has not completed ({run['status']}): slices need its trained model.",
                icon=":material/hourglass_empty:")
        return
    st.caption("The run's model predicts one of its own splits; the split is then cut by each "
               "column (a category, a quarter of a number's range or of the text lengths, an "
               "image's size, the true class) to show where it does worst. The same as "
               "`loupe slices`; the HTML report carries the test split's.")
    split = st.radio("Split", SPLITS, format_func=lambda s: SPLIT_NAMES[s], horizontal=True,
                     key=f"slices_split_{run['id']}")
    with show_errors("Error slices"):
        evaluation = cached_split_evaluation(run["id"], split, store)
        if evaluation is None:
            if not st.button(f"Find error slices on the {SPLIT_NAMES[split]} split", type="primary",
                             key=f"slices_go_{run['id']}_{split}"):
                return
            with st.spinner(f"Predicting the {SPLIT_NAMES[split]} split…"):
                evaluation = split_evaluation(run["id"], split, store)
        show_batch_evaluation(evaluation, key=f"slices_{run['id']}_{split}",
                              what=f"{SPLIT_NAMES[split]} split")
        if not evaluation.slices:
            st.caption("No slice of at least 5 examples does worse than the whole split.")
