"""The Explain page's what-if mode: edit an input and compare, pin comparisons, effect curves.

- Edit and compare: the input comes from the kind's form or a worst validation example (as on
  the Explain page); the kind's ``edit_form`` (dashboard/kinds/) draws the editor; "Compare"
  runs ``core.whatif.compare_edit`` and shows both sides (prediction, class probabilities, SHAP
  figures) with the changes and whether the decision changed. "Pin" keeps the comparison in the
  store (``core.whatif.pins``); the run's pins are listed, viewable and removable.
- Effect curves (kinds with ``effect_curves``): ICE lines and partial dependence of one feature
  over the validation split; the slider reads the cached grid, so dragging never calls the model.

Everything from data on screen passes ``mask_message``/``md`` (explanations come masked from core).
"""

from __future__ import annotations

import hashlib
import numbers
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.output import mask_message, md
from core.plots import format_number
from dashboard.components.feedback import show_errors
from dashboard.kinds import view_for
from dashboard.resources import get_predictor, get_store, run_report

CHANGED = "#fde68a"  # highlight of a changed feature's row
STACKED = ("overlay", "token", "strip", "rollout", "heads", "layer")  # figures shown full width


def _input_key(value: Any) -> str:
    raw = value.tobytes() if hasattr(value, "tobytes") else repr(value).encode()
    return hashlib.sha1(raw).hexdigest()[:12]


def pick_original(run_id: str, view: Any) -> tuple[Any, str | None]:
    """The input to start from: the kind's form (typed or uploaded) or a worst validation example."""
    examples = view.examples(run_report(run_id))
    worst_option, worst_label = view.worst_labels
    how = "Type or upload"
    if examples:
        how = st.radio("Start from", [how, worst_option], horizontal=True, key=f"whatif_source_{run_id}")
    if examples and how == worst_option:
        labels = [label for label, _ in examples]
        pick = st.selectbox(worst_label, range(len(examples)), format_func=lambda i: mask_message(labels[i]),
                            key=f"whatif_example_{run_id}")
        value = examples[pick][1]
        if callable(value):
            load_row, value = value, None
            with show_errors("Example"):
                value = load_row(run_id)
        return value, None if value is None else f"example{pick}"
    form = view.input_form
    if form is None:
        st.info("There is no input form for this kind of model yet.")
        return None, None
    kept = f"whatif_original_{run_id}"
    with show_errors("Input"):
        value = form(get_predictor(run_id), f"whatif_{run_id}", submit="Use as the original")
        if value is not None:
            st.session_state[kept] = (value, _input_key(value))
    if kept in st.session_state:
        return st.session_state[kept]
    st.caption("Enter an input and press **Use as the original** (an image is used once uploaded).")
    return None, None


def render_whatif(run_id: str, kind: str) -> None:
    """The whole what-if mode for one run."""
    view = view_for(kind)
    if view.edit_form is None:
        st.info("There is no editor for this kind of model yet.")
    else:
        original, input_key = edit_and_compare(run_id, view)
        pinned_list(run_id)
        if original is not None:
            from dashboard.components.counterfactual_view import counterfactual_panel

            st.divider()
            counterfactual_panel(run_id, kind, view, original, input_key)
    if view.effect_curves:
        st.divider()
        effect_curves(run_id)


def edit_and_compare(run_id: str, view: Any) -> tuple[Any, str | None]:
    """The editor and the comparison; returns the original input and its key (None: none yet)."""
    st.subheader("Edit and compare")
    original, input_key = pick_original(run_id, view)
    if original is None:
        return None, None
    edit = None
    with st.container(border=True):
        st.markdown("**Edit**")
        with show_errors("Edit"):
            edit = view.edit_form(get_predictor(run_id), original, f"whatif_{run_id}_{input_key}",
                                  run_id=run_id)
    results = st.session_state.setdefault("whatif_results", {})
    slot = (run_id, input_key)
    if edit is None:
        st.caption("Change the input above, then press **Compare**.")
    signature = None if edit is None else tuple(edit.changes)
    # never disabled: a text typed just now reaches the script with the click, not before it
    go = st.button("Compare", type="primary", key=f"whatif_compare_{run_id}",
                   help="Explains the original and the edited input with SHAP (each is cached).")
    if go and edit is None:
        st.info("Nothing is edited yet: change the input above first.")
    elif go:
        from core.whatif import compare_edit

        bar = st.progress(0.0, text="Explaining the original and the edit…")
        with show_errors("Comparison"):
            comparison = compare_edit(
                run_id, original, edit.value, store=get_store(),
                progress=lambda f, msg: bar.progress(min(max(float(f), 0.0), 1.0), text=mask_message(msg)))
            results[slot] = {"comparison": comparison, "changes": list(edit.changes),
                             "highlight": edit.highlight,
                             "fields": tuple(edit.changed_fields), "signature": signature,
                             "rows": _rows(original, edit.value, get_predictor(run_id))}
        bar.empty()
    result = results.get(slot)
    if result is None:
        return original, input_key
    if result["signature"] != signature:
        st.caption("The editor has changed since this comparison; press **Compare** again to update it.")
    render_comparison(result["comparison"], result["changes"], result["fields"], result["rows"],
                      f"cmp_{run_id}", result.get("highlight", ""))
    with st.form(f"whatif_pin_{run_id}", border=False):
        cols = st.columns([3, 1])
        title = cols[0].text_input("Title for the pin", key=f"whatif_pin_title_{run_id}",
                                   placeholder="e.g. 'bigger house, same price?' (defaults to the headline)")
        pinned = cols[1].form_submit_button("Pin this comparison")
    if pinned:
        from core.whatif.pins import pin_comparison

        with show_errors("Pin"):
            pin = pin_comparison(result["comparison"], get_store(), title, result["changes"])
            st.success(f"Pinned: {md(pin.title)}", icon=":material/push_pin:")
    return original, input_key


