"""Column PII report: which columns hold personal data, how much, and what role they play.

The report is what the rest of Loupe looks at before showing, exporting or training on a table,
so it must be safe to show and to store: it holds column names, entity types, counts, shares and
confidences, never a cell value. Scanning reads a random sample of rows (``sample_rows`` per
column, the same rows for every column) so a 10-million-row upload is judged in seconds; the
report says when it sampled. Unique values are scanned once each, which makes categorical
columns nearly free.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from core.errors import LoupeError, suggest
from core.privacy.context import not_personal
from core.privacy.detect import (
    DIRECT_ENTITIES,
    QUASI_ENTITIES,
    column_cues,
    detect_value,
)

DIRECT = "direct identifier"
QUASI = "quasi-identifier"
NONE = "none"
ROLES = (DIRECT, QUASI, NONE)
DEFAULT_SAMPLE_ROWS = 2000

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class EntityStat:
    """One entity type in one column: cells affected, their share of scanned rows, confidence."""

    entity: str
    cells: int
    share: float
    confidence: float


@dataclass(frozen=True)
class ColumnPII:
    """What the scan found in one column. No raw values, by design."""

    name: str
    dtype: str
    kind: str  # "text" (free text: mask spans) or "value" (one value per cell: mask whole cell)
    role: str
    role_source: str  # "detected", "column name", "override" or "-"
    entities: tuple[EntityStat, ...] = ()
    quasi_kind: str | None = None
    rows_scanned: int = 0
    values_scanned: int = 0

    @property
    def primary_entity(self) -> str | None:
        """The entity type covering most cells, used to label a fully masked cell."""
        return max(self.entities, key=lambda e: e.cells).entity if self.entities else None

    @property
    def confidence(self) -> float:
        """Confidence that the role is right: the best entity confidence, or 0.6 for name cues."""
        if self.entities:
            return max(e.confidence for e in self.entities)
        return 0.6 if self.role != NONE else 0.0


@dataclass(frozen=True)
class ColumnReport:
    """The PII report for a whole table: one ``ColumnPII`` per column plus how it was scanned."""

    columns: tuple[ColumnPII, ...]
    n_rows: int
    rows_scanned: int
    fingerprint: str | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)

    @property
    def sampled(self) -> bool:
        return self.rows_scanned < self.n_rows

    @property
    def note(self) -> str:
        if self.sampled:
            return (f"Scanned a random sample of {self.rows_scanned:,} of {self.n_rows:,} rows; "
                    "rare values outside the sample may be missed.")
        return f"Scanned all {self.n_rows:,} rows."

    def column(self, name: str) -> ColumnPII:
        for c in self.columns:
            if c.name == name:
                return c
        raise LoupeError(f"Column {name!r} is not in the privacy report.",
                         suggest(name, [c.name for c in self.columns]))

    def aligned(self, df: pd.DataFrame) -> list[ColumnPII | None]:
        """The report entry for each column of ``df`` by position (None where unknown).

        Positional when the report was made from this layout, so duplicate column names each
        keep their own entry; otherwise by name, preferring the entry that needs more care.
        """
        names = [str(c) for c in df.columns]
        if [c.name for c in self.columns] == names:
            return list(self.columns)
        rank = {DIRECT: 2, QUASI: 1, NONE: 0}
        best: dict[str, ColumnPII] = {}
        for c in self.columns:
            if c.name not in best or rank[c.role] > rank[best[c.name].role]:
                best[c.name] = c
        return [best.get(n) for n in names]

    def names(self, role: str) -> list[str]:
        """Column names with the given role."""
        return [c.name for c in self.columns if c.role == role]

    @property
    def direct_identifiers(self) -> list[str]:
        return self.names(DIRECT)

    @property
    def quasi_identifiers(self) -> list[str]:
        return self.names(QUASI)

    @property
    def flagged(self) -> list[str]:
        """Columns in which at least one PII entity was detected."""
        return [c.name for c in self.columns if c.entities]

    def with_overrides(self, overrides: Mapping[str, str]) -> ColumnReport:
        """A copy whose roles follow the user's overrides (column -> role)."""
        for col, role in overrides.items():
            check_role(role, col)
        cols = tuple(
            replace(c, role=overrides[c.name], role_source="override")
            if c.name in overrides else c
            for c in self.columns
        )
        return replace(self, columns=cols, overrides={**self.overrides, **overrides})

    def to_frame(self) -> pd.DataFrame:
        """One row per column: role, entity types, share of cells, confidence (no values)."""
        rows = [{
            "column": c.name, "dtype": c.dtype, "kind": c.kind, "role": c.role,
            "role_source": c.role_source,
            "entities": ", ".join(e.entity for e in c.entities),
            "share": max((e.share for e in c.entities), default=0.0),
            "confidence": round(c.confidence, 2), "quasi_kind": c.quasi_kind or "",
        } for c in self.columns]
        return pd.DataFrame(rows, columns=["column", "dtype", "kind", "role", "role_source",
                                           "entities", "share", "confidence", "quasi_kind"])

    def entity_frame(self) -> pd.DataFrame:
        """Long format: one row per (column, entity) with cells, share, confidence."""
        rows = [{"column": c.name, "entity": e.entity, "cells": e.cells, "share": e.share,
                 "confidence": e.confidence} for c in self.columns for e in c.entities]
        return pd.DataFrame(rows, columns=["column", "entity", "cells", "share", "confidence"])

    def to_dict(self) -> dict:
        """JSON-ready form (for ``loupe inspect --json`` and the store)."""
        return {
            "n_rows": self.n_rows, "rows_scanned": self.rows_scanned, "sampled": self.sampled,
            "fingerprint": self.fingerprint, "note": self.note,
            "columns": [{
                "name": c.name, "dtype": c.dtype, "kind": c.kind, "role": c.role,
                "role_source": c.role_source, "quasi_kind": c.quasi_kind,
                "confidence": round(c.confidence, 3),
                "entities": [e.__dict__ for e in c.entities],
            } for c in self.columns],
        }


