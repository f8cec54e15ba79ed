"""Review a data check (issue 19 items 2 and 3): mark each flagged example keep, exclude or
relabel; save the decisions as a reviewed version of the data (the user's file untouched); train
the same config on it; compare the two runs on the same held-out examples."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.datacheck import DataCheck
from core.datacheck.compare import compare_versions
from core.datacheck.review import reviewable_flags, suggested_class
from core.datacheck.versions import ACTIONS, Decision, save_version
from core.jobs import start_job
from core.output import md
from dashboard.components.feedback import show_errors
from dashboard.components.run_picker import COMPARE

UNDECIDED = "—"


BULK = {"": "decide row by row", "keep": "keep every flagged example", "exclude": "exclude every "
        "flagged example", "relabel": "relabel every label issue as suggested (others undecided)"}


def _review_table(check: DataCheck, bulk: str = "") -> pd.DataFrame:
    flags = reviewable_flags(check)
    classes = check.classes or []
    suggested = [suggested_class(check, s) for s in flags["suggested"]]
    table = pd.DataFrame({"ref": flags["ref"].to_numpy(), "row": flags["row"].to_numpy(),
                          "decision": UNDECIDED,
                          "new label": suggested if classes else [float("nan")] * len(flags),
                          "issue": flags["issue"].to_numpy(), "reason": flags["reason"].to_numpy()})
    if bulk == "relabel":
        table["decision"] = [a if ok else UNDECIDED for a, ok in
                             zip(["relabel"] * len(table), table["new label"].notna(), strict=True)]
    elif bulk:
        table["decision"] = bulk
    if flags["thumbnail"].notna().any():
        table.insert(1, "thumbnail", flags["thumbnail"].to_numpy())
    return table.reset_index(drop=True)


def review_panel(store: Any, run: dict[str, Any], check: DataCheck, key: str) -> None:
    st.subheader("Review")
    if check.flags["ref"].isna().all():
        st.caption("Press **Check again** to review these flags (this result was kept before "
                   "reviews existed).")
        return
    st.caption("Decide per flagged example: **keep** (the flag is wrong), **exclude** (leave it "
               "out) or **relabel** (pick the right class, or type the right value). Saving makes "
               "a reviewed version of the data; your file is never changed, and the split stays "
               "the same so the retrained run is tested on the same examples.")
    options = [b for b in BULK if b != "relabel" or check.classes]
    bulk = st.selectbox("Start from", options, format_func=BULK.get, key=f"{key}_bulk",
                        help="Fills the decision column; change single rows afterwards.")
    table = _review_table(check, bulk)
    classes = check.classes or []
    label_column = (
        st.column_config.SelectboxColumn("new label", options=classes, help="Relabel to this class.")
        if classes else st.column_config.NumberColumn("new value", help="The corrected target value."))
    edited = st.data_editor(
        table.drop(columns=["ref"]), hide_index=True, key=f"{key}_review_{bulk or 'one'}",
        disabled=[c for c in table.columns if c not in ("decision", "new label")],
        column_config={"decision": st.column_config.SelectboxColumn("decision", options=[UNDECIDED, *ACTIONS],
                                                                    required=True),
                       "new label": label_column,
                       "thumbnail": st.column_config.ImageColumn("image", width="small")},
        row_height=76 if "thumbnail" in table.columns else None)
    decisions = [Decision(ref, d, label, issue) for ref, d, label, issue
                 in zip(table["ref"], edited["decision"], edited["new label"], table["issue"], strict=True)
                 if d != UNDECIDED]
    counts = {a: sum(d.action == a for d in decisions) for a in ACTIONS}
    st.caption(f"{len(decisions):,} of {len(table):,} decided: "
               + ", ".join(f"{n} {a}" for a, n in counts.items()))
    missing = [d for d in decisions if d.action == "relabel" and (d.label is None or d.label == "")]
    if missing:
        st.warning(f"{len(missing)} relabel decision(s) have no new label yet.", icon=":material/edit:")
    if st.button("Save as a reviewed version", disabled=not decisions or bool(missing), key=f"{key}_save"):
        with show_errors("Review"), st.spinner("Saving the reviewed version…"):
            st.session_state[f"{key}_version"] = save_version(run["id"], decisions, store)
    version = st.session_state.get(f"{key}_version")
    if version is None:
        return
    st.success(md(f"Reviewed version saved: {version.edits.summary()} (fingerprint "
                  f"{version.fingerprint[:12]}). Your file is unchanged."), icon=":material/check_circle:")
    if st.button("Train on the reviewed version", type="primary", key=f"{key}_train"):
        with show_errors("Train"):
            new_id = start_job(version.config, store, fingerprint=version.fingerprint)
            st.session_state[COMPARE] = [run["id"], new_id]
            st.session_state[f"{key}_retrained"] = new_id
    retrained = st.session_state.get(f"{key}_retrained")
    if retrained:
        st.info(md(f"Training run {retrained} on the reviewed version. When it has finished, "
                   "select both runs in the table above: Data check → Compare shows the "
                   "difference."), icon=":material/rocket_launch:")


def compare_panel(store: Any, run: dict[str, Any], others: list[dict[str, Any]], key: str) -> None:
    """The chosen run against another selected run of the same data and split."""
    st.subheader("Compare")
    if not others:
        st.caption("Select a second run in the table (e.g. this run retrained on its reviewed "
                   "version) to compare their test metrics and predictions.")
        return
    other = st.selectbox("Compare with", [r["id"] for r in others], key=f"{key}_other",
                         format_func=lambda i: next(f"{r['name']} · {i}" for r in others if r["id"] == i))
    if not st.button("Compare test predictions", key=f"{key}_compare"):
        return
    with show_errors("Compare"), st.spinner("Predicting the test split with both runs…"):
        diff = compare_versions(run["id"], other, store)
        st.markdown(md(diff.summary()))
        for note in diff.notes:
            st.caption(md(note))
        st.dataframe(diff.metrics, hide_index=True, key=f"{key}_metric_diff",
                     column_config={c: st.column_config.NumberColumn(c, format="%.4f")
                                    for c in ("before", "after", "change")})
        if len(diff.changed):
            st.dataframe(diff.changed, hide_index=True, key=f"{key}_changed")
