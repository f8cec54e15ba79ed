"""An image classifier served from a deploy bundle with its runtime packages only (no torch):
Pillow decodes through the training decode path (``core.datasets.image_transforms``, numpy
only), onnxruntime runs the model, and the frame is the one ``ImagePredictor.predict`` makes.

``ImageRequests`` is the request check the Loupe server and the bundle's server share."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from core.datasets.image_transforms import ImageProblem, Preprocess, decode_image, eval_array
from core.errors import LoupeError

CONFIG_FILE = "config.json"
LABELS_FILE = "labels.json"
BATCH = 32


class ImageRequests:
    """One image of a JSON request (base64 of the file's bytes), decoded."""

    def request_input(self, value: Any, field: str) -> np.ndarray:
        if not isinstance(value, str):
            raise LoupeError(f"{field} must be an image as a base64 text, not {type(value).__name__}.",
                             'send {"input": "<base64 of a JPEG or PNG file>"}.')
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise LoupeError(f"{field} is not valid base64 ({exc}).",
                             "encode the image file's bytes with base64.") from exc
        try:
            return decode_image(data)
        except ImageProblem as exc:
            raise LoupeError(f"{field}: the image {exc}.",
                             "send a JPEG, PNG, WebP, BMP or GIF file.") from exc

    def request_example(self, predictor: Any) -> str:
        return "<base64 of a JPEG or PNG file>"


class ImageServing(ImageRequests):
    """The bundle's image model: ``predict(arrays)`` -> the Predict page's frame."""

    requirements = ("pillow>=10",)

    def __init__(self, folder: Path, session: Any) -> None:
        meta = json.loads((folder / CONFIG_FILE).read_text())
        self.labels: list[str] = list(json.loads((folder / LABELS_FILE).read_text()))
        self.prep = Preprocess.from_json(meta["preprocess"])
        self.short_side = meta.get("decode_short_side") or self.prep.resize_size
        self.session = session
        self.input_name = session.get_inputs()[0].name

    def predict(self, inputs: list[np.ndarray]) -> pd.DataFrame:
        pixels = [eval_array(decode_image(Image.fromarray(np.asarray(a, dtype=np.uint8)), self.short_side),
                             self.prep) for a in inputs]
        probs = np.zeros((len(pixels), len(self.labels)), dtype=np.float32)
        for start in range(0, len(pixels), BATCH):
            batch = np.stack(pixels[start:start + BATCH]).astype(np.float32)
            logits = np.asarray(self.session.run(None, {self.input_name: batch})[0], dtype=np.float32)
            exp = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs[start:start + len(batch)] = exp / exp.sum(axis=1, keepdims=True)
        frame = pd.DataFrame({"image": [f"image {i + 1}" for i in range(len(pixels))],
                              "prediction": [self.labels[i] for i in probs.argmax(axis=1)],
                              "confidence": probs.max(axis=1)})
        for j, label in enumerate(self.labels):
            frame[f"p_{label}"] = probs[:, j]
        return frame
