"""Data: upload a file or pick a sample; privacy report and masked preview first; choose columns.

Uploads are stored under LOUPE_HOME/uploads/<sha256>/<sanitised name>: the uploaded file name is
never used as a path. Choices made here (source and columns) are handed to Train through the
session; "Check" runs the kind's own loader so a bad target or file is an ``st.error`` at once.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.datasets.samples import parse_sample, sample_source
from core.errors import LoupeError
from core.output import mask_message
from core.store.uploads import find_upload, remember_choices
from core.tasks import all_tasks, get_task
from dashboard.components.data_check_view import data_check_panel
from dashboard.components.feedback import notices, show_errors
from dashboard.components.privacy_view import privacy_overview
from dashboard.components.uploads import drop_unreadable, pick_upload
from dashboard.kinds import AUTO, view_for
from dashboard.resources import get_store, read_upload_table

DATA_CHOICES = "data_choices"
TRAIN_REQUEST = "train_request"
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".ndjson", ".json")
TEXT_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".txt")  # files with an encoding
ENCODINGS = {"": "UTF-8 (default)", "cp1252": "Windows-1252 (Western Europe)",
             "latin-1": "Latin-1 (ISO-8859-1)", "utf-16": "UTF-16"}

st.title("Data")
st.caption("Bring a table, a text file or a zip of images — or start from a sample. Personal data is "
           "masked in every preview unless you unmask it.")
store = get_store()
tasks = {t.kind: t for t in all_tasks()}
kind = st.selectbox("Task kind", list(tasks), format_func=lambda k: tasks[k].title, key="data_kind")
task = tasks[kind]
view = view_for(kind)
mode = st.radio("Source", ["Upload a file", "Use a sample"], horizontal=True, key="data_mode")


@st.cache_data(show_spinner="Loading the sample…", max_entries=8)
def sample_frame(kind_name: str, sample: str) -> pd.DataFrame | None:
    return get_task(kind_name).sample_frame(sample)


source, label, frame, file_notices = None, None, None, []
encoding: str | None = None
with show_errors("Upload"):
    if mode == "Use a sample":
        sample = st.selectbox("Sample", list(task.samples()), key=f"data_sample_{kind}",
                              format_func=lambda s: f"{s} — {task.samples()[s]}")
        source, label = sample_source(sample), sample
        frame = sample_frame(kind, sample)  # None: this kind's samples are not tables
    else:
        upload = st.file_uploader("Upload", type=list(view.upload_types),
                                  help=view.upload_help, key=f"data_upload_{kind}")
        kept = pick_upload(kind, view.upload_types, upload)
        if kept is not None:
            path = kept.path
            source, label = str(path), kept.name
            if path.suffix.lower() in TEXT_SUFFIXES:
                choice = st.selectbox(
                    "Text encoding", list(ENCODINGS), format_func=ENCODINGS.get,
                    key=f"data_encoding_{kind}",
                    help="How the file's bytes map to characters. Loupe reads UTF-8 (with or "
                         "without a byte-order mark) by default; files saved by older Excel "
                         "versions are often Windows-1252 or Latin-1.")
                encoding = choice or None
            if path.suffix.lower() in TABLE_SUFFIXES:
                try:
                    frame, file_notices = read_upload_table(path, encoding)
                except LoupeError:
                    drop_unreadable(kind, kept)  # an unreadable file is not kept
                    raise

if source is None:
    st.info("Upload a file or pick a sample to see its privacy report and preview.", icon=":material/upload:")
    st.stop()

notices(file_notices)
if frame is not None:
    with show_errors("Privacy report"):
        privacy_overview(store, frame, source, label)

st.subheader("Columns")
data: dict[str, object] = {"source": source}
if encoding:
    data["encoding"] = encoding
sample_name = parse_sample(source)
roles = view.column_roles
if frame is None and roles:
    st.caption("Columns are detected when the data is loaded.")
elif not roles:
    st.caption(f"{task.title} needs no column choices.")
else:
    default_cfg = task.default_config(sample_name).data
    cols = st.columns(len(roles))
    for col, role in zip(cols, roles, strict=True):
        options = role.options(frame)
        if role.auto:
            options = [AUTO, *options]
        default = getattr(default_cfg, role.field, None) if sample_name else None
        if not options:
            col.error(f"No column qualifies as the {role.label.lower()}.")
            continue
        index = options.index(default) if default in options else (0 if role.auto else len(options) - 1)
        value = col.selectbox(role.label, options, index=index, help=role.help,
                              format_func=mask_message, key=f"data_{kind}_{role.field}")
        data[role.field] = None if value == AUTO else value

c1, c2, _ = st.columns([1, 1, 3])
check = c1.button("Check data", help="Load and validate the data with these choices.")
use = c2.button("Train on this data", type="primary")
if check or use:
    with show_errors("Data check"):
        cfg = task.default_config(sample_name)
        cfg = cfg.replace(data={k: v for k, v in data.items()})
        with st.spinner("Checking the data…"):
            prepared = task.load_data(cfg)
        rows = {s: len(getattr(prepared, s)) for s in ("train", "val", "test")}
        st.success(f"Ready: {rows['train']:,} training, {rows['val']:,} validation and {rows['test']:,} "
                   "test examples.", icon=":material/check_circle:")
        notices(list(prepared.notices))
        kept = find_upload(store, source)
        if kept is not None:  # Train offers it with these columns, in this session and later ones
            remember_choices(store, kept, kind, data)
        if use:
            st.session_state.setdefault(DATA_CHOICES, {})[kind] = {"data": data, "label": label}
            st.session_state[TRAIN_REQUEST] = {"task": kind, "data": data}
            st.switch_page("views/train.py")

if Path(source).suffix.lower() == ".zip":
    st.caption("Images are decoded and checked when you press **Check data**; unreadable files are "
               "listed with the reason.")

# Issue 19: the data check from the data's side; it needs a run (its model and split).
st.subheader("Wrong labels, duplicates and outliers")
trained = store.list_runs(task=kind, status="completed", limit=200)
trained = trained[trained["data_source"] == source]
if trained.empty:
    st.caption("Train a run on this data, then check it here (or on Runs → Data check, or with "
               "`loupe check RUN_ID`): the check scores every row with the run's model and split.")
else:
    names = dict(zip(trained["id"], trained["name"], strict=True))
    checked = st.selectbox("Check with run", list(names), key=f"data_check_run_{kind}",
                           format_func=lambda i: mask_message(f"{names[i]} · {i}"))
    data_check_panel(store, store.get_run(checked))
