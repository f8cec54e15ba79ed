"""Image classification on the pages: a zip of class folders, one image upload, misclassified images."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import streamlit as st

from core.errors import LoupeError
from dashboard.kinds.base import Edit, KindView

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


GRID_POINTS = 40  # invisible points per side, so a box drawn on the image is a plotly selection


def _as_image(value: Any) -> Any:
    from PIL import Image

    if isinstance(value, (str, Path)):
        with Image.open(value) as image:
            return image.convert("RGB")
    return value.convert("RGB")


def _box_from_selection(event: Any, width: int, height: int) -> tuple[float, float, float, float] | None:
    """(left, top, right, bottom) in percent from a plotly box selection (or its points)."""
    selection = (event or {}).get("selection") or {}
    boxes = selection.get("box") or []
    if boxes:
        xs, ys = boxes[-1].get("x") or [], boxes[-1].get("y") or []
    else:
        points = selection.get("points") or []
        xs, ys = [p.get("x") for p in points], [p.get("y") for p in points]
    xs, ys = [float(v) for v in xs if v is not None], [float(v) for v in ys if v is not None]
    if len(xs) < 2 or len(ys) < 2 or max(xs) <= min(xs) or max(ys) <= min(ys):
        return None

    def pct(v: float, size: int) -> float:
        return round(min(max(v / size, 0.0), 1.0) * 100)

    return pct(min(xs), width), pct(min(ys), height), pct(max(xs), width), pct(max(ys), height)


def image_edit_form(predictor: Any, original: Any, key: str, run_id: str = "") -> Edit | None:
    """Draw a box on the image (or set it with the sliders) to blur or grey out that region."""
    import numpy as np
    import plotly.graph_objects as go

    from core.whatif.image import occlude_box

    image = _as_image(original)
    shown = image.copy()
    shown.thumbnail((480, 480))
    w, h = shown.size
    hkey, vkey, applied = f"{key}_box_x", f"{key}_box_y", f"{key}_box_applied"
    left, right = st.session_state.setdefault(hkey, (30, 70))
    top, bottom = st.session_state.setdefault(vkey, (30, 70))
    grid_x, grid_y = np.meshgrid(np.linspace(0, w, GRID_POINTS), np.linspace(0, h, GRID_POINTS))
    fig = go.Figure(go.Image(z=np.asarray(shown), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=grid_x.ravel(), y=grid_y.ravel(), mode="markers", hoverinfo="skip",
                             marker={"opacity": 0, "size": 6}, showlegend=False))
    fig.add_shape(type="rect", x0=left / 100 * w, x1=right / 100 * w, y0=top / 100 * h, y1=bottom / 100 * h,
                  line={"color": "#e4572e", "width": 2})
    fig.update_xaxes(visible=False, range=[0, w])
    fig.update_yaxes(visible=False, range=[h, 0], scaleanchor="x")
    fig.update_layout(dragmode="select", margin={"l": 0, "r": 0, "t": 24, "b": 0}, height=min(h + 40, 520),
                      title={"text": "Drag a box on the image", "font": {"size": 13}})
    picture, controls = st.columns([3, 2])
    with picture:
        event = st.plotly_chart(fig, on_select="rerun", selection_mode="box", key=f"{key}_box_chart",
                                config={"displayModeBar": False})
    box = _box_from_selection(event, w, h)
    if box is not None and box != st.session_state.get(applied):
        st.session_state[applied] = box
        st.session_state[hkey], st.session_state[vkey] = (box[0], box[2]), (box[1], box[3])
    with controls:
        left, right = st.slider("Box left → right (%)", 0, 100, key=hkey)
        top, bottom = st.slider("Box top → bottom (%)", 0, 100, key=vkey)
        fill = st.radio("Fill the box with", ["blur", "grey"], horizontal=True, key=f"{key}_fill")
        if right - left < 1 or bottom - top < 1:
            st.warning("The box is empty: widen it.")
            return None
        edited = occlude_box(image, (left / 100, top / 100, right / 100, bottom / 100), fill=fill)
        preview = edited.copy()
        preview.thumbnail((320, 320))
        st.image(preview, caption="Edited image (preview)")
    verb = "blurred" if fill == "blur" else "greyed out"
    return Edit(edited, [f"box {verb} at left {left}%, top {top}%, right {right}%, bottom {bottom}%"])


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
    edit_form=image_edit_form,
)
