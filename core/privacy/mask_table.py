"""``mask_frame``: the masking hook for tables (cell by cell, each distinct value once).

Privacy mode is on by default: see ``core.privacy.mask`` for the text hooks it shares.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from core.privacy.detect import detect_value
from core.privacy.mask import _mask_spans
from core.privacy.operators import check_operator, mask_value, secret_key
from core.privacy.report import (
    DEFAULT_SAMPLE_ROWS,
    DIRECT,
    NONE,
    ColumnPII,
    ColumnReport,
    sample_index,
    scan_column,
    scan_frame,
)

__all__ = ["mask_frame"]

_FALLBACK_LABEL = "REDACTED"

def _uniform_entity(col: ColumnPII) -> str | None:
    """The one entity type of a value column where (nearly) every value is that entity.

    Such a column is masked cell by cell without re-running detection: a ZIP column is all
    ZIPs, and the few stragglers ("unknown") lose nothing by being masked too. This is what
    keeps masking every row of a large table fast.
    """
    if col.kind != "value" or len(col.entities) != 1:
        return None
    stat = col.entities[0]
    return stat.entity if stat.cells >= 0.8 * max(col.values_scanned, 1) else None


def _mask_cell(value: object, col: ColumnPII, operator: str, secret: bytes | None) -> object:
    """Mask one cell: detected spans, or the whole cell in a direct-identifier value column."""
    text = str(value)
    uniform = _uniform_entity(col)
    if uniform is not None:
        return mask_value(text, uniform, operator, secret)
    findings = detect_value(value, col.name)
    whole = col.role == DIRECT and col.kind == "value"
    if whole:
        if len(findings) == 1 and findings[0].end - findings[0].start >= len(text.strip()):
            return mask_value(text, findings[0].entity, operator, secret)
        return mask_value(text, col.primary_entity or _FALLBACK_LABEL, operator, secret)
    if not findings:
        return value
    return _mask_spans(text, findings, operator, secret)


def _needs_masking(col: ColumnPII) -> bool:
    """Direct identifiers always; other columns only where entities were detected."""
    if col.role == NONE and col.role_source == "override":
        return False
    return col.role == DIRECT or bool(col.entities)


def mask_frame(
    df: pd.DataFrame,
    report: ColumnReport | None = None,
    operator: str = "replace",
    unmasked_columns: Iterable[str] = (),
) -> pd.DataFrame:
    """A masked copy of ``df``: detected cells masked, direct-identifier columns fully masked.

    Every row is masked (the report may come from a sample, masking never does). Columns in
    ``unmasked_columns`` are returned as they are: pass only columns the user unmasked through
    ``record_unmask``. Quasi-identifiers found only by column name (age, gender) stay readable:
    they are needed for modelling, and k-anonymity reports their risk instead.
    """
    check_operator(operator)
    report = report if report is not None else scan_frame(df)
    keep = {str(c) for c in unmasked_columns}
    secret = secret_key() if operator == "hash" else None
    columns: list[pd.Series] = []
    labels: list[object] = []
    for i, (label, col) in enumerate(zip(df.columns, report.aligned(df), strict=True)):
        series = df.iloc[:, i]  # by position: duplicate column names are allowed
        if col is None:  # a column the report has not seen: scan it now, never pass it blind
            col = _scan_one(series.rename(str(label)))
        if col is not None and str(label) not in keep and _needs_masking(col):
            if operator == "drop" and col.kind == "value":
                continue
            series = _mask_series(series, col, operator, secret)
        columns.append(series.copy())
        labels.append(label)
    if not columns:
        return df.iloc[:, []].copy()
    out = pd.concat(columns, axis=1)
    out.columns = pd.Index(labels, dtype=object) if len(set(map(type, labels))) > 1 else labels
    return out


def _scan_one(series: pd.Series) -> ColumnPII:
    idx = sample_index(len(series), DEFAULT_SAMPLE_ROWS)
    return scan_column(series.iloc[idx], rows=len(idx))


def _mask_series(series: pd.Series, col: ColumnPII, operator: str,
                 secret: bytes | None) -> pd.Series:
    """Mask each distinct value once and map the results back onto the column."""
    values = series.astype(object)
    try:
        distinct = pd.unique(values.dropna())
    except TypeError:  # unhashable cells: mask their text form
        values = values.map(lambda v: v if v is None else str(v))
        distinct = pd.unique(values.dropna())
    mapping = {v: _mask_cell(v, col, operator, secret) for v in distinct}
    return values.map(lambda v: mapping.get(v, v) if v is not None else v)
