"""The what-if mode's counterfactual search: "find the smallest change that flips it".

The search is the kind's own (``core.explain.explainer_for(kind).counterfactual``: the fewest
words for a text, the fewest SHAP regions for an image, the closest edits past a target for a
table); the kind's view may ask for its options first (``KindView.counterfactual_form``). What is
shown comes masked from core (``lines``, ``frame``) and is escaped again for Markdown here.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.output import md
from dashboard.components.feedback import show_errors
from dashboard.resources import get_predictor, get_store

RESULTS = "whatif_counterfactuals"  # session: (run_id, input key) -> result


def counterfactual_panel(run_id: str, kind: str, view: Any, original: Any, input_key: str | None) -> None:
    """A form for the search's options (the kind's), a button, and the result."""
    from core.explain import explainer_for

    st.subheader("Smallest change")
    st.caption("Let Loupe search for the smallest edit of the original that changes the model's "
               "decision (or moves a prediction past a target); every candidate is checked by the "
               "model itself.")
    key = f"whatif_cf_{run_id}_{input_key}"
    options: dict[str, Any] | None = None if view.counterfactual_form is not None else {}
    with show_errors("Counterfactual options"):
        if view.counterfactual_form is not None:
            options = view.counterfactual_form(get_predictor(run_id), original, key)
    if options is None:
        return
    results = st.session_state.setdefault(RESULTS, {})
    slot = (run_id, input_key, tuple(sorted((k, str(v)) for k, v in options.items())))
    if st.button("Find the smallest change", key=f"{key}_go", type="secondary",
                 help="Runs the kind's counterfactual search (a few seconds on a CPU)."):
        with show_errors("Counterfactual"), st.spinner("Searching…"):
            results[slot] = explainer_for(kind).counterfactual(
                run_id, original, get_store(), {"device": "auto", **options})
    result = results.get(slot)
    if result is not None:
        show_counterfactual(result, key)


def show_counterfactual(result: Any, key: str) -> None:
    """Found or not, the edit (table of changes, the edited text or occluded image), its cost."""
    lines = list(result.lines())
    if result.found:
        st.success(md(result.summary(), mask=False), icon=":material/target:")
    else:
        st.info(md(result.summary(), mask=False), icon=":material/search_off:")
    edited_text = getattr(result, "edited_text", None)
    if result.found and edited_text:
        st.markdown(f"**Edited text:** {md(edited_text, mask=False)}")
    image = getattr(result, "image", None)
    if result.found and image is not None:
        st.image(image, caption="The model's crop with the regions occluded", width=320)
    frame = result.frame()
    if frame is not None and not frame.empty:
        st.dataframe(frame, hide_index=True, key=f"{key}_frame")
    with st.expander("Details"):
        st.code("\n".join(lines), language=None)
