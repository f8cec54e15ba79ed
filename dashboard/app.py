"""Loupe dashboard entry point: page config and navigation, nothing else (`make run`).

The pages live in ``views/``, not ``pages/``: Streamlit treats a ``pages/`` folder beside the entry
script as a legacy multipage app until ``st.navigation`` has run once, so a deep link opened first
on a fresh server (``/runs``) would run that file alone, without this layout and navigation.

A LoupeError that escapes a page (e.g. a damaged run history found on opening it) is shown once
here with ``st.error``, never as a traceback.
"""

import streamlit as st

from core.errors import LoupeError

st.set_page_config(page_title="Loupe", page_icon=":material/search:", layout="wide")
page = st.navigation([
    st.Page("views/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("views/data.py", title="Data", icon=":material/dataset:"),
    st.Page("views/train.py", title="Train", icon=":material/model_training:"),
    st.Page("views/runs.py", title="Runs", icon=":material/monitoring:"),
    st.Page("views/sweeps.py", title="Sweeps", icon=":material/tune:"),  # issue 18
    st.Page("views/predict.py", title="Predict", icon=":material/online_prediction:"),
    st.Page("views/explain.py", title="Explain", icon=":material/lightbulb:"),
    st.Page("views/export.py", title="Export", icon=":material/download:"),
])
try:
    page.run()
except LoupeError as exc:
    st.error(f"{exc.problem}\n\n**Fix:** {exc.fix}" if exc.fix else exc.problem,
             icon=":material/error:")
