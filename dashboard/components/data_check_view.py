"""The data check of one run (issue 19) on the Runs page: settings, a progress bar while it
computes, then the counts per issue and split and the flagged rows, sortable by score (texts
masked, images as thumbnails with masked file names), with a CSV download.

An earlier result with the same settings is shown at once (``cached_check``); computing happens
only when the button is pressed."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.datacheck import ISSUES, DataCheck, cached_check, check_run
from core.datacheck.duplicates import NEAR_THRESHOLD
from core.output import csv_bytes, md
from core.plots import PALETTE, empty_figure
from core.tasks import get_task
from dashboard.components.data_review import compare_panel, review_panel
from dashboard.components.feedback import notices, show_errors
from dashboard.components.progress import phase_bar
from dashboard.components.runs_table import duration

SHOWN = ["issue", "score", "split", "row", "preview", "reason", "duplicate_of"]
COLUMN_CONFIG = {
    "score": st.column_config.ProgressColumn(
        "score", min_value=0.0, max_value=1.0, format="%.2f",
        help="How sure the check is that something is wrong with the row (1: certain)."),
    "thumbnail": st.column_config.ImageColumn("image", width="small"),
    "preview": st.column_config.TextColumn("example", help="Masked, like every preview in Loupe."),
    "duplicate_of": st.column_config.TextColumn("duplicate of"),
}
SPLIT_ORDER = ("train", "val", "test")


def counts_figure(check: DataCheck) -> go.Figure:
    """Flags per issue, stacked by split: where the problems are, at a glance."""
    flags = check.flags
    if flags.empty:
        return empty_figure("Flags per issue", "Nothing flagged: no label issues, outliers or duplicates")
    issues = [i for i in ISSUES if (flags["issue"] == i).any()]
    fig = go.Figure()
    for n, split in enumerate(SPLIT_ORDER):
        rows = flags[flags["split"] == split]
        counts = [int((rows["issue"] == i).sum()) for i in issues]
        if any(counts):
            fig.add_bar(y=issues, x=counts, name=split, orientation="h", marker_color=PALETTE[n],
                        hovertemplate="%{y}: %{x} " + split + " rows<extra></extra>")
    fig.update_layout(title="Flags per issue and split", barmode="stack", height=120 + 40 * len(issues),
                      template="plotly_white", margin={"l": 120, "r": 20, "t": 50, "b": 40},
                      xaxis_title="rows flagged", yaxis={"autorange": "reversed"},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1})
    return fig


def flags_frame(check: DataCheck, issues: list[str]) -> pd.DataFrame:
    """The rows to show: the chosen issues, highest score first (the table sorts on click too)."""
    flags = check.flags[check.flags["issue"].isin(issues)]
    columns = (["thumbnail"] if flags["thumbnail"].notna().any() else []) + SHOWN
    if (flags["preview"] == flags["row"]).all():  # images: the file name is the row already
        columns.remove("preview")
    if flags["duplicate_of"].isna().all():
        columns.remove("duplicate_of")
    return flags.sort_values("score", ascending=False, kind="stable")[columns].reset_index(drop=True)


def data_check_panel(store: Any, run: dict[str, Any], others: list[dict[str, Any]] | None = None) -> None:
    st.caption("Finds rows that look wrong: labels a model that never saw the row disagrees with, "
               "extreme residuals and outlying values (tables), exact and near duplicates, and "
               "held-out rows that repeat training rows (leakage). Nothing is changed.")
    key = f"datacheck_{run['id']}"
    c1, c2, c3 = st.columns([1, 1, 1])
    folds = c1.slider("Folds", 2, 10, 5, key=f"{key}_folds",
                      help="Cross-validation folds of the quick model that scores each row.")
    near = c2.slider("Near-duplicate similarity", 0.90, 1.0, NEAR_THRESHOLD, 0.005, format="%.3f",
                     key=f"{key}_near", help="Cosine similarity of the features above which two "
                                             "examples count as near duplicates.")
    finetune = get_task(run["task"]).classifies and c1.toggle(
        "Fine-tune the run's model per fold", key=f"{key}_finetune",
        help="Slow but closer to the real model: label issues from the run's own model trained "
             "once per fold (as many trainings as folds) instead of a quick model on frozen "
             "embeddings.")
    check = None
    with show_errors("Data check"):
        check = cached_check(run["id"], store, folds=folds, near_threshold=near, finetune=finetune)
    label = "Check again" if check is not None else "Check this run's data"
    c3.write("")  # aligns the button with the sliders
    if c3.button(label, type="primary" if check is None else "secondary", key=f"{key}_go"):
        with show_errors("Data check"), phase_bar("Checking the data…"):
            check = check_run(run["id"], store, folds=folds, near_threshold=near, refresh=True,
                              finetune=finetune)
    if check is None:
        took = duration(run.get("started_at"), run.get("finished_at"), run.get("status"))
        cost = (f"{folds} trainings of this run's model" + (f", each about as long as its {took}"
                                                             if took else "") if finetune else
                "about 15 s for a few hundred examples on a laptop CPU")
        st.info(f"Not checked with these settings yet: press the button ({cost}; the result is "
                "kept).", icon=":material/fact_check:")
    else:
        show_check(check, key)
        if len(check.flags):
            review_panel(store, run, check, key)
    compare_panel(store, run, others or [], key)


def show_check(check: DataCheck, key: str) -> None:
    for line in check.summary()[:1]:
        st.markdown(md(line))
    notices(list(check.notices), "Notes on the check")
    leaks = sum(check.leakage.values())
    if leaks:
        st.warning(md(f"{leaks:,} held-out example{'s' if leaks != 1 else ''} repeat training "
                      "examples: test metrics are optimistic until they are removed."),
                   icon=":material/warning:")
    st.plotly_chart(counts_figure(check), key=f"{key}_counts")
    if check.flags.empty:
        return
    present = [i for i in ISSUES if (check.flags["issue"] == i).any()]
    chosen = st.multiselect("Issues", present, default=present, key=f"{key}_issues")
    frame = flags_frame(check, chosen)
    st.dataframe(frame, hide_index=True, column_config=COLUMN_CONFIG, key=f"{key}_table",
                 row_height=76 if "thumbnail" in frame.columns else None,
                 height=min(38 + (77 if "thumbnail" in frame.columns else 35) * max(len(frame), 3), 520))
    st.download_button("Download the flags (CSV)", csv_bytes(check.table()), "data_check.csv",
                       "text/csv", key=f"{key}_download")