def _rows(original: Any, edited: Any, predictor: Any) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Both rows of a table edit (one-row frames), for the values table; None for other inputs."""
    if not isinstance(edited, pd.DataFrame):
        return None
    from core.explain.shap_tabular import row_frame

    columns = list(predictor.prep.input_columns)
    return row_frame(original, columns).reset_index(drop=True), edited[columns].reset_index(drop=True)


def _cell(value: Any) -> str:
    """A table value for people: numbers as 1,978 or 0.03808, anything else as text."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and not pd.isna(value):
        return f"{float(value):,.6g}"
    return str(value)


def _values_table(rows: tuple[pd.DataFrame, pd.DataFrame], fields: tuple[str, ...]) -> None:
    """Every feature's original and edited value (masked), changed ones highlighted and first."""
    from core.privacy import mask_frame

    before, after = (mask_frame(r, operator="hash") for r in rows)
    names = list(rows[0].columns)
    table = pd.DataFrame({
        "feature": [mask_message(n) for n in names],
        "original": [_cell(before[n].iloc[0]) if n in before else "…" for n in names],
        "edited": [_cell(after[n].iloc[0]) if n in after else "…" for n in names],
        "changed": ["●" if n in fields else "" for n in names]})
    table = table.sort_values("changed", ascending=False, kind="stable").reset_index(drop=True)
    styled = table.style.apply(
        lambda r: [f"background-color: {CHANGED}" if r["changed"] else "" for _ in r], axis=1)
    st.dataframe(styled, hide_index=True, key=None)


def headline_box(comparison: Any) -> None:
    from core.whatif.pins import headline

    line = headline(comparison)
    a = comparison.original.prediction
    if "label" in a:
        if comparison.changed():
            st.warning(f"**The decision changed:** {md(line, mask=False)}", icon=":material/swap_horiz:")
        else:
            st.info(f"**Same decision:** {md(line, mask=False)}", icon=":material/check:")
    elif comparison.changed():
        st.warning(f"**The prediction moved:** {md(line, mask=False)}", icon=":material/swap_vert:")
    else:
        st.info(f"**Same prediction:** {md(line, mask=False)}", icon=":material/check:")


def render_comparison(comparison: Any, changes: list[str], fields: tuple[str, ...],
                      rows: tuple[pd.DataFrame, pd.DataFrame] | None, key: str,
                      highlight: str = "") -> None:
    """Headline, the changes (marked in the input where the kind can: ``highlight``, already
    masked Markdown), and the two sides in two columns."""
    headline_box(comparison)
    if changes:
        st.markdown("**Changes:**\n" + "\n".join(f"- {md(c)}" for c in changes))
    if highlight:
        with st.container(border=True):
            st.markdown(highlight)
    if rows is not None:
        with st.expander("Feature values (changed ones highlighted)", expanded=True):
            _values_table(rows, fields)
    sides = (("Original", comparison.original), ("Edited", comparison.edited))
    for col, (name, side) in zip(st.columns(2), sides, strict=True):
        with col:
            st.markdown(f"#### {name}")
            _prediction(side, f"{key}_{name}")
    figures = [side.figures() if hasattr(side, "figures") else {} for _, side in sides]
    names = list(dict.fromkeys([*figures[0], *figures[1]]))
    for fig_name in names:
        if any(w in fig_name.lower() for w in STACKED):  # too wide for half a page: one above the other
            for (name, _), figs in zip(sides, figures, strict=True):
                if fig_name in figs:
                    st.caption(f"**{name}**")
                    st.plotly_chart(figs[fig_name], key=f"{key}_{name}_fig_{fig_name}")
        else:
            for col, (name, _), figs in zip(st.columns(2), sides, figures, strict=True):
                if fig_name in figs:
                    col.plotly_chart(figs[fig_name], key=f"{key}_{name}_fig_{fig_name}")
    if not names:
        st.caption("No SHAP figures for these inputs.")


