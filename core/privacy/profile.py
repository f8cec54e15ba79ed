"""Data profile with disclosure control: types, missing values, distinct counts, distributions.

A profile is an aggregate, and aggregates leak: the maximum of an age column is one person's
age, a category with two records names two people's city. So every distribution here goes
through ``anonymity``'s suppression (categories and bins with fewer than k records are merged or
suppressed), min/max are withheld for identifier-like columns, and direct-identifier columns get
no value distribution at all. Warnings say what was withheld and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from core.privacy.anonymity import (
    DEFAULT_K,
    LeakWarning,
    other_label,
    safe_histogram,
    suppress_small_counts,
)
from core.privacy.report import DIRECT, NONE, ColumnReport, scan_frame

PROFILE_COLUMNS = ["column", "type", "dtype", "role", "count", "missing", "missing_share",
                   "distinct", "mean", "std", "median", "min", "max"]


@dataclass
class Profile:
    """Per-column summary, suppressed distributions, the PII report and the leak warnings."""

    columns: pd.DataFrame
    distributions: dict[str, pd.DataFrame]
    pii: pd.DataFrame
    warnings: list[LeakWarning] = field(default_factory=list)
    k: int = DEFAULT_K

    def to_dict(self) -> dict:
        cols = self.columns.astype(object).where(self.columns.notna(), None)
        return {
            "k": self.k,
            "columns": cols.to_dict(orient="records"),
            "distributions": {c: d.astype(object).where(d.notna(), None).to_dict(orient="records")
                              for c, d in self.distributions.items()},
            "warnings": [w.message for w in self.warnings],
        }


def column_type(series: pd.Series, column_kind: str = "value", max_categories: int = 20) -> str:
    """A person's word for the column: numeric, categorical, string (mostly distinct short
    values such as codes or names), text, datetime, boolean or empty."""
    values = series.dropna()
    if values.empty:
        return "empty"
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if pd.api.types.is_numeric_dtype(series):
        return "categorical" if values.nunique() <= min(max_categories, 10) else "numeric"
    if column_kind == "text":
        return "text"
    distinct = _distinct(values)
    return "categorical" if distinct <= 50 or distinct <= 0.5 * len(values) else "string"


def _distinct(series: pd.Series) -> int:
    try:
        return int(series.nunique(dropna=True))
    except TypeError:
        return int(series.astype(str).nunique(dropna=True))


def _numeric_summary(series: pd.Series, role: str, k: int) -> dict:
    """Mean/std/median, and min/max only where they cannot single out a person."""
    x = pd.to_numeric(series, errors="coerce").dropna()
    if len(x) < k:
        return {}
    out = {"mean": float(x.mean()), "std": float(x.std()), "median": float(x.median())}
    if role == NONE:
        out.update({"min": float(x.min()), "max": float(x.max())})
    return out


def _distribution(series: pd.Series, ctype: str, k: int, bins: int, top: int) -> pd.DataFrame:
    """``label, count`` (plus ``suppressed``) with every shown count >= k."""
    values = series.dropna()
    if ctype == "numeric":
        hist = safe_histogram(values, k=k, bins=bins)
        return pd.DataFrame({"label": hist["label"], "count": hist["count"],
                             "suppressed": False})
    if ctype == "text":
        words = values.astype(str).str.split().str.len()
        hist = safe_histogram(words, k=k, bins=bins)
        return pd.DataFrame({"label": hist["label"] + " words", "count": hist["count"],
                             "suppressed": False})
    if ctype in ("categorical", "boolean", "string"):
        counts = values.astype(str).value_counts()
        table = suppress_small_counts(counts, k=k, top=top)
        return table.rename(columns={"value": "label"})[["label", "count", "suppressed"]]
    return pd.DataFrame(columns=["label", "count", "suppressed"])


def _warnings(name: str, role: str, ctype: str, dist: pd.DataFrame, k: int) -> list[LeakWarning]:
    out: list[LeakWarning] = []
    if role != NONE and ctype == "numeric":
        out.append(LeakWarning(name, "min/max", f"Column {name!r} is a {role}: its minimum and "
                               "maximum would reveal single records, so they are withheld."))
    if not dist.empty and (dist["label"] == other_label(k)).any():
        out.append(LeakWarning(name, "small categories", f"Column {name!r}: categories with "
                               f"fewer than {k} records are merged into {other_label(k)!r}."))
    return out


def profile_frame(df: pd.DataFrame, report: ColumnReport | None = None, k: int = DEFAULT_K,
                  bins: int = 20, top: int = 20) -> Profile:
    """Profile every column of ``df`` with small-count suppression applied throughout."""
    report = report if report is not None else scan_frame(df)
    rows, dists, warns = [], {}, []
    for i, (label, info) in enumerate(zip(df.columns, report.aligned(df), strict=True)):
        name, series = str(label), df.iloc[:, i]
        role = info.role if info else NONE
        ctype = column_type(series, info.kind if info else "value", top)
        row = {"column": name, "type": ctype, "dtype": str(series.dtype), "role": role,
               "count": int(series.notna().sum()), "missing": int(series.isna().sum()),
               "missing_share": float(series.isna().mean()) if len(series) else 0.0,
               "distinct": _distinct(series)}
        if ctype == "numeric":
            row.update(_numeric_summary(series, role, k))
        rows.append(row)
        if role == DIRECT or (info is not None and info.entities and info.kind == "value"):
            continue  # personal values: no distribution, not even of masked tokens
        dists[name] = _distribution(series, ctype, k, bins, top)
        warns.extend(_warnings(name, role, ctype, dists[name], k))
    return Profile(columns=pd.DataFrame(rows, columns=PROFILE_COLUMNS), distributions=dists,
                   pii=report.to_frame(), warnings=warns, k=k)
