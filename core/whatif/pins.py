"""Pinned what-if comparisons: an original input and its edit, explained side by side, kept in
the run store (table ``pinned_comparisons``) so they outlive the session and can go into the
stakeholder report (``core.export.report_html``).

What is stored is what the screen shows: both explanations as JSON (masked tokens, masked row
values, an image's crop — never the raw text or row), a title and the list of changes, both
masked. A pin belongs to its run: deleting the run deletes its pins.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from core.errors import LoupeError
from core.explain.result import Explanation
from core.whatif.api import EditComparison

MAX_TITLE = 200
MAX_CHANGES = 40


@dataclass
class PinnedComparison:
    """One pinned comparison as read back from the store."""

    id: str
    run_id: str
    title: str
    created_at: datetime
    comparison: EditComparison
    changes: list[str] = field(default_factory=list)  # masked, for people

    def headline(self) -> str:
        """'positive (97%) → negative (81%)' or '310,000 → 352,500 (+42,500)', for people."""
        return headline(self.comparison)


def headline(comparison: EditComparison) -> str:
    """The two predictions, original first (labels masked)."""
    from core.output import mask_label

    a, b = comparison.original.prediction, comparison.edited.prediction
    if "label" in a:
        def side(p: dict[str, Any]) -> str:
            conf = p.get("confidence")
            return mask_label(p["label"]) + (f" ({float(conf):.0%})" if conf is not None else "")
        return f"{side(a)} → {side(b)}"
    va, vb = float(a.get("value", np.nan)), float(b.get("value", np.nan))
    return f"{va:,.6g} → {vb:,.6g} ({vb - va:+,.6g})"


def _store(store: Any) -> Any:
    from core.store import RunStore

    return store if store is not None else RunStore()


def pin_comparison(comparison: EditComparison, store: Any = None, title: str = "",
                   changes: list[str] | None = None) -> PinnedComparison:
    """Keep ``comparison`` in the store; ``title`` and ``changes`` are masked before writing."""
    from core.output import mask_message

    store = _store(store)
    run_id = comparison.original.run_id
    if comparison.edited.run_id != run_id:
        raise LoupeError("Both sides of a pinned comparison must come from the same run.",
                         "explain the edited input with the original's run.")
    run = store.get_run(run_id)  # raises the named error for a run that is gone
    clean_title = mask_message(" ".join(str(title or "").split()))[:MAX_TITLE] or headline(comparison)
    clean_changes = [mask_message(str(c))[:MAX_TITLE] for c in (changes or [])][:MAX_CHANGES]
    pin = PinnedComparison(uuid.uuid4().hex[:12], run["id"], clean_title, datetime.now(),
                           comparison, clean_changes)
    with store.connect() as con:
        con.execute(
            "INSERT INTO pinned_comparisons (id, run_id, title, created_at, changes_json, "
            "original_json, edited_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [pin.id, pin.run_id, pin.title, pin.created_at, json.dumps(pin.changes),
             comparison.original.to_json(), comparison.edited.to_json()])
    return pin


def pinned_comparisons(run_id: str, store: Any = None,
                       ids: list[str] | None = None) -> list[PinnedComparison]:
    """The run's pins, newest first (only ``ids``, in that order, when given)."""
    store = _store(store)
    with store.connect() as con:
        rows = con.execute(
            "SELECT id, run_id, title, created_at, changes_json, original_json, edited_json "
            "FROM pinned_comparisons WHERE run_id=? ORDER BY created_at DESC", [run_id]).fetchall()
    pins = []
    for pin_id, run, title, created, changes, original, edited in rows:
        try:
            comparison = EditComparison(Explanation.from_json(original), Explanation.from_json(edited))
        except (ValueError, KeyError, TypeError):
            continue  # written by an older format: skipped, not fatal
        pins.append(PinnedComparison(pin_id, run, title, created, comparison, json.loads(changes or "[]")))
    if ids is not None:
        by_id = {p.id: p for p in pins}
        return [by_id[i] for i in ids if i in by_id]
    return pins


def unpin(pin_id: str, store: Any = None) -> bool:
    """Forget one pin; False when there was none with that id."""
    store = _store(store)
    with store.connect() as con:
        found = con.execute("SELECT count(*) FROM pinned_comparisons WHERE id=?", [pin_id]).fetchone()[0]
        con.execute("DELETE FROM pinned_comparisons WHERE id=?", [pin_id])
    return bool(found)


def text_changes(original: str, edited: str) -> list[str]:
    """Words removed and added between two texts (masked later, when pinned or shown)."""
    import difflib

    a, b = original.split(), edited.split()
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            out.append("removed: " + " ".join(a[i1:i2]))
        if op in ("insert", "replace"):
            out.append("added: " + " ".join(b[j1:j2]))
    return out


def row_changes(original: Any, edited: Any) -> list[str]:
    """'column: old → new' for each column of a one-row table that the edit changed."""
    import pandas as pd

    a, b = pd.DataFrame(original).iloc[0], pd.DataFrame(edited).iloc[0]
    out = []
    for column in b.index:
        old, new = a.get(column), b[column]
        same = (pd.isna(old) and pd.isna(new)) if (pd.isna(old) or pd.isna(new)) else old == new
        if not same:
            with contextlib.suppress(TypeError, ValueError):
                same = bool(np.isclose(float(old), float(new)))
        if not same:
            out.append(f"{column}: {old} → {new}")
    return out
