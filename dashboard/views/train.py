"""Train: pick a kind and data, tune the config, validate, start; watch runs live from the store.

Validation runs ``task.load_data`` in this process so a bad column or file is an ``st.error``
before anything is queued. Training itself runs in a child process (``core.jobs.start_job``), so
the page stays responsive, survives a reload (active runs are read from the store, not the
session) and several runs can queue.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict

import pandas as pd
import streamlit as st

from core.config import DataConfig, RunConfig
from core.datasets.samples import parse_sample, sample_source
from core.errors import LoupeError
from core.jobs import start_job
from core.output import mask_message, md
from core.plots import format_number, summary_metrics
from core.tasks import all_tasks, get_task
from dashboard.components.config_form import config_form
from dashboard.components.feedback import notices, show_errors
from dashboard.components.progress import phase_bar, run_panel
from dashboard.components.run_picker import COMPARE, remember
from dashboard.components.uploads import suffixes
from dashboard.kinds import view_for
from dashboard.resources import finished_run, get_store, kept_uploads, run_report

TRAIN_REQUEST = "train_request"  # set by Home ("try a sample") and Data ("use this data")
DATA_CHOICES = "data_choices"  # kind -> {"data": {...DataConfig fields}, "label": str} from Data
POLL_SECONDS = 2.0

st.title("Train")
store = get_store()
tasks = {t.kind: t for t in all_tasks()}

request = st.session_state.pop(TRAIN_REQUEST, None)
if request and request.get("task") in tasks:
    st.session_state["train_kind"] = request["task"]
    if request.get("sample"):
        st.session_state[f"train_source_{request['task']}"] = sample_source(request["sample"])
    elif request.get("data"):
        st.session_state[f"train_source_{request['task']}"] = request["data"]["source"]

kind = st.selectbox("Task kind", list(tasks), format_func=lambda k: tasks[k].title, key="train_kind")
task = tasks[kind]
choice = st.session_state.get(DATA_CHOICES, {}).get(kind)
sources = {sample_source(name): f"Sample · {name} — {desc}" for name, desc in task.samples().items()}
if choice:
    shown = mask_message(choice["label"])
    sources[choice["data"]["source"]] = f"Your data · {shown} (columns chosen on Data)"
uploads = {str(u.path): u for u in kept_uploads(suffixes(view_for(kind).upload_types))}
for path, up in uploads.items():  # every kept upload, until deleted on Data
    columns = " (columns chosen on Data)" if kind in up.choices else ""
    sources.setdefault(path, f"Your upload · {up.label()}{columns}")
source = st.selectbox("Data", list(sources), format_func=sources.get, key=f"train_source_{kind}",
                      help="A built-in sample, or one of your uploads (kept until you delete it "
                           "on the Data page).")
if not choice and not uploads:
    st.caption("To train on your own file, upload it on the **Data** page first.")


def base_config(source: str) -> RunConfig:
    """The kind's defaults for this source, with the Data page's column choices on top."""
    sample = parse_sample(source)
    cfg = task.default_config(sample)
    if choice and choice["data"]["source"] == source:
        return cfg.replace(data=dict(choice["data"]))
    if sample:
        return cfg
    fresh = asdict(DataConfig(source=source))  # nothing of the default sample's columns
    chosen = uploads[source].choices.get(kind, {}) if source in uploads else {}
    return cfg.replace(data={**fresh, **chosen, "source": source})


def validate(cfg: RunConfig) -> tuple[str, list[str]]:
    """(fingerprint, notices) of the config's data; LoupeError when it cannot be used. Cached per config."""
    done = st.session_state.setdefault("validated", {})
    key = cfg.to_json()
    if key not in done:
        with phase_bar("Checking the data…"):
            data = task.load_data(cfg)
            task.plan(cfg, data)  # settings chosen from the data (e.g. epochs) join the notices
        done[key] = (data.fingerprint, list(data.notices))
    return done[key]


cfg, action = None, None
with show_errors("Settings"):
    defaults = base_config(source)
    form_key = hashlib.sha1(f"{kind}|{source}".encode()).hexdigest()[:10]
    cfg, action = config_form(defaults, form_key, task)
if cfg is not None and action:
    with show_errors("Data check"):
        fingerprint, found = validate(cfg)
        if action == "check":
            st.success("The data is ready for training.", icon=":material/check_circle:")
        notices(found)
        if action == "start":
            run_id = start_job(cfg, store, fingerprint=fingerprint)
            remember(run_id)
            st.session_state.setdefault("my_runs", []).append(run_id)
            st.success(f"Started run `{run_id}`. It trains in the background; you can leave this page.",
                       icon=":material/rocket_launch:")


def _monitor(kind_name: str) -> str:
    try:
        return get_task(kind_name).monitor
    except LoupeError:
        return "loss"


def active_runs() -> pd.DataFrame:
    running = store.list_runs(status="running", limit=20)
    queued = store.list_runs(status="queued", limit=20, descending=False)
    return pd.concat([running, queued], ignore_index=True) if len(queued) else running


def live_runs() -> None:
    """Re-run every few seconds while runs are active; a full rerun when one of them finishes."""
    with show_errors("Live progress"):
        active = st.session_state.pop("_active_prefetch", None)
        if active is None:
            active = active_runs()
            if not active.empty and store.recover_interrupted():  # a training process died
                active = active_runs()
        ids = set(active["id"])
        finished = st.session_state.get("live_ids", set()) - ids
        st.session_state["live_ids"] = ids
        if finished:
            st.rerun()
        st.subheader(f"Runs in progress ({len(active)})")
        if active.empty:
            st.caption("Nothing is training right now.")
        for row in active.itertuples(index=False):
            with st.container(border=True):
                run_panel(store, store.get_run(row.id), _monitor(row.task), "live")


prefetch = active_runs()
st.session_state["_active_prefetch"] = prefetch  # the fragment's first run reuses this query
st.fragment(run_every=POLL_SECONDS if len(prefetch) else None)(live_runs)()

with show_errors("Latest run"):
    latest = store.list_runs(order_by="finished_at", limit=1)
    latest = latest[~latest["status"].isin(["queued", "running"])]
    if not latest.empty:
        st.subheader("Latest finished run")
        run = finished_run(latest.iloc[0].to_dict())
        with st.container(border=True):
            run_panel(store, run, _monitor(run["task"]), "done")
            if run["status"] == "completed":
                remember(run["id"])
                final = summary_metrics(run["metrics"], limit=5)
                scores = " · ".join(f"{md(k[5:])} {format_number(v)}" for k, v in final.items())
                st.markdown(f"**Test scores:** {scores}")
                report = run_report(run["id"]) or {}
                for key in ("model_choice", "target_transform", "network_target_transform"):  # and why
                    why = (report.get(key) or {}).get("why")
                    if why:
                        st.info(md(mask_message(str(why))), icon=":material/model_training:")
                outcome = report.get("start_outcome")  # e.g. fine-tuned vs its linear probe
                if outcome:
                    st.info(md(outcome), icon=":material/insights:")
                notices([n for n in report.get("notices", []) if n != outcome], "Notes on this run")
                c1, c2, c3 = st.columns(3)
                if c1.button("Compare on Runs", icon=":material/monitoring:", type="tertiary"):
                    st.session_state[COMPARE] = [run["id"]]
                    st.switch_page("views/runs.py")
                c2.page_link("views/predict.py", label="Predict with it", icon=":material/online_prediction:")
                c3.page_link("views/explain.py", label="Explain it", icon=":material/lightbulb:")
