"""Image classification on the pages: a zip of class folders, one image upload, misclassified images."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import streamlit as st

from core.errors import LoupeError
from dashboard.kinds.base import KindView

IMAGE_TYPES = ("png", "jpg", "jpeg", "webp", "bmp", "gif")


def image_form(predictor: Any, key: str, submit: str = "Predict") -> Any | None:
    upload = st.file_uploader("Image", type=list(IMAGE_TYPES), key=f"{key}_image",
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


def _image_from_uri(uri: str) -> Any:
    from PIL import Image

    data = base64.b64decode(uri.split(",", 1)[1])
    return Image.open(io.BytesIO(data)).convert("RGB")


def _image_examples(report: dict[str, Any]) -> list[tuple[str, Any]]:
    out = []
    for e in report.get("worst_val_images") or []:
        path = e.get("path")
        if path and Path(path).is_file():
            value: Any = Path(path)
        elif e.get("thumbnail"):
            value = _image_from_uri(e["thumbnail"])
        else:
            continue
        out.append((f"{e.get('name', 'image')}: true {e.get('true')} → {e.get('predicted')} "
                    f"({e.get('confidence', 0):.0%})", value))
    return out


VIEW = KindView(
    upload_types=("zip",),
    upload_help="A zip of a folder with one subfolder per class (cats/…, dogs/…); train/ val/ test/ "
                "folders are honoured.",
    input_form=image_form,
    input_image=True,
    batch_types=("zip", *IMAGE_TYPES),
    method_labels={"shap": "SHAP overlay"},
    examples=_image_examples,
)
