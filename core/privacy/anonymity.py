"""Re-identification risk: k-anonymity over quasi-identifiers and small-count suppression.

A table without names can still identify people: the combination of ZIP code, birth date and sex
is unique for most of a population. k-anonymity asks how many records share each combination of
quasi-identifier values; a record in a group smaller than k can be singled out. The same idea
protects aggregates: a histogram bin or a category holding 1-2 records, or the minimum of an
age column, reveals an individual's value, so such counts are merged ("other (<k)") or suppressed
before anything is drawn or exported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import LoupeError, suggest

DEFAULT_K = 5


def other_label(k: int) -> str:
    return f"other (<{k})"


@dataclass(frozen=True)
class KAnonymity:
    """k-anonymity of a table over chosen quasi-identifiers (no values, only group sizes)."""

    quasi_identifiers: tuple[str, ...]
    k: int
    n_records: int
    n_groups: int
    min_group_size: int  # the k the table actually achieves
    groups_below_k: int
    records_below_k: int
    size_counts: Mapping[int, int] = field(default_factory=dict)  # group size -> groups

    @property
    def share_below_k(self) -> float:
        return self.records_below_k / self.n_records if self.n_records else 0.0

    @property
    def satisfied(self) -> bool:
        return self.records_below_k == 0

    def summary(self) -> str:
        qis = ", ".join(self.quasi_identifiers) or "(none)"
        if not self.n_records:
            return "No records."
        return (f"k-anonymity over {qis}: smallest group {self.min_group_size}; "
                f"{self.records_below_k:,} of {self.n_records:,} records "
                f"({self.share_below_k:.1%}) in {self.groups_below_k:,} groups smaller than "
                f"k={self.k}.")

    def to_dict(self) -> dict:
        return {
            "quasi_identifiers": list(self.quasi_identifiers), "k": self.k,
            "n_records": self.n_records, "n_groups": self.n_groups,
            "min_group_size": self.min_group_size, "groups_below_k": self.groups_below_k,
            "records_below_k": self.records_below_k,
            "share_below_k": round(self.share_below_k, 4), "satisfied": self.satisfied,
            "size_counts": {str(s): n for s, n in sorted(self.size_counts.items())},
        }


def generalize(series: pd.Series, width: float) -> pd.Series:
    """Coarsen a numeric quasi-identifier into bins of ``width`` (age 37 -> 30 for width 10)."""
    return np.floor(pd.to_numeric(series, errors="coerce") / width) * width


def _check_columns(df: pd.DataFrame, columns: Sequence[str]) -> None:
    for c in columns:
        if c not in df.columns:
            raise LoupeError(f"Quasi-identifier column {c!r} is not in the table.",
                             suggest(str(c), [str(x) for x in df.columns]))


def k_anonymity(df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int = DEFAULT_K,
                widths: Mapping[str, float] | None = None) -> KAnonymity:
    """Group records by their quasi-identifier values and measure the small groups.

    Missing values form their own group value (a missing ZIP is still a shared value).
    ``widths`` generalises numeric columns before grouping, e.g. ``{"age": 10}``.
    """
    if k < 1:
        raise LoupeError(f"k must be at least 1, got {k}.", "use k=5 or another positive number.")
    qis = tuple(quasi_identifiers)
    _check_columns(df, qis)
    n = len(df)
    if not qis or n == 0:
        return KAnonymity(qis, k, n, 1 if n else 0, n, 0 if n >= k else 1 if n else 0,
                          0 if n >= k else n, {n: 1} if n else {})
    part = df[list(qis)].copy()
    for col, width in (widths or {}).items():
        if col in part.columns:
            part[col] = generalize(part[col], width)
    part = part.astype(object).where(part.notna(), "\x00missing")
    sizes = part.groupby(list(qis), dropna=False, sort=False).size()
    small = sizes[sizes < k]
    return KAnonymity(
        quasi_identifiers=qis, k=k, n_records=n, n_groups=len(sizes),
        min_group_size=int(sizes.min()), groups_below_k=len(small),
        records_below_k=int(small.sum()),
        size_counts={int(s): int(c) for s, c in sizes.value_counts().sort_index().items()},
    )


# --- safe aggregates -------------------------------------------------------------------------


def suppress_small_counts(counts: pd.Series, k: int = DEFAULT_K, top: int | None = None
                          ) -> pd.DataFrame:
    """Category counts safe to show: categories with fewer than k records are merged.

    Returns ``value, count, suppressed``. Small categories become one ``other (<k)`` row; if
    that row itself holds fewer than k records its count is suppressed (NaN) too. With ``top``,
    categories beyond the ``top`` largest (each >= k) are merged into ``other``.
    """
    counts = counts[counts > 0].sort_values(ascending=False)
    big, small = counts[counts >= k], counts[counts < k]
    rows = [{"value": str(v), "count": float(c), "suppressed": False} for v, c in big.items()]
    if top is not None and len(rows) > top:
        rest = sum(r["count"] for r in rows[top:])
        rows = rows[:top] + [{"value": "other", "count": rest, "suppressed": False}]
    if len(small):
        total = float(small.sum())
        rows.append({"value": other_label(k), "count": total if total >= k else math.nan,
                     "suppressed": total < k})
    return pd.DataFrame(rows, columns=["value", "count", "suppressed"])


def nice_step(span: float, bins: int) -> float:
    """A round bin width (1, 2, 2.5 or 5 times a power of ten) near ``span / bins``."""
    raw = span / max(bins, 1)
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def safe_histogram(values: pd.Series, k: int = DEFAULT_K, bins: int = 20) -> pd.DataFrame:
    """Histogram whose every non-empty bin holds at least k records.

    Edges are rounded to a "nice" grid so the outer edges do not give away the exact minimum
    and maximum; adjacent bins are merged left to right until each holds k records, and a small
    remainder joins the last bin. Returns ``left, right, count, label``; empty when fewer than k
    values exist at all (everything would be suppressed).
    """
    x = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    cols = ["left", "right", "count", "label"]
    if len(x) < k:
        return pd.DataFrame(columns=cols)
    lo, hi = _robust_range(x)
    step = nice_step(hi - lo, bins)
    start, stop = math.floor(lo / step) * step, math.ceil(hi / step) * step
    if stop <= start:
        stop = start + step
    edges = np.arange(start, stop + step / 2, step)
    below, above = bool((x < start).any()), bool((x > edges[-1]).any())
    counts, edges = np.histogram(np.clip(x, edges[0], edges[-1]), bins=edges)
    frame = pd.DataFrame(_merge_bins(edges, counts, k), columns=["left", "right", "count"])
    labels = [f"{_fmt(a)}–{_fmt(b)}" for a, b in zip(frame.left, frame.right, strict=True)]
    if labels and below:
        labels[0] = f"< {_fmt(frame.right.iloc[0])}"
    if labels and above:
        labels[-1] = f"≥ {_fmt(frame.left.iloc[-1])}"
    frame["label"] = labels
    return frame[cols]


def _robust_range(x: np.ndarray) -> tuple[float, float]:
    """Range for binning: 0.5-99.5% quantiles on large samples, so one outlier neither squashes
    the histogram nor gets a bin edge of its own (outliers land in open-ended outer bins)."""
    if len(x) >= 200:
        lo, hi = np.quantile(x, [0.005, 0.995])
        if hi > lo:
            return float(lo), float(hi)
    return float(x.min()), float(x.max())


def _merge_bins(edges: np.ndarray, counts: np.ndarray, k: int) -> list[list[float]]:
    """Merge adjacent bins left to right until each non-empty bin holds >= k records."""
    merged: list[list[float]] = []
    cur: list[float] | None = None
    for left, right, c in zip(edges[:-1], edges[1:], counts, strict=True):
        cur = [cur[0], right, cur[2] + c] if cur else [float(left), float(right), float(c)]
        if cur[2] == 0 or cur[2] >= k:
            merged.append(cur)
            cur = None
    if cur is not None:
        last = next(i for i in range(len(merged) - 1, -1, -1) if merged[i][2] > 0)
        merged[last] = [merged[last][0], cur[1], merged[last][2] + cur[2]]
        merged = merged[:last + 1]
    while merged and merged[-1][2] == 0:
        merged.pop()
    while merged and merged[0][2] == 0:
        merged.pop(0)
    return merged


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.4g}"


@dataclass(frozen=True)
class LeakWarning:
    """An aggregate that would reveal an individual's value, and what was done about it."""

    column: str
    kind: str  # "min/max", "small categories", "small groups"
    message: str

    def __str__(self) -> str:
        return self.message