def check_role(role: str, column: str = "") -> str:
    """Validate a role name from a user (override widgets, CLI flags)."""
    if role not in ROLES:
        where = f" for column {column!r}" if column else ""
        raise LoupeError(f"Unknown privacy role {role!r}{where}.", suggest(role, ROLES))
    return role


def fingerprint_frame(df: pd.DataFrame) -> str:
    """SHA-256 of a table's column names, dtypes and cell contents (row order included).

    Overrides and unmask records are keyed by it, so the same data gets the same choices back
    whatever the file was called, and edited data does not silently inherit them.
    """
    h = hashlib.sha256()
    h.update("\x1f".join(f"{c}:{t}" for c, t in df.dtypes.astype(str).items()).encode())
    try:
        hashed = pd.util.hash_pandas_object(df, index=False).to_numpy()
    except TypeError:  # unhashable cells (lists from JSONL): hash their text form
        hashed = pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy()
    h.update(hashed.tobytes())
    return h.hexdigest()


# --- scanning --------------------------------------------------------------------------------


def sample_index(n_rows: int, sample_rows: int | None, seed: int = 0) -> np.ndarray:
    """Positions of the rows to scan: all of them, or a sorted random sample."""
    if sample_rows is None or n_rows <= sample_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=sample_rows, replace=False))


def _kind(values: pd.Series) -> str:
    """Free text (mask spans inside) versus one value per cell (mask the whole cell)."""
    if values.empty or not (values.dtype == object or pd.api.types.is_string_dtype(values)):
        return "value"
    text = values.astype(str)
    words = text.str.count(" ") + 1
    return "text" if text.str.len().mean() > 40 or words.median() >= 5 else "value"


def _entity_stats(values: pd.Series, column: str, rows: int) -> list[EntityStat]:
    """Detect in each distinct value once, weight by how often it occurs."""
    counts: dict[str, int] = {}
    conf_sum: dict[str, float] = {}
    try:
        distinct = values.value_counts(dropna=True)
    except TypeError:  # unhashable cells (lists/dicts from JSONL): read their text form
        distinct = values.astype(str).value_counts(dropna=True)
    for value, n in distinct.items():
        seen: dict[str, float] = {}
        for f in detect_value(value, column):
            seen[f.entity] = max(seen.get(f.entity, 0.0), f.confidence)
        for ent, conf in seen.items():
            counts[ent] = counts.get(ent, 0) + int(n)
            conf_sum[ent] = conf_sum.get(ent, 0.0) + conf * int(n)
    return [EntityStat(e, c, round(c / max(rows, 1), 4), round(conf_sum[e] / c, 3))
            for e, c in sorted(counts.items(), key=lambda kv: -kv[1])]


