"""The column mapping LightGBM trees read (``TreeColumns``): raw frame -> float matrix, and the
target transform. Torch-free, so a deploy bundle's runtime (``core.tasks.tabular_serving``)
encodes requests exactly as training did."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

TREE_COLUMNS_FILE = "tree_columns.json"  # the column preprocessing the booster needs
MAX_TREE_CATEGORIES = 1000  # rarer categories beyond this count are read as missing


@dataclass
class TreeColumns:
    """Raw frame -> the float matrix the booster reads (JSON round-trip, no pickle)."""

    target: str
    numeric: list[str] = field(default_factory=list)
    categorical: dict[str, list[str]] = field(default_factory=dict)  # column -> categories
    target_transform: str = "none"  # "none" or "log1p"

    @classmethod
    def fit(cls, train: pd.DataFrame, target: str, numeric: list[str],
            categorical: list[str]) -> TreeColumns:
        cats = {}
        for col in categorical:
            counts = train[col].dropna().astype(str).value_counts()
            cats[col] = sorted(counts.index[:MAX_TREE_CATEGORIES].tolist())
        return cls(target=target, numeric=list(numeric), categorical=cats)

    @property
    def columns(self) -> list[str]:
        return list(self.numeric) + list(self.categorical)

    @property
    def categorical_indices(self) -> list[int]:
        return list(range(len(self.numeric), len(self.columns)))

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """(rows, columns) float64: numbers with NaN for missing, category codes (NaN: unknown)."""
        from core.errors import LoupeError

        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise LoupeError(
                f"The input lacks column(s) the model was trained on: {', '.join(map(repr, missing))}.",
                "add those columns (values may be empty; trees treat them as missing).")
        out = np.full((len(frame), len(self.columns)), np.nan, dtype=np.float64)
        for j, col in enumerate(self.numeric):
            values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            out[:, j] = np.where(np.isfinite(values), values, np.nan)
        for j, (col, cats) in enumerate(self.categorical.items(), start=len(self.numeric)):
            lookup = {c: float(i) for i, c in enumerate(cats)}
            values = frame[col].astype("string").fillna("\x00missing").astype(str)
            out[:, j] = [lookup.get(v, np.nan) for v in values]
        return out

    def forward_target(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        return np.log1p(y) if self.target_transform == "log1p" else y

    def inverse_target(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        return np.expm1(y) if self.target_transform == "log1p" else y

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TreeColumns:
        return cls(**raw)
