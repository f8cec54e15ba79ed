"""Turn a person's review of a data check into decisions (``core.datacheck.versions.Decision``):
a bulk choice ("exclude every flagged example") or a reviewed flags file, the one
``loupe check --out`` writes with a ``decision`` column (and ``new_label``) filled in.

Flags files carry masked rows ("row 12", a masked file name), never the raw reference, so a
reviewed file is matched back to the check's flags by split and row."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from core.datacheck.versions import ACTIONS, Decision
from core.errors import LoupeError
from core.output import mask_label

BULK_ACTIONS = ("keep", "exclude", "relabel")  # relabel: label issues, to the suggested class
DECISION_COLUMN = "decision"
LABEL_COLUMNS = ("new_label", "new label", "new_value", "new value")


def reviewable_flags(check: Any, issues: Sequence[str] = ()) -> pd.DataFrame:
    """The flags a review decides on: one per example (by ``ref``), of ``issues`` when given."""
    flags = check.flags.dropna(subset=["ref"])
    if len(check.flags) and flags.empty:
        raise LoupeError("This data check was kept before reviews existed.",
                         "run the check again with --refresh.")
    if issues:
        unknown = sorted(set(issues) - set(check.flags["issue"]))
        if unknown:
            raise LoupeError(f"No flags of the issue {', '.join(map(repr, unknown))} in this check.",
                             f"use one of: {', '.join(sorted(set(check.flags['issue'])))}.")
        flags = flags[flags["issue"].isin(issues)]
    return flags.drop_duplicates("ref")  # one decision per example


def suggested_class(check: Any, suggested: Any) -> str | None:
    """The real class name behind a flag's (masked) suggestion, or None."""
    shown = {mask_label(c): c for c in check.classes or []}
    return shown.get(suggested) if isinstance(suggested, str) else None


def bulk_decisions(check: Any, action: str, issues: Sequence[str] = ()) -> list[Decision]:
    """The same decision for every flagged example (of ``issues``, when given); ``relabel``
    applies to label issues, each to the class the check suggests."""
    if action not in BULK_ACTIONS:
        raise LoupeError(f"'{action}' is not a review action.", f"use one of {', '.join(BULK_ACTIONS)}.")
    out = []
    for flag in reviewable_flags(check, issues).itertuples(index=False):
        label = suggested_class(check, getattr(flag, "suggested", None)) if action == "relabel" else None
        if action == "relabel" and label is None:
            continue  # a duplicate or an outlier has no suggested class
        out.append(Decision(str(flag.ref), action, label, str(flag.issue)))
    return out


def read_decisions(check: Any, path: str | Path) -> list[Decision]:
    """Decisions from a reviewed flags file: one per row whose ``decision`` is filled in."""
    from core.datasets.tables import read_table

    path = Path(path)
    frame = read_table(path, max_rows=None, strings=True).frame
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if DECISION_COLUMN not in frame.columns or "row" not in frame.columns:
        raise LoupeError(f"{path.name} has no '{DECISION_COLUMN}' and 'row' columns.",
                         "write the flags with `loupe check RUN_ID --out flags.csv`, add a column "
                         "'decision' (keep, exclude or relabel) and, to relabel, 'new_label'.")
    label_column = next((c for c in LABEL_COLUMNS if c in frame.columns), None)
    flags = reviewable_flags(check)
    by_place = {(str(f.split), str(f.row)): f for f in flags.itertuples(index=False)}
    by_row: dict[str, list[Any]] = {}
    for f in flags.itertuples(index=False):
        by_row.setdefault(str(f.row), []).append(f)
    decisions = []
    for line, record in enumerate(frame.to_dict("records"), start=2):
        action = str(record.get(DECISION_COLUMN) or "").strip().lower()
        if not action or action in ("nan", "—", "-"):
            continue
        if action not in ACTIONS:
            raise LoupeError(f"{path.name}, line {line}: '{action}' is not a review action.",
                             f"use one of {', '.join(ACTIONS)}, or leave the cell empty.")
        row, split = str(record["row"]), str(record.get("split") or "")
        flag = by_place.get((split, row)) if split else None
        if flag is None:
            matches = by_row.get(row, [])
            if len(matches) != 1:
                why = "is not a flagged example of this check" if not matches else "is ambiguous"
                raise LoupeError(f"{path.name}, line {line}: '{row}' {why}.",
                                 "review the flags of the same run and check settings (--folds, "
                                 "--near) and keep the 'split' and 'row' columns as written.")
            flag = matches[0]
        label = record.get(label_column) if label_column else None
        if action == "relabel" and (label is None or str(label).strip() in ("", "nan")):
            raise LoupeError(f"{path.name}, line {line}: relabel needs a new label.",
                             f"fill in the '{label_column or 'new_label'}' column.")
        label = str(label).strip() if action == "relabel" else None
        decisions.append(Decision(str(flag.ref), action, label, str(flag.issue)))
    if not decisions:
        raise LoupeError(f"{path.name} has no decisions.",
                         "fill the 'decision' column with keep, exclude or relabel.")
    return decisions
