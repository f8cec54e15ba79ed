"""What differs per task kind in the UI, as small dicts keyed by kind (no if-chains in pages).

A kind missing from a dict gets the generic behaviour, so a newly registered kind shows up on
every page with sensible defaults before it has any entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from core.datasets.tables import numeric_or_none

AUTO = "(auto-detect)"
TABLE_TYPES = ["csv", "tsv", "parquet", "pq", "jsonl", "ndjson"]
ALL_UPLOAD_TYPES = [*TABLE_TYPES, "txt", "zip"]
UPLOAD_TYPES: dict[str, list[str]] = {
    "tabular": TABLE_TYPES,
    "text": [*TABLE_TYPES, "txt"],
    "image": ["zip"],
}
UPLOAD_HELP: dict[str, str] = {
    "tabular": "A table with a header row: CSV, TSV, Parquet or JSON Lines.",
    "text": "A table with a text column and a label column (CSV, TSV, Parquet, JSONL), or a .txt file.",
    "image": "A zip of a folder with one subfolder per class (cats/…, dogs/…); train/ val/ test/ "
             "folders are honoured.",
}


@dataclass(frozen=True)
class ColumnRole:
    """A column the user chooses for a kind: which DataConfig field it fills and from which columns."""

    field: str
    label: str
    help: str
    options: Callable[[pd.DataFrame], list[str]]
    auto: bool = False  # offer AUTO (core detects it)


def _numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns if numeric_or_none(frame[c]) is not None]


def _all_columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns]


COLUMN_ROLES: dict[str, list[ColumnRole]] = {
    "tabular": [ColumnRole("target", "Target column", "The numeric column the model learns to predict; "
                           "every other usable column is a feature.", _numeric_columns)],
    "text": [ColumnRole("text_column", "Text column", "The column holding the texts.", _all_columns, True),
             ColumnRole("label_column", "Label column", "The column holding each text's class.",
                        _all_columns, True)],
}


def _tabular_sample(name: str) -> pd.DataFrame:
    from core.datasets.samples import load_tabular_sample

    return load_tabular_sample(f"sample:{name}")[0]


def _text_sample(name: str) -> pd.DataFrame:
    from core.datasets.texts import load_sample_frame

    return load_sample_frame(name)


# Kinds whose samples can be shown as a table (privacy report, masked preview, profile).
SAMPLE_FRAMES: dict[str, Callable[[str], pd.DataFrame]] = {
    "tabular": _tabular_sample,
    "text": _text_sample,
}


def headline_metric(kind: str) -> str:
    """Final metric shown first in tables and pickers (the task's own; test_loss for unknown kinds)."""
    from core.tasks import get_task, task_kinds

    return get_task(kind).headline_metric if kind in task_kinds() else "test_loss"
