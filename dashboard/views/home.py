"""Home: what Loupe does, the device in use, recent runs, and one click to try each task kind."""

from __future__ import annotations

import streamlit as st

from core.output import md, show_path
from core.tasks import all_tasks
from dashboard.components.feedback import show_errors
from dashboard.components.kinds import best_baseline, headline_metric
from dashboard.components.runs_table import COLUMN_CONFIG, runs_frame
from dashboard.resources import get_store, machine

TRAIN_REQUEST = "train_request"

st.title("Loupe")
st.markdown(
    "Train a text, image or tabular model on your own data, keep every run in one history, "
    "compare runs, predict, and see *why* a model decided with SHAP and attention.  \n"
    "Personal data stays masked unless you deliberately unmask it — and that is recorded."
)

with show_errors("Device"):
    info = machine()
    if info["gpus"]:
        gpus = ", ".join(f"{g['name']} ({g['memory_gib']} GiB)" for g in info["gpus"])
        st.success(f"**GPU in use:** {gpus} · precision {info['precision']}", icon=":material/bolt:")
    else:
        st.info(f"**Running on CPU** ({info.get('cores') or '?'} cores) · precision {info['precision']}. "
                "Each sample below says how long it trains here; a GPU is used automatically when "
                "present.",
                icon=":material/memory:")

st.subheader("Try a sample")
tasks = all_tasks()
cols = st.columns(max(len(tasks), 1))
for col, task in zip(cols, tasks, strict=False):
    with col.container(border=True):
        st.markdown(f"**{task.title}**")
        for sample, description in task.samples().items():
            took = task.sample_cpu_time.get(sample)
            st.caption(f"{description} · {took} on a 2-core CPU" if took else description)
            if st.button(f"Try {sample}", key=f"try_{task.kind}_{sample}", width="stretch",
                         help=f"Open Train with the {sample} sample and good defaults."):
                st.session_state[TRAIN_REQUEST] = {"task": task.kind, "sample": sample}
                st.switch_page("views/train.py")

st.subheader("Recent runs")
with show_errors("Run history"):
    store = get_store()
    recent = store.list_runs(limit=8)
    if recent.empty:
        st.caption("No runs yet — try a sample above, or bring your own data on the **Data** page.")
    else:
        st.dataframe(runs_frame(recent, headline_metric, best_baseline), hide_index=True, key="home_recent",
                     column_config=COLUMN_CONFIG)
        total = store.count_runs()
        plural = "s" if total != 1 else ""
        st.caption(f"{total:,} run{plural} in {md(show_path(store.path), mask=False)}. "
                   "See all of them on **Runs**.")
