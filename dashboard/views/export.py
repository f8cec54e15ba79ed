"""Export: a run's model folder (zip: safetensors + config + model card) and a self-contained HTML report.

Both come from core (``core.export``; personal data masked there) and are built on request, then
offered for download; each is cached per run and artifact version so a second click is instant.
"""

from __future__ import annotations

import io
import zipfile

import streamlit as st
import streamlit.components.v1 as components

from core.errors import LoupeError
from core.export import build_html_report, export_model_folder
from dashboard.components.deploy_panel import deploy_panel
from dashboard.components.feedback import show_errors
from dashboard.components.run_picker import pick_run
from dashboard.resources import get_store

CARD_NAMES = ("MODEL_CARD.md", "README.md")


def _version(run_id: str) -> float:
    store = get_store()
    try:
        return store.artifact_path(run_id, "model").stat().st_mtime
    except (OSError, LoupeError):  # no artifact: core says so when asked to export
        return 0.0


@st.cache_data(show_spinner="Packing the model folder…", max_entries=4)
def model_zip(run_id: str, version: float) -> bytes:
    return export_model_folder(run_id, get_store())


@st.cache_data(show_spinner="Building the report…", max_entries=4)
def html_report(run_id: str, version: float, comparisons: tuple[str, ...]) -> str:
    return build_html_report(run_id, get_store(), comparisons=list(comparisons))


def pick_comparisons(run_id: str) -> tuple[str, ...]:
    """The pinned what-if comparisons (Explain page) to put in the report: all by default."""
    from core.whatif import pinned_comparisons

    pins = pinned_comparisons(run_id, get_store())
    if not pins:
        st.caption("Pin a what-if comparison on the Explain page to include it here.")
        return ()
    titles = {p.id: f"{p.title} · {p.headline()}" for p in pins}  # masked when pinned
    chosen = st.multiselect("What-if comparisons to include", list(titles), default=list(titles),
                            format_func=titles.get, key=f"report_pins_{run_id}",
                            help="Comparisons pinned on the Explain page (What-if mode).")
    return tuple(chosen)


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{n / 1e3:,.0f} KB"


def _names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return sorted(name.rsplit("/", 1)[-1] for name in zf.namelist() if not name.endswith("/"))


def _card(data: bytes) -> str | None:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.rsplit("/", 1)[-1] in CARD_NAMES:
                return zf.read(name).decode("utf-8", errors="replace")
    return None


st.title("Export")
st.caption("Take a model elsewhere, or share how it was trained. Personal data is masked in both.")
run = pick_run("export_run")
if run is None:
    st.stop()
run_id = run["id"]
version = _version(run_id)
prepared = st.session_state.setdefault("export_ready", set())

left, right = st.columns(2)
with left.container(border=True):
    st.subheader("Model folder")
    st.caption("A zip with the weights (safetensors), the configs and a model card in Markdown.")
    slot = st.empty()
    if (run_id, "zip") in prepared or slot.button("Prepare model zip", key="prep_zip"):
        slot.empty()
        with show_errors("Model export"):
            data = model_zip(run_id, version)
            prepared.add((run_id, "zip"))
            st.download_button("Download model folder (.zip)", data, f"loupe-{run_id}-model.zip",
                               "application/zip", type="primary", key="dl_zip")
            st.caption(f"{_size(len(data))} · files: " + ", ".join(_names(data)))
            card = _card(data)
            if card:
                with st.expander("Model card"):
                    st.markdown(card)
with right.container(border=True):
    st.subheader("HTML report")
    st.caption("One self-contained file: metrics, curves, plots and examples, with personal data masked.")
    comparisons = pick_comparisons(run_id)
    slot = st.empty()
    if (run_id, "html") in prepared or slot.button("Prepare HTML report", key="prep_html"):
        slot.empty()
        with show_errors("Report"):
            html = html_report(run_id, version, comparisons)
            prepared.add((run_id, "html"))
            st.download_button("Download report (.html)", html.encode("utf-8"), f"loupe-{run_id}-report.html",
                               "text/html", type="primary", key="dl_html")
            st.caption(_size(len(html.encode("utf-8"))))
            with st.expander("Preview"):
                components.html(html, height=640, scrolling=True)

deploy_panel(run_id, version, prepared)
