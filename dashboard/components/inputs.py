"""One-input forms per task kind for Predict (and Explain): a row form, a text box, an image upload.

``INPUT_FORMS[kind](predictor, key, submit=label)`` renders the widgets and returns the input in the form the
kind's ``Predictor.predict`` takes (a dict row, a string, a PIL image), or None until submitted.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from core import plots
from core.errors import LoupeError
from core.output import mask_message, mask_table, md
from core.privacy import mask_frame

IMAGE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]


def tabular_form(predictor: Any, key: str, submit: str = "Predict") -> dict[str, Any] | None:
    """A field per training column: numbers start at the training median, categories at the mode."""
    prep = predictor.prep
    with st.form(f"row_{key}"):
        st.caption(f"Predicts **{md(prep.target)}** from {len(prep.input_columns)} columns "
                   "(values start at the training median / most frequent category).")
        cols = st.columns(3)
        row: dict[str, Any] = {}
        for i, name in enumerate(prep.numeric):  # labels are Markdown: masked and escaped
            row[name] = cols[i % 3].number_input(md(name), value=float(prep.medians.get(name, 0.0)),
                                                 format="%.4g", key=f"{key}_num_{name}")
        offset = len(prep.numeric)
        for i, name in enumerate(prep.categorical):
            options = list(prep.categories.get(name, []))
            fill = prep.fills.get(name)
            shown = _masked_options(name, options)  # the raw value is chosen, the masked one shown
            row[name] = cols[(offset + i) % 3].selectbox(
                md(name), options, index=options.index(fill) if fill in options else 0,
                format_func=lambda v, shown=shown: shown.get(v, v), key=f"{key}_cat_{name}")
        submitted = st.form_submit_button(submit, type="primary")
    return row if submitted else None


def _masked_options(column: str, options: list[str]) -> dict[str, str]:
    """Category values as shown: masked in their column's context (a bare 'Tanaka' in a last_name
    column is a name), so a training value never reaches the screen raw."""
    if not options:
        return {}
    masked = mask_frame(pd.DataFrame({column: [str(o) for o in options]}), operator="hash")
    values = masked[column].tolist() if column in masked else ["<REDACTED>"] * len(options)
    return {o: mask_message(str(v)) for o, v in zip(options, values, strict=True)}


def text_form(predictor: Any, key: str, submit: str = "Predict") -> str | None:
    with st.form(f"text_{key}"):
        text = st.text_area("Text", height=120, key=f"{key}_text",
                            placeholder="Type or paste a review, e.g. 'Great value, works perfectly.'")
        submitted = st.form_submit_button(submit, type="primary")
    if not submitted:
        return None
    if not text.strip():
        raise LoupeError("The text is empty.", "type some text to classify.")
    return text


def image_form(predictor: Any, key: str, submit: str = "Predict") -> Any | None:
    upload = st.file_uploader("Image", type=IMAGE_TYPES, key=f"{key}_image",
                              help="One image; it is resized the way the model was trained.")
    if upload is None:
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(upload.getvalue()))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise LoupeError(f"'{upload.name}' is not a readable image ({exc}).",
                         "upload a PNG, JPEG, WebP, BMP or GIF file.") from None
    return image.convert("RGB")


INPUT_FORMS: dict[str, Callable[..., Any]] = {
    "tabular": tabular_form,
    "text": text_form,
    "image": image_form,
}


def show_prediction(result: pd.DataFrame, predictor: Any, image: Any = None) -> None:
    """The first row of a prediction frame: the value or class, and class probabilities as bars.
    Labels (the value and the ``p_`` headers) pass the output boundary first."""
    result = mask_table(result)
    row = result.iloc[0]
    probs = [c for c in result.columns if c.startswith("p_")]
    if image is not None:
        st.image(image, width=220)
    if "error" in result.columns and isinstance(row.get("error"), str):
        st.error(md(row["error"]))
        return
    target = getattr(getattr(predictor, "prep", None), "target", None)
    value = row["prediction"]
    shown = str(value) if isinstance(value, str) else plots.format_number(value)
    label = f"Predicted {mask_message(target)}" if target else "Predicted class" if probs else "Prediction"
    st.metric(label, shown,
              help="Probability of the predicted class below." if probs else None)
    if probs:
        labels = [c[2:] for c in probs]
        st.plotly_chart(plots.class_bars_figure(labels, [float(row[c]) for c in probs]), key="pred_bars")
