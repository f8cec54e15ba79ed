"""Sweeps: search hyperparameters for a kind (Optuna, offline) and watch the trials come in.

Thin over ``core.sweeps``: the form builds a search space from the kind's defaults, ``create_sweep``
validates it (and the data) before anything starts, and the sweep is driven by a detached child
process (``start_sweep_process``), so the page stays responsive and survives a reload. The live
part reads the store and the study journal every few seconds while a sweep runs.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from core.datasets.samples import parse_sample, sample_source
from core.output import mask_message, mask_table, md
from core.sweeps import (
    cancel_sweep,
    create_sweep,
    default_space,
    delete_sweep,
    start_sweep_process,
)
from core.sweeps.figures import importance_figure, objective_figure, parallel_figure
from core.sweeps.records import SweepRecords
from core.sweeps.summary import summary
from core.tasks import all_tasks
from dashboard.components.feedback import show_errors
from dashboard.components.run_picker import remember
from dashboard.components.sweep_form import sweep_form
from dashboard.resources import get_store

DATA_CHOICES = "data_choices"  # kind -> Data page choice (as on Train)
PICKED = "sweep_picked"
POLL_SECONDS = 2.0

st.title("Sweeps")
st.caption("Try many settings and keep the best: Optuna searches, each trial is an ordinary run "
           "(it shows on Runs), and everything stays on this machine.")
store = get_store()
records = SweepRecords(store)
tasks = {t.kind: t for t in all_tasks()}

with st.expander("Start a sweep", expanded=not len(records.list(limit=1))):
    kind = st.selectbox("Task kind", list(tasks), format_func=lambda k: tasks[k].title,
                        key="sweep_kind")
    task = tasks[kind]
    choice = st.session_state.get(DATA_CHOICES, {}).get(kind)
    sources = {sample_source(n): f"Sample · {n} — {d}" for n, d in task.samples().items()}
    if choice:
        sources[choice["data"]["source"]] = f"Your data · {mask_message(choice['label'])}"
    source = st.selectbox("Data", list(sources), format_func=sources.get, key=f"sweep_src_{kind}")
    with show_errors("Sweep"):
        sample = parse_sample(source)
        base = task.default_config(sample)
        if choice and choice["data"]["source"] == source:
            base = base.replace(data=dict(choice["data"]))
        elif not sample:
            base = base.replace(data={"source": source})
        key = hashlib.sha1(f"{kind}|{source}".encode()).hexdigest()[:10]
        asked = sweep_form(default_space(base), key)
        if asked is not None:
            with st.spinner("Checking the search space and the data…"):
                sweep_id = create_sweep(base, asked["space"], asked["n_trials"], asked["minutes"],
                                        asked["sampler"], asked["pruner"], asked["parallel"],
                                        name=asked["name"], store=store)
            start_sweep_process(sweep_id, store)
            st.session_state[PICKED] = sweep_id
            st.success(f"Started sweep `{sweep_id}`; it runs in the background.",
                       icon=":material/rocket_launch:")


def sweep_view(sweep_id: str) -> None:
    """The live part: status, trials, figures. Reruns itself while the sweep runs."""
    with show_errors("Sweep"):
        records.recover()
        found = summary(sweep_id, store)
        sweep, trials = found["sweep"], found["trials"]
        active = sweep["status"] in ("queued", "running")
        if st.session_state.get("_sweep_was_active") and not active:
            st.session_state["_sweep_was_active"] = False
            st.rerun()  # finished: redraw the whole page (buttons)
        st.session_state["_sweep_was_active"] = active
        budget = sweep["n_trials"] or 0
        st.markdown(f"**{md(sweep['name'])}** · `{sweep['id']}` · {md(sweep['task'])} · "
                    f"status **{sweep['status']}** · objective `{sweep['metric']}` "
                    f"({sweep['direction']}) · {sweep['sampler']} / {sweep['pruner']}")
        if budget:
            st.progress(min(1.0, sweep["trials_done"] / budget),
                        text=f"{sweep['trials_done']} of {budget} trials")
        if sweep["error"]:
            st.warning(md(sweep["error"]), icon=":material/warning:")
        if sweep["best_run_id"]:
            st.markdown(f"**Best:** trial {sweep['best_trial']} · {sweep['metric']} "
                        f"{sweep['best_value']:.4g} · run `{sweep['best_run_id']}`")
        if trials.empty:
            st.caption("No trial has started yet.")
            return
        st.dataframe(mask_table(trials), hide_index=True, width="stretch")
        c1, c2 = st.columns(2)
        fig = objective_figure(trials, sweep["metric"], sweep["direction"])
        if fig is not None:
            c1.plotly_chart(fig, width="stretch", key="sweep_objective")
        fig = importance_figure(found["importances"])
        if fig is not None:
            c2.plotly_chart(fig, width="stretch", key="sweep_importance")
        else:
            c2.caption("Importances appear once two completed trials differ.")
        fig = parallel_figure(trials, list(sweep["space"]), sweep["metric"])
        if fig is not None:
            st.plotly_chart(fig, width="stretch", key="sweep_parallel")


@st.dialog("Delete sweep")
def confirm_delete(sweep_id: str) -> None:
    st.write("Delete this sweep? Its trials are ordinary runs: keep them, or delete them too.")
    keep = st.radio("Its runs", ["Keep the runs", "Delete the runs too"], key="sweep_del_keep")
    if st.button("Delete", type="primary", key="sweep_del_go"):
        with show_errors("Delete"):
            delete_sweep(sweep_id, keep_runs=keep == "Keep the runs", store=store)
            st.session_state.pop(PICKED, None)
            st.rerun()


listed = records.list(limit=200)
if listed.empty:
    st.info("No sweeps yet. Start one above.", icon=":material/info:")
else:
    ids = listed["id"].tolist()
    labels = {r.id: f"{r.id} · {mask_message(r.name or '')} · {r.status} · {r.trials_done} trials"
              for r in listed.itertuples()}
    wanted = st.session_state.get(PICKED)
    picked = st.selectbox("Sweep", ids, index=ids.index(wanted) if wanted in ids else 0,
                          format_func=labels.get, key="sweep_pick")
    st.session_state[PICKED] = picked
    row = listed[listed["id"] == picked].iloc[0]
    running = row["status"] in ("queued", "running")
    st.fragment(run_every=POLL_SECONDS if running else None)(sweep_view)(picked)
    b1, b2, b3, b4 = st.columns(4)
    with show_errors("Sweep"):
        if running and b1.button("Cancel sweep", icon=":material/stop:", key="sweep_cancel"):
            cancel_sweep(picked, store)
            st.rerun()
        if row["status"] in ("interrupted", "cancelled", "failed") and b1.button(
                "Resume sweep", icon=":material/play_arrow:", key="sweep_resume"):
            start_sweep_process(picked, store)
            st.rerun()
        best = row["best_run_id"]
        if isinstance(best, str) and best and b2.button("Promote best", type="primary",
                                                        icon=":material/star:", key="sweep_promote",
                                                        help="Tag the best run 'best' and open it "
                                                        "on Predict."):
            run = store.get_run(best)
            store.tag_run(best, [*run["tags"], "best"])
            remember(best)
            st.switch_page("views/predict.py")
        if isinstance(best, str) and best and b3.button("Explain the best run", key="sweep_explain",
                                                        icon=":material/lightbulb:"):
            remember(best)
            st.switch_page("views/explain.py")
        if not running and b4.button("Delete sweep…", icon=":material/delete:", key="sweep_delete"):
            confirm_delete(picked)

