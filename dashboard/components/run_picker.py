"""Pick a finished run (Predict, Explain, Export), remembering the choice across pages."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.resources import completed_runs, get_store, run_label

SELECTED = "selected_run"
COMPARE = "compare_ids"  # run ids the Runs page preselects (Train's "Compare on Runs", a review)


def pick_run(key: str, label: str = "Run", task: str | None = None) -> dict[str, Any] | None:
    """A selectbox of completed runs (newest first); returns the full run record or None."""
    runs = completed_runs(task)
    if runs.empty:
        st.info("No finished runs yet. Train one on the **Train** page (try a sample from **Home**).",
                icon=":material/info:")
        return None
    ids = runs["id"].tolist()
    labels = {row.id: run_label(row._asdict()) for row in runs.itertuples(index=False)}
    wanted = st.session_state.get(SELECTED)
    index = ids.index(wanted) if wanted in ids else 0
    run_id = st.selectbox(label, ids, index=index, format_func=labels.get, key=key,
                          help="Completed runs, newest first.")
    st.session_state[SELECTED] = run_id
    return get_store().get_run(run_id)


def remember(run_id: str) -> None:
    """Make ``run_id`` the preselected run on the other pages."""
    st.session_state[SELECTED] = run_id
