"""Explain: pick a run and an input, then see why the model decided (SHAP, attention).

The work is ``core.explain.explain(run_id, input, method=..., progress=...)``; its progress
callback drives a progress bar, and core caches every explanation in the store, so asking again
for the same input is instant. The figures come from the explanation itself (``.figures()``).

One click: the kind's input form is drawn with its button labelled "Explain", and a submitted
(or uploaded) input is explained at once; the page's own Explain button is only there for inputs
that come from elsewhere (a misclassified example, a whole-model method, a kept input).

The "What-if" mode (edit an input and compare, pinned comparisons, effect curves) is drawn by
``dashboard.components.whatif_view``.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from core.explain import explain
from core.output import mask_message
from dashboard.components.explain_view import explains_the_model, methods_for, render_explanation
from dashboard.components.feedback import notices, show_errors
from dashboard.components.run_picker import pick_run
from dashboard.components.whatif_view import render_whatif
from dashboard.kinds import view_for
from dashboard.resources import get_predictor, run_report

RESULTS = "explanations"  # session: (run_id, method, input key) -> Explanation

st.title("Explain")
st.caption("Why did the model predict that? SHAP attributes a prediction to the parts of the input; "
           "attention shows where a text model looked.")
run = pick_run("explain_run")
if run is None:
    st.stop()
run_id, kind = run["id"], run["task"]
view = view_for(kind)
mode = st.radio("Mode", ["Explain", "What-if: edit and compare"], horizontal=True, key="explain_mode",
                help="What-if: edit an input and see both predictions and explanations side by side.")
if mode != "Explain":
    render_whatif(run_id, kind)
    st.stop()
methods = methods_for(kind)
if not methods:
    st.info(f"There are no explanations for '{kind}' models yet.")
    st.stop()
method = st.radio("Method", list(methods), format_func=methods.get, horizontal=True,
                  key=f"explain_method_{kind}")
needs_input = not explains_the_model(kind, method)

value, input_key = None, None
from_form = False  # the input comes from the kind's form, whose own button (or upload) explains
fresh = False  # submitted (or uploaded) in this script run: explain it at once, no second click
if needs_input:
    examples = view.examples(run_report(run_id))
    worst_option, worst_label = view.worst_labels
    how = "Type or upload"
    if examples:
        how = st.radio("Input", [how, worst_option], horizontal=True,
                       key=f"explain_source_{run_id}")
    if examples and how == worst_option:
        labels = [label for label, _ in examples]
        pick = st.selectbox(worst_label, range(len(examples)),
                            format_func=lambda i: mask_message(labels[i]), key=f"explain_example_{run_id}")
        value, input_key = examples[pick][1], f"example:{pick}"
        if callable(value):
            load_row, value = value, None
            with show_errors("Example"):
                value = load_row(run_id)
    else:
        from_form = True
        with show_errors("Input"):
            form = view.input_form
            if form is None:
                st.info(f"There is no input form for '{kind}' models yet.")
            else:
                value = form(get_predictor(run_id), f"explain_{run_id}", submit="Explain")
                if value is not None:
                    fresh = True
                    raw = value.tobytes() if hasattr(value, "tobytes") else repr(value).encode()
                    input_key = hashlib.sha1(raw).hexdigest()
                    st.session_state[f"explain_input_{run_id}"] = (value, input_key)
                elif f"explain_input_{run_id}" in st.session_state:
                    value, input_key = st.session_state[f"explain_input_{run_id}"]

results = st.session_state.setdefault(RESULTS, {})
key = (run_id, method, input_key)
ready = needs_input is False or value is not None
go = fresh
if not from_form or (ready and key not in results and not fresh):
    # examples and whole-model methods, or a kept input not yet explained with this method
    label = "Explain the same input" if from_form else "Explain"
    go = st.button(label, type="primary", disabled=not ready, key="explain_go",
                   help="Computes once; the same input is then served from the cache.")
if go and key not in results:
    bar = st.progress(0.0, text="Starting…")
    with show_errors("Explanation"):
        results[key] = explain(run_id, value, method=method,
                               progress=lambda f, msg: bar.progress(min(max(float(f), 0.0), 1.0), text=msg))
    bar.empty()
if key in results:
    result = results[key]
    st.caption(("Served from the cache" if getattr(result, "from_cache", False) else
                f"Computed in {getattr(result, 'seconds', 0.0):.1f} s") + f" · {method}")
    notices(list(getattr(result, "notices", []) or []), "Notes on this explanation")
    render_explanation(result, f"{run_id}_{method}")
elif ready:
    st.caption("Press **Explain** to compute.")
elif from_form:
    st.caption("Enter an input and press **Explain** (an image is explained as soon as it is uploaded).")
