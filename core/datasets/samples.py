"""Built-in tabular samples: data that ships with a package or is generated, never downloaded."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from core.errors import LoupeError, suggest


def _diabetes() -> pd.DataFrame:
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(as_frame=True, scaled=False)
    frame = bunch.frame.rename(columns={"target": "progression"})
    return frame


def _house_prices() -> pd.DataFrame:
    from data.make_house_prices import make_house_prices

    return make_house_prices()


TABULAR_SAMPLES: dict[str, tuple[str, str, Callable[[], pd.DataFrame]]] = {
    "house_prices": ("Generated house prices (3,000 rows, a categorical column, some gaps)",
                     "price", _house_prices),
    "diabetes": ("scikit-learn's diabetes table (442 patients, disease progression)",
                 "progression", _diabetes),
}


def is_sample(source: str) -> bool:
    return source.startswith("sample:")


def sample_name(source: str) -> str:
    return source.split(":", 1)[1]


def parse_sample(source: str | None) -> str | None:
    """The sample's name for ``sample:NAME``, None for anything else (a path, nothing)."""
    return sample_name(source) if source and is_sample(source) else None


def load_tabular_sample(source: str) -> tuple[pd.DataFrame, str]:
    """(frame, default target) for ``sample:NAME``."""
    name = sample_name(source)
    if name not in TABULAR_SAMPLES:
        raise LoupeError(f"Unknown tabular sample '{name}'.", suggest(name, TABULAR_SAMPLES))
    _, target, loader = TABULAR_SAMPLES[name]
    return loader(), target
