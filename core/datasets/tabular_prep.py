"""Tabular preprocessing fitted on the training split only, stored as JSON (no pickle).

Numeric columns: median imputation + standardisation. Categorical columns: most-frequent
imputation + one-hot over the categories seen in training (unseen categories encode as all zeros).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.datasets.tables import numeric_or_none
from core.errors import LoupeError

SKEW_LIMIT = 1.0  # |skewness| above which a positive target is also tried on a log scale

MAX_CATEGORIES = 50


@dataclass
class Preprocessor:
    target: str
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    medians: dict[str, float] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)
    stds: dict[str, float] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)
    fills: dict[str, str] = field(default_factory=dict)
    target_mean: float = 0.0  # of the scale the network fits (log(1 + y) when target_transform says)
    target_std: float = 1.0
    target_transform: str = "none"  # "log1p": a skewed positive target fitted on its log scale
    raw_target_mean: float | None = None  # training mean in target units (the mean baseline)
    log_target_range: tuple[float, float] | None = None  # log scale: where predictions are clipped

    # --- fitting --------------------------------------------------------------------------
    @classmethod
    def fit(
        cls, train: pd.DataFrame, target: str, numeric: list[str], categorical: list[str]
    ) -> Preprocessor:
        prep = cls(target=target, numeric=list(numeric), categorical=list(categorical))
        for col in numeric:
            values = numeric_or_none(train[col])
            values = values if values is not None else pd.Series(dtype=float)
            median = float(values.median()) if values.notna().any() else 0.0
            filled = values.fillna(median)
            prep.medians[col] = median
            prep.means[col] = float(filled.mean()) if len(filled) else 0.0
            std = float(filled.std(ddof=0)) if len(filled) else 1.0
            prep.stds[col] = std if std > 1e-12 else 1.0
        for col in categorical:
            values = train[col].astype("string")
            mode = values.mode(dropna=True)
            prep.fills[col] = str(mode.iloc[0]) if len(mode) else "missing"
            counts = values.fillna(prep.fills[col]).value_counts()
            prep.categories[col] = sorted(str(c) for c in counts.index[:MAX_CATEGORIES])
        prep.raw_target_mean = float(train[target].astype(float).mean())
        prep.set_target_transform("none", train[target].to_numpy(dtype=float))
        return prep

    def set_target_transform(self, transform: str, y_train: np.ndarray) -> None:
        """Fit the target's standardisation on the raw or the log scale."""
        self.target_transform = transform
        y = np.log1p(y_train) if transform == "log1p" else np.asarray(y_train, dtype=float)
        self.log_target_range = None
        if transform == "log1p":  # exp() turns a network's extrapolation into a blow-up: clip it to
            low, high = float(y.min()), float(y.max())  # the training range plus 10% each side
            margin = 0.1 * (high - low)
            self.log_target_range = (low - margin, high + margin)
        self.target_mean = float(y.mean())
        std = float(y.std(ddof=0))
        self.target_std = std if std > 1e-12 else 1.0

    # --- applying -------------------------------------------------------------------------
    @property
    def feature_names(self) -> list[str]:
        names = list(self.numeric)
        for col in self.categorical:
            names += [f"{col}={cat}" for cat in self.categories[col]]
        return names

    @property
    def feature_sources(self) -> list[str]:
        """For each encoded feature, the original column it came from (SHAP sums groups back)."""
        sources = list(self.numeric)
        for col in self.categorical:
            sources += [col] * len(self.categories[col])
        return sources

    @property
    def input_columns(self) -> list[str]:
        return self.numeric + self.categorical

    def unreadable(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Numeric input columns with values present but not numbers (or infinite): column ->
        row mask. ``transform`` fills such cells with the training median; callers say so."""
        found = {}
        for col in self.numeric:
            if col in frame.columns:
                bad = unreadable_mask(frame[col])
                if bad.any():
                    found[col] = bad
        return found

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.input_columns if c not in frame.columns]
        if missing:
            raise LoupeError(
                f"The input lacks column(s) the model was trained on: {', '.join(map(repr, missing))}.",
                "add those columns (values may be empty; they are imputed).",
            )
        parts = []
        for col in self.numeric:
            values = pd.to_numeric(frame[col], errors="coerce").astype(float)
            values = values.where(np.isfinite(values), np.nan).fillna(self.medians[col])
            parts.append(((values - self.means[col]) / self.stds[col]).to_numpy()[:, None])
        for col in self.categorical:
            values = frame[col].astype("string").fillna(self.fills[col]).astype(str).to_numpy()
            cats = np.array(self.categories[col], dtype=object)
            parts.append((values[:, None] == cats[None, :]).astype(np.float64))
        if not parts:
            return np.zeros((len(frame), 0), dtype=np.float32)
        return np.concatenate(parts, axis=1).astype(np.float32)

    def scale_target(self, y: np.ndarray) -> np.ndarray:
        y = np.log1p(y) if self.target_transform == "log1p" else y
        return ((y - self.target_mean) / self.target_std).astype(np.float32)

    def unscale_target(self, y: np.ndarray) -> np.ndarray:
        """Back to target units (float64 when the log scale is undone; there, values are clipped to
        the training range widened by 10% of it on each side, so extrapolation cannot explode)."""
        y = y * self.target_std + self.target_mean
        if self.target_transform != "log1p":
            return y
        low, high = self.log_target_range or (-np.inf, np.inf)
        return np.expm1(np.clip(np.asarray(y, dtype=np.float64), low, high))

    # --- JSON -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Preprocessor:
        return cls(**raw)


def skewed_positive(y: np.ndarray) -> bool:
    """A target worth trying on a log scale: all positive and clearly right-skewed."""
    y = np.asarray(y, dtype=np.float64)
    return bool(len(y) > 2 and y.min() > 0 and pd.Series(y).skew() > SKEW_LIMIT)


def choose_target_scale(prep: Preprocessor, train: pd.DataFrame, val: pd.DataFrame) -> dict[str, float]:
    """For a skewed positive target, pick the network's scale on validation: a ridge regression
    on the encoded columns is fitted on the raw and on the log scale, and the one with the lower
    validation RMSE in target units is kept (``prep`` is set to it). Returns the two RMSEs, or
    {} when the target is not skewed (raw scale, nothing tried)."""
    from sklearn.linear_model import Ridge

    y = {"train": train[prep.target].to_numpy(dtype=float), "val": val[prep.target].to_numpy(dtype=float)}
    if not skewed_positive(y["train"]) or len(y["val"]) == 0 or y["val"].min() <= -1:
        return {}
    x = {"train": prep.transform(train), "val": prep.transform(val)}
    trial = {}
    for transform in ("none", "log1p"):
        prep.set_target_transform(transform, y["train"])
        ridge = Ridge(alpha=1.0).fit(x["train"], prep.scale_target(y["train"]))
        pred = prep.unscale_target(ridge.predict(x["val"]))
        trial[transform] = float(np.sqrt(np.mean((pred - y["val"]) ** 2)))
    prep.set_target_transform(min(trial, key=trial.__getitem__), y["train"])
    return trial


def target_scale_notice(target: str, used: str, trial: dict[str, float]) -> str:
    """What ``choose_target_scale`` decided, in words (Train page, CLI, report)."""
    return (f"'{target}' is positive and skewed, so a ridge fit was tried on log(1 + {target}) and on "
            f"the raw values: validation RMSE {trial['log1p']:,.4g} against {trial['none']:,.4g} "
            f"(in {target}'s units), so the network fits the {'log' if used == 'log1p' else 'raw'} "
            "scale. Metrics and plots stay in the original units.")


def unreadable_mask(values: pd.Series) -> np.ndarray:
    """Rows holding a value that is not a number (``"abc"``) or is infinite; empty cells are
    missing, not unreadable."""
    parsed = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return values.notna().to_numpy() & ~np.isfinite(parsed)


def unreadable_notice(col: str, bad: np.ndarray, outcome: str, first_line: int = 2) -> str:
    """One notice naming the column, how many values are not numbers, the first rows (file
    lines when ``first_line`` is 2, the header being line 1) and what became of them."""
    rows = ", ".join(str(int(i) + first_line) for i in np.flatnonzero(bad)[:5])
    where = "file lines" if first_line == 2 else "rows"
    if bad.all():
        return (f"Column '{col}': none of its {len(bad):,} values is a number (e.g. {where} "
                f"{rows}); {outcome}.")
    return (f"Column '{col}': {int(bad.sum()):,} of {len(bad):,} values are not numbers (e.g. "
            f"{where} {rows}); {outcome}.")


def mostly_numbers(series: pd.Series) -> bool:
    """Half or more of the values are numbers, yet too few for a numeric column: likely numbers
    with typos or placeholders ("abc", "n/a") that the user should hear about."""
    present = int(series.notna().sum())
    parsed = int(pd.to_numeric(series, errors="coerce").notna().sum())
    return bool(present) and parsed >= 0.5 * present and numeric_or_none(series) is None


def split_columns(frame: pd.DataFrame, target: str) -> tuple[list[str], list[str], list[str]]:
    """(numeric, categorical, ignored-with-reason) feature columns, target excluded.

    Text-like columns with many distinct values (ids, free text, names) are ignored rather than
    exploded into thousands of one-hot features, and so are text columns with one value in every
    row (e.g. "abc" throughout): they carry nothing to learn from.
    """
    numeric, categorical, ignored = [], [], []
    for col in frame.columns:
        if col == target:
            continue
        series = frame[col]
        if series.isna().all():
            ignored.append(f"'{col}' is empty in every row")
            continue
        if numeric_or_none(series) is not None:
            numeric.append(col)
            continue
        distinct = series.nunique(dropna=True)
        if distinct == 1 and series.notna().all():  # e.g. "abc" in every row of a number column
            ignored.append(f"'{col}' holds the same text in every row (nothing to learn from)")
            continue
        if distinct <= MAX_CATEGORIES or distinct <= 0.05 * len(series):
            categorical.append(col)
        else:
            ignored.append(f"'{col}' has {distinct:,} distinct text values (an id or free text)")
    return numeric, categorical, ignored
