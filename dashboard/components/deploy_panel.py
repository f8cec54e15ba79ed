"""The Export page's "Compress and serve" panel: ONNX / int8 ONNX checked against the original on
the run's own validation and test data, and how to serve the model over HTTP (command + curl).

All the work is ``core.deploy``; this only draws it. The check is cached per run and artifact
version, so the table comes back instantly on the next visit.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import pandas as pd
import streamlit as st

from core.deploy import serve_command
from core.output import md
from dashboard.components.feedback import show_errors
from dashboard.resources import get_store

PORT = 8000


@st.cache_data(show_spinner="Exporting to ONNX, quantizing and checking on validation and test data…",
               max_entries=4)
def compression_rows(run_id: str, version: float) -> list[dict[str, Any]]:
    from core.deploy.bundle import compression_check

    return compression_check(run_id, get_store(), max_rows=1000)[0]


@st.cache_data(max_entries=8)
def format_notes(run_id: str, version: float) -> dict[str, str]:
    from core.deploy.compress import format_notes as notes

    run = get_store().get_run(run_id)
    return notes(run["task"], get_store().artifact_path(run["id"], "model"))


@st.cache_data(max_entries=8)
def request_example(run_id: str, version: float) -> Any:
    from core.deploy.compress import onnx_hook
    from core.predict import load_predictor

    kind = get_store().get_run(run_id)["task"]
    return onnx_hook(kind).request_example(load_predictor(run_id, get_store(), "cpu"))


def compression_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    table["size (MB)"] = table["size_bytes"] / 1e6
    keep = ["format", "split", "metric", "value", "change", "agreement", "max_abs_diff", "size (MB)",
            "latency_single_ms", "latency_batch_ms", "batch_size"]
    return table[[c for c in keep if c in table.columns]].rename(columns={
        "max_abs_diff": "max abs diff", "latency_single_ms": "1 input (ms)",
        "latency_batch_ms": "batch (ms)", "batch_size": "batch size"})


def curl_example(example: Any, port: int = PORT) -> str:
    body = json.dumps({"input": example})
    return (f"curl -s http://127.0.0.1:{port}/predict -H 'Content-Type: application/json' "
            f"-d {shlex.quote(body)}")


def deploy_panel(run_id: str, version: float, prepared: set) -> None:
    from core.tasks import get_task

    kind = get_store().get_run(run_id)["task"]
    with st.container(border=True):
        st.subheader("Compress and serve")
        if get_task(kind).onnx() is None:
            st.caption("This kind of model has no ONNX export or REST endpoint yet.")
            return
        notes = format_notes(run_id, version)
        best = "onnx" if "onnx-int8" in notes else "onnx-int8"
        st.caption(("An ONNX version" if notes else "ONNX and int8 ONNX versions") + " of the model, "
                   "checked against the original on this run's validation and test data: agreement, "
                   "metric change, size and CPU latency.")
        for name, note in notes.items():
            st.info(f"No {name}: {md(note)}")
        slot = st.empty()
        label = "Check ONNX" if notes else "Check ONNX and int8"
        if (run_id, "onnx") in prepared or slot.button(label, key="prep_onnx"):
            slot.empty()
            with show_errors("Compression check"):
                rows = compression_rows(run_id, version)
                prepared.add((run_id, "onnx"))
                st.dataframe(compression_table(rows), hide_index=True, width="stretch")
                st.caption(f"Bundle for elsewhere: `loupe export RUN --format {best} --out DIR`. On "
                           "any machine: `pip install -r DIR/requirements.txt` then `python "
                           "DIR/serve.py` (no torch, no Loupe, no history); with Loupe, `loupe "
                           "serve-model --bundle DIR` also explains.")
        st.markdown("**Serve it** (this machine only; OpenAPI docs at `/docs`):")
        st.code(serve_command(run_id, best, PORT), language="bash")
        with show_errors("Request example"):
            st.code(curl_example(request_example(run_id, version)), language="bash")
