"""Plotly figures at the output boundary: every text-bearing string masked (labels, hover texts,
titles, tick texts), numbers and arrays untouched. Used by the HTML report, explanation files and
(through them) anything that embeds a figure."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.output.masking import mask_message

FIGURE_TEXT_KEYS = {"text", "hovertext", "x", "y", "labels", "ticktext", "name", "title", "customdata",
                    "ids", "parents", "header", "cells", "values", "legendgrouptitle", "hovertemplate"}


def mask_figure(fig: Any) -> Any:
    """A copy of a plotly figure with every text-bearing string masked."""
    import plotly.graph_objects as go

    raw = go.Figure(fig).to_plotly_json()

    def walk(value: Any, key: str | None) -> Any:
        if key == "template":
            return value
        if isinstance(value, dict):  # a string is masked when its own key is a text key
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "OUS":
                return [walk(v, key) for v in value.tolist()]
            return value
        if isinstance(value, (list, tuple)):
            return [walk(v, key) for v in value]
        if isinstance(value, str) and key in FIGURE_TEXT_KEYS:
            return mask_message(value)
        return value

    return go.Figure(walk(raw, None))
