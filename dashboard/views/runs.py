"""Runs: the history (filter, sort, paginate in the store), compare selected runs, manage them.

Only one page of runs is ever read (``list_runs`` with limit/offset, ``count_runs`` for the total),
so the table stays fast with thousands of runs; curves are read per selected run, downsampled.
"""

from __future__ import annotations

import hashlib
import math

import pandas as pd
import streamlit as st

from core import plots
from core.output import csv_bytes, md
from core.store import STATUSES
from core.tasks import all_tasks
from dashboard.components.data_check_view import data_check_panel
from dashboard.components.feedback import show_errors
from dashboard.components.kinds import best_baseline, headline_metric
from dashboard.components.run_picker import COMPARE, remember
from dashboard.components.runs_table import COLUMN_CONFIG, runs_frame
from dashboard.components.slices_view import error_slices_panel
from dashboard.resources import get_store, run_curves, run_report

ALL = "(all)"
SORTS = {"created_at": "Created", "finished_at": "Finished", "name": "Name", "task": "Task",
         "status": "Status"}
MAX_COMPARE = 8

st.title("Runs")
store = get_store()
kinds = [t.kind for t in all_tasks()]

f1, f2, f3, f4 = st.columns([1, 1, 1, 2])
task = f1.selectbox("Task", [ALL, *kinds], key="runs_task")
status = f2.selectbox("Status", [ALL, *STATUSES], key="runs_status")
tag = f3.text_input("Tag", key="runs_tag", placeholder="any")
text = f4.text_input("Search", key="runs_text", placeholder="name, notes or id")
filters = {"task": None if task == ALL else task, "status": None if status == ALL else status,
           "tag": tag.strip() or None, "text": text.strip() or None}
s1, s2, s3, s4 = st.columns([1, 1, 1, 2])
order = s1.selectbox("Sort by", list(SORTS), format_func=SORTS.get, key="runs_sort")
descending = s2.toggle("Newest / Z first", value=True, key="runs_desc")
size = s3.selectbox("Rows per page", [10, 25, 50, 100], index=1, key="runs_size")

total = store.count_runs(**filters)
pages = max(1, math.ceil(total / size))
page = s4.number_input(f"Page (of {pages})", 1, pages, 1, key="runs_page")
runs = store.list_runs(**filters, order_by=order, descending=descending, limit=size,
                       offset=(int(page) - 1) * size)
st.caption(f"{total:,} run{'s' if total != 1 else ''} match · showing {len(runs)} · "
           "select rows to compare or edit them")
view = repr((filters, order, descending, size, page, tuple(runs["id"])))  # new rows, fresh selection
table_key = "runs_table_" + hashlib.sha1(view.encode()).hexdigest()[:12]
wanted = set(st.session_state.get(COMPARE, []))  # runs another page asked to compare
preselect = [i for i, run_id in enumerate(runs["id"]) if run_id in wanted] if len(runs) else []
event = st.dataframe(runs_frame(runs, headline_metric, best_baseline), hide_index=True, on_select="rerun",
                     selection_mode="multi-row", key=table_key, height=min(38 + 35 * max(len(runs), 3), 460),
                     column_config=COLUMN_CONFIG, selection_default={"selection": {"rows": preselect}})
selected = [runs["id"].iloc[i] for i in event.selection.rows if i < len(runs)][:MAX_COMPARE]
if not selected:
    st.info("Select one or more runs in the table to compare curves, metrics and reports.",
            icon=":material/touch_app:")
    st.stop()

records = [store.get_run(run_id) for run_id in selected]
labels = {r["id"]: r["name"] for r in records}
remember(selected[0])
tab_curves, tab_metrics, tab_hp, tab_reports, tab_slices, tab_check, tab_manage = st.tabs(
    ["Curves", "Metrics", "Hyperparameters", "Reports", "Error slices", "Data check", "Manage"])

with tab_curves, show_errors("Curves"):
    frames = []
    for run in records:
        frames.append(run_curves(run, max_points=400).assign(run=labels[run["id"]]))
    curves = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    names = sorted(curves["name"].unique()) if not curves.empty else []
    if not names:
        st.caption("These runs have no logged metrics yet.")
    else:
        default = [n for n in ("loss", "macro_f1", "rmse") if n in names][:2] or names[:1]
        chosen = st.multiselect("Metrics", names, default=default, key="runs_curve_names")
        cols = st.columns(2)
        for i, name in enumerate(chosen):
            cols[i % 2].plotly_chart(plots.curves_figure(curves, name, by="run"), key=f"curve_{name}")