def _keep(stat: EntityStat, column_kind: str, non_null: int) -> bool:
    """Whether findings are strong enough to flag the column.

    In free text one confident hit is enough (a single e-mail in a notes field is PII). In value
    columns a stray pattern match in a column of codes should not flag it: require a 10% share
    of non-empty values unless the hits are validated (checksum-level) matches.
    """
    if column_kind == "text":
        return stat.confidence >= 0.6
    return stat.cells / max(non_null, 1) >= 0.1 or stat.confidence >= 0.9


def scan_column(series: pd.Series, rows: int | None = None) -> ColumnPII:
    """Scan one column (already sampled) and decide its role."""
    name = str(series.name)
    rows = len(series) if rows is None else rows
    values = series.dropna()
    kind = _kind(values)
    stats = [s for s in _entity_stats(values, name, rows) if _keep(s, kind, len(values))]
    cues = column_cues(name)
    found = {s.entity for s in stats}
    if found & DIRECT_ENTITIES:
        role, source = DIRECT, "detected"
    elif found & QUASI_ENTITIES:
        role, source = QUASI, "detected"
    elif cues.quasi:
        role, source = QUASI, "column name"
    else:
        role, source = NONE, "-"
    return ColumnPII(name=name, dtype=str(series.dtype), kind=kind, role=role, role_source=source,
                     entities=tuple(stats), quasi_kind=cues.quasi, rows_scanned=rows,
                     values_scanned=len(values))


def scan_frame(
    df: pd.DataFrame,
    sample_rows: int | None = DEFAULT_SAMPLE_ROWS,
    progress: Progress | None = None,
    overrides: Mapping[str, str] | None = None,
    fingerprint: str | None = None,
) -> ColumnReport:
    """Build the PII report of a table.

    ``sample_rows=None`` scans every row. ``progress(fraction, message)`` is called once per
    column. ``overrides`` (column -> role, e.g. from ``privacy_log.load_overrides``) are applied
    on top of what was detected.
    """
    idx = sample_index(len(df), sample_rows)
    part = df.iloc[idx] if len(idx) < len(df) else df
    cols: list[ColumnPII] = []
    for i, name in enumerate(df.columns):
        if progress:
            progress(i / max(len(df.columns), 1), f"Scanning column {name!s} "
                     f"({i + 1}/{len(df.columns)})")
        series = part.iloc[:, i]
        cols.append(scan_column(series.rename(str(name)), rows=len(part)))
    if progress:
        progress(1.0, f"Scanned {len(df.columns)} columns")
    report = ColumnReport(columns=tuple(_in_context(cols)), n_rows=len(df), rows_scanned=len(part),
                          fingerprint=fingerprint)
    return report.with_overrides(overrides) if overrides else report


def _in_context(cols: list[ColumnPII]) -> list[ColumnPII]:
    """Drop name-only quasi-identifier guesses that the whole table's meaning rules out
    (``core.privacy.context``): ``housing_median_age`` in a table of houses is not personal."""
    guessed = [c.name for c in cols if c.role == QUASI and c.role_source == "column name"]
    if not guessed:
        return cols
    evidence = [c.name for c in cols if c.entities]
    dropped = not_personal([c.name for c in cols], guessed, evidence)
    return [replace(c, role=NONE, role_source=dropped[c.name]) if c.name in dropped else c
            for c in cols]


@dataclass(frozen=True, slots=True)
class CellFinding:
    """One entity in one cell: (row position, column), span inside the cell text, confidence."""

    row: int
    column: str
    entity: str
    start: int
    end: int
    confidence: float


def find_cells(df: pd.DataFrame, columns: list[str] | None = None) -> list[CellFinding]:
    """Every finding in every cell (no sampling): for audits, tests and cell highlighting."""
    out: list[CellFinding] = []
    for name in columns or [str(c) for c in df.columns]:
        for row, value in enumerate(df[name].tolist()):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            out.extend(CellFinding(row, name, f.entity, f.start, f.end, f.confidence)
                       for f in detect_value(value, name))
    return out
