"""What a task kind hands the data check: one row per example of every split.

A kind builds ``CheckInputs`` in its ``Task.check_inputs`` (``core/tasks/<kind>.py``); everything
after that (out-of-fold models, cleanlab, duplicates, outliers, reasons) is shared and never names
a kind."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SPLITS = ("train", "val", "test")
THUMBNAIL_PX = 72


def row_previews(frame: pd.DataFrame, columns: int = 4) -> list[str]:
    """'city=Leeds, area_m2=61.5, …' per table row (its first ``columns`` columns), masked."""
    from core.output import mask_label
    from core.privacy import mask_frame

    shown = mask_frame(frame.iloc[:, :columns].astype(str))
    return [", ".join(f"{mask_label(c)}={v}" for c, v in row.items()) for row in shown.to_dict("records")]


def thumbnail_url(pixels: np.ndarray, size: int = THUMBNAIL_PX) -> str:
    """A small JPEG of an (H, W, 3) uint8 image as a data URL, for review tables."""
    import base64
    import io

    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8))
    image.thumbnail((size, size))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


@dataclass
class CheckInputs:
    """``frame``: one row per example with ``split``, ``row`` (where it is in the user's data: a
    1-based file row or a file name, masked), ``preview`` (masked text shown to a person) and
    ``key`` (equal keys: exact duplicates, e.g. a hash of the normalised text or the row);
    optionally ``thumbnail`` (images: a small JPEG data URL, from ``thumbnail_url``).
    ``features``: (examples, d) float32 for the out-of-fold model and near duplicates.
    Classification: ``labels`` (class index) and ``label_names``; regression: ``targets``.
    ``numeric``: raw numeric columns, for feature outliers (tables)."""

    frame: pd.DataFrame
    features: np.ndarray
    feature_note: str
    labels: np.ndarray | None = None
    label_names: list[str] | None = None
    targets: np.ndarray | None = None
    target_name: str = "target"
    numeric: pd.DataFrame | None = None
    near_duplicates: bool = True  # False: features are not embeddings (near means nothing)
    notices: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.frame)
        if self.features.shape[0] != n:
            raise ValueError(f"{self.features.shape[0]} feature rows for {n} examples")
        for name in ("split", "row", "preview", "key"):
            if name not in self.frame.columns:
                raise ValueError(f"CheckInputs.frame lacks the column {name!r}")

    @property
    def is_classification(self) -> bool:
        return self.labels is not None