with tab_metrics:
    table = plots.metrics_table(records, baseline=best_baseline)
    if table.get("best baseline") is not None and table["best baseline"].notna().any():
        st.caption("**model** is each run's headline test metric; **best baseline** the strongest "
                   "simple model fitted on the same split (mean, ridge, gradient-boosted trees, or "
                   "the network auto did not keep), so you see at a glance whether the model "
                   "earns its keep.")
    st.dataframe(table, hide_index=True, key="runs_metrics_table")
    st.download_button("Download metrics (CSV)", csv_bytes(table), "metrics.csv", "text/csv")

with tab_hp, show_errors("Hyperparameters"):
    numeric = sorted({k for r in records for k, v in (r.get("metrics") or {}).items()
                      if isinstance(v, (int, float))})
    if not numeric:
        st.caption("These runs have no final metrics yet.")
    else:
        default = headline_metric(records[0]["task"])
        metric = st.selectbox("Colour by metric", numeric,
                              index=numeric.index(default) if default in numeric else 0, key="runs_hp_metric")
        frame = plots.hparam_frame(records, metric)
        st.plotly_chart(plots.parallel_coordinates_figure(frame, metric), key="runs_parcoords")
        st.dataframe(frame, hide_index=True)

with tab_reports, show_errors("Reports"):
    cols = st.columns(min(len(records), 3))
    for i, run in enumerate(records):
        with cols[i % len(cols)]:
            report = run_report(run["id"])
            st.markdown(f"**{md(run['name'])}** · {run['status']}")
            for j, fig in enumerate(plots.report_figures(report, run["name"]) if report else
                                    [plots.empty_figure(run["name"], "No report: the run has not finished")]):
                st.plotly_chart(fig, key=f"report_{run['id']}_{j}")

with tab_slices:
    sliced = selected[0] if len(selected) == 1 else st.selectbox(
        "Run", selected, format_func=lambda i: f"{labels[i]} · {i}", key="runs_slices_id")
    error_slices_panel(store, next(r for r in records if r["id"] == sliced))

with tab_check:
    checked = selected[0] if len(selected) == 1 else st.selectbox(
        "Run to check", selected, format_func=lambda i: f"{labels[i]} · {i}", key="runs_check_id")
    data_check_panel(store, next(r for r in records if r["id"] == checked),
                     [r for r in records if r["id"] != checked])

with tab_manage:
    # The browser keeps a keyed selectbox's shown label, so a rename would still show the old
    # name: the key follows the labels, and the chosen run survives in its own session key.
    last = st.session_state.get("runs_manage_last")
    names_key = hashlib.sha1(repr(sorted(labels.items())).encode()).hexdigest()[:10]
    target = st.selectbox("Run", selected, format_func=lambda i: f"{labels[i]} · {i}",
                          index=selected.index(last) if last in selected else 0,
                          key=f"runs_manage_id_{names_key}")
    st.session_state["runs_manage_last"] = target
    run = next(r for r in records if r["id"] == target)
    with st.form(f"edit_{target}"):
        name = st.text_input("Name", run["name"])
        tags = st.text_input("Tags (comma-separated)", ", ".join(run["tags"]))
        notes = st.text_area("Notes", run.get("notes") or "", height=90)
        if st.form_submit_button("Save changes"):
            with show_errors("Save"):
                if name != run["name"]:
                    store.rename_run(target, name)
                store.tag_run(target, tags.split(","))
                store.set_notes(target, notes)
                st.success("Saved.")
                st.rerun()
    with st.expander("Delete this run"):
        st.warning(f"Deletes run **{md(run['name'])}** (`{target}`): its metrics, model and files. "
                   "This cannot be undone.")
        sure = st.checkbox(f"Yes, delete {target}", key=f"delete_ok_{target}")
        if st.button("Delete run", type="primary", disabled=not sure, key=f"delete_{target}"):
            with show_errors("Delete"):
                store.delete_run(target)
                st.toast(f"Deleted run {target}.")
                st.rerun()