def _prediction(result: Any, key: str) -> None:
    from core.output import mask_label

    prediction = getattr(result, "prediction", None) or {}
    if "label" in prediction:
        conf = prediction.get("confidence")
        st.metric("Predicted class", mask_label(prediction["label"]))
        if conf is not None:
            st.caption(f"{float(conf):.0%} confident")
    elif "value" in prediction:
        target = prediction.get("target")
        st.metric(f"Predicted {mask_message(target)}" if target else "Prediction",
                  format_number(prediction["value"]))
    probs = prediction.get("probabilities") or {}
    if probs:
        labels = list(probs)
        fig = go.Figure(go.Bar(x=[probs[k] for k in labels], y=[mask_label(k) for k in labels],
                               orientation="h", text=[f"{probs[k]:.0%}" for k in labels],
                               textposition="auto", marker_color="#4c78a8"))
        fig.update_layout(height=60 + 28 * len(labels), margin={"l": 0, "r": 0, "t": 24, "b": 0},
                          xaxis={"range": [0, 1], "tickformat": ".0%"}, title="Class probabilities")
        st.plotly_chart(fig, key=f"{key}_probs")


def pinned_list(run_id: str) -> None:
    """The run's pinned comparisons: title, headline and when; each viewable and removable."""
    from core.whatif.pins import pinned_comparisons, unpin

    pins = []
    with show_errors("Pinned comparisons"):
        pins = pinned_comparisons(run_id, get_store())
    with st.expander(f"Pinned comparisons ({len(pins)})", expanded=bool(pins)):
        if not pins:
            st.caption("Nothing pinned for this run yet: compare an edit and press **Pin this comparison**.")
        for pin in pins:
            cols = st.columns([4, 1, 1])
            cols[0].markdown(f"**{md(pin.title)}** · {md(pin.headline(), mask=False)}  \n"
                             f"pinned {pin.created_at:%Y-%m-%d %H:%M}")
            view = cols[1].toggle("View", key=f"whatif_pin_view_{pin.id}")
            if cols[2].button("Remove", key=f"whatif_unpin_{pin.id}"):
                unpin(pin.id, get_store())
                st.rerun()
            if view:
                with st.container(border=True):
                    render_comparison(pin.comparison, pin.changes, (), None, f"pin_{pin.id}")


@st.cache_resource(show_spinner=False, max_entries=64)
def _effects(home: str, run_id: str, feature: str, mtime: float) -> Any:
    """The curves once per (run, feature); core also caches the grid outputs per process."""
    from core.whatif import feature_effects

    return feature_effects(run_id, feature, store=get_store())


def effect_curves(run_id: str) -> None:
    """ICE lines and partial dependence of one feature; a slider marks a grid value."""
    st.subheader("Feature effect curves")
    predictor = get_predictor(run_id)
    prep = predictor.prep
    columns = list(prep.input_columns)
    if not columns:
        st.info("This model has no input columns.")
        return
    st.caption("Each thin line is one validation row with only this feature changed (ICE); the thick "
               "line is their average over the whole validation split (partial dependence).")
    feature = st.selectbox("Feature", columns, format_func=mask_message,
                           key=f"whatif_effect_feature_{run_id}")
    store = get_store()
    curves = None
    with show_errors("Effect curves"), st.spinner("Scoring the validation split on the feature's grid…"):
        mtime = store.artifact_path(run_id, "model").stat().st_mtime
        curves = _effects(str(store.path), run_id, feature, mtime)
    if curves is None:
        return
    frame = curves.frame()
    xs = frame["value"].tolist()
    labels = [format_number(v) if curves.numeric else str(v) for v in xs]
    pick = st.select_slider("Value", range(len(xs)), value=len(xs) // 2, format_func=lambda i: labels[i],
                            key=f"whatif_effect_value_{run_id}_{feature}",
                            help="Reads the cached grid: dragging does not run the model.")
    target = md(prep.target)
    fig = go.Figure()
    for i, row in enumerate(curves.ice_rows):
        fig.add_trace(go.Scatter(x=xs, y=curves.ice[i], mode="lines", line={"color": "#9aa5b1", "width": 1},
                                 name="ICE: one validation row each", legendgroup="ice", showlegend=i == 0,
                                 hovertemplate=f"row {row}<br>%{{x}} → %{{y:.4g}}<extra></extra>"))
    fig.add_trace(go.Scatter(x=xs, y=curves.partial_dependence, mode="lines+markers",
                             name="partial dependence", line={"color": "#e4572e", "width": 3},
                             marker={"size": 5}))
    pd_value = float(curves.partial_dependence[pick])
    fig.add_trace(go.Scatter(x=[xs[pick]], y=[pd_value], mode="markers", name="selected",
                             marker={"size": 14, "color": "#1f2937", "symbol": "diamond"}))
    if curves.numeric:
        fig.add_vline(x=xs[pick], line_dash="dot", line_color="#1f2937")
    fig.update_layout(height=420, margin={"l": 0, "r": 0, "t": 30, "b": 0},
                      xaxis_title=mask_message(feature), yaxis_title=f"predicted {mask_message(prep.target)}",
                      legend={"orientation": "h", "y": -0.2})
    cols = st.columns(3)
    cols[0].metric(f"Mean predicted {target}", format_number(pd_value))
    cols[1].metric("at value", labels[pick])
    cols[2].metric("Rows averaged", f"{curves.rows:,}")
    st.plotly_chart(fig, key=f"whatif_effect_chart_{run_id}")
