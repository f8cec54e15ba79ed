"""Privacy first: the PII report and a masked preview of a table, then its profile.

Privacy mode is on by default: every preview goes through ``mask_frame``. Showing a column's real
values is a deliberate act: the user picks the columns, confirms, and ``record_unmask`` writes who,
when, which dataset and which columns to the audit trail (never a value). "Mask again" records
the reverse.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import plots
from core.output import mask_message, md
from core.privacy import ROLES, mask_frame
from core.store import RunStore
from core.store.privacy_log import (
    audit_log,
    clear_override,
    load_overrides,
    record_remask,
    record_unmask,
    save_override,
    unmasked_columns,
)
from dashboard.resources import fingerprint, inspect

PREVIEW_ROWS = 200


def privacy_overview(store: RunStore, frame: pd.DataFrame, source_id: str, name: str) -> object:
    """Report, masked preview and profile of ``frame``; returns the inspection result.

    ``source_id`` names the data (a sample or an upload path holding its hash), for caching.
    """
    key = fingerprint(source_id, frame)
    overrides = load_overrides(store, key)
    result = inspect(key, frame, name, overrides)
    report = result.report
    shown = unmasked_columns(store, result.fingerprint)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Rows", f"{result.n_rows:,}")
    c2.metric("Columns", result.n_columns)
    c3.metric("Columns with personal data", len(report.flagged))
    c4.metric("Direct identifiers", len(report.direct_identifiers))
    st.caption(f"{md(report.note)} {md(result.kanon.summary())}")

    st.subheader("Preview" + (" (masked)" if not shown else " (partly unmasked)"))
    preview = mask_frame(frame.head(PREVIEW_ROWS), report, unmasked_columns=shown)
    st.dataframe(preview, height=280, hide_index=True, key=f"preview_{key[:12]}")
    _unmask_controls(store, result, name, shown)

    tab_pii, tab_profile, tab_risk = st.tabs(["Personal data", "Profile", "Re-identification risk"])
    with tab_pii:
        left, right = st.columns(2)
        left.plotly_chart(plots.pii_roles_figure(report.to_frame()), key=f"roles_{key[:12]}")
        right.plotly_chart(plots.pii_heatmap_figure(report.entity_frame()), key=f"heat_{key[:12]}")
        st.dataframe(report.to_frame(), hide_index=True)
        _role_controls(store, key, report)
        for warning in result.warnings:
            st.warning(str(warning), icon=":material/lock:")
    with tab_profile:
        profile = result.profile
        st.plotly_chart(plots.missing_values_figure(profile.columns), key=f"missing_{key[:12]}")
        options = [c for c in profile.columns["column"] if c in profile.distributions]
        if options:
            column = st.selectbox("Distribution of", options, key=f"dist_{key[:12]}")
            st.plotly_chart(plots.distribution_figure(profile.distributions.get(column), column, profile.k),
                            key=f"distfig_{key[:12]}")
        st.dataframe(profile.columns, hide_index=True)
    with tab_risk:
        st.plotly_chart(plots.k_anonymity_figure(result.kanon), key=f"kanon_{key[:12]}")
        with st.expander("Privacy audit trail for this dataset"):
            st.dataframe(audit_log(store, result.fingerprint), hide_index=True)
    return result


def _unmask_controls(store: RunStore, result: object, name: str, shown: set[str]) -> None:
    report = result.report
    candidates = [c for c in dict.fromkeys(report.direct_identifiers + report.flagged) if c not in shown]
    if not candidates and not shown:
        st.caption("No personal data detected: nothing is masked.")
        return
    with st.expander("Show real values (recorded in the audit trail)"):
        if candidates:
            cols = st.multiselect("Columns to unmask", candidates,
                                  key=f"unmask_cols_{result.fingerprint[:12]}")
            sure = st.checkbox("I need to see these values and this is recorded",
                               key=f"unmask_ok_{result.fingerprint[:12]}")
            if st.button("Unmask", disabled=not (cols and sure), key=f"unmask_{result.fingerprint[:12]}"):
                record_unmask(store, result.fingerprint, name, cols)
                st.rerun()
        if shown:
            st.write("Unmasked now: " + ", ".join(f"`{c}`" for c in sorted(shown)))
            if st.button("Mask again", key=f"remask_{result.fingerprint[:12]}"):
                record_remask(store, result.fingerprint, name, shown)
                st.rerun()


def _role_controls(store: RunStore, key: str, report: object) -> None:
    """Correct a guessed role (e.g. a house's age taken for a person's): saved for this dataset
    (by its content fingerprint, as ``loupe inspect --role`` does) and written to the audit trail."""
    with st.expander("Correct a column's role"):
        st.caption("Roles are guessed from the values and from what the column names mean in this "
                   "table. If a guess is wrong, set the role here; it applies to this data on every "
                   "page and in `loupe inspect`, and the change is recorded.")
        rows = {c.name: c for c in report.columns}
        c1, c2, c3, c4 = st.columns([3, 2, 1, 1], vertical_alignment="bottom")
        column = c1.selectbox("Column", list(rows), format_func=mask_message, key=f"role_col_{key[:12]}")
        current = rows[column]
        role = c2.selectbox("Role", ROLES, index=ROLES.index(current.role),
                            key=f"role_val_{key[:12]}_{column}")
        if c3.button("Save", key=f"role_save_{key[:12]}", disabled=role == current.role):
            save_override(store, key, column, role)
            st.rerun()
        if c4.button("Use the guess", key=f"role_clear_{key[:12]}",
                     disabled=current.role_source != "override"):
            clear_override(store, key, column)
            st.rerun()
        st.caption(f"Now: **{md(current.role)}** ({md(current.role_source)}).")
