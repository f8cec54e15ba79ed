"""Built-in tabular samples: data that ships with a package or is generated, never downloaded."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from core.errors import LoupeError, suggest

if TYPE_CHECKING:  # the loaders import pandas when they run: listing the samples needs none
    import pandas as pd


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

# The text samples (built by ``core.datasets.texts``), described here so that listing every
# sample (`loupe samples`) imports neither pandas nor the text readers.
TEXT_SAMPLES = {"reviews": "3,000 generated product reviews labelled positive/negative (balanced)"}

SAMPLE_PREFIX = "sample:"


def tabular_descriptions() -> dict[str, str]:
    """name -> one-line description of each tabular sample."""
    return {name: desc for name, (desc, _, _) in TABULAR_SAMPLES.items()}


# --- the one sample resolver: every ``sample:NAME`` is parsed and built here ---------------------
def parse_sample(source: str | None) -> str | None:
    """The sample's name for ``sample:NAME``, None for anything else (a path, nothing)."""
    if not source or not str(source).startswith(SAMPLE_PREFIX):
        return None
    return str(source)[len(SAMPLE_PREFIX):]


def sample_source(name: str) -> str:
    """The data source that names the built-in sample ``name``."""
    return f"{SAMPLE_PREFIX}{name}"


def load_tabular_sample(source: str) -> tuple[pd.DataFrame, str]:
    """(frame, default target) for ``sample:NAME``."""
    name = parse_sample(source) or source
    if name not in TABULAR_SAMPLES:
        raise LoupeError(f"Unknown tabular sample '{name}'.", suggest(name, TABULAR_SAMPLES))
    _, target, loader = TABULAR_SAMPLES[name]
    return loader(), target
