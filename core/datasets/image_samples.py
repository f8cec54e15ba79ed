"""Built-in image samples that need no download: scikit-learn's bundled digits (real 8x8 scans)
and a generated set of coloured shapes (also written to disk by ``data/make_shapes.py``).
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from core.datasets.samples import sample_source
from core.errors import LoupeError, suggest

if TYPE_CHECKING:  # the pool and loader import torch: `loupe samples` reads SAMPLES without it
    from core.datasets.images import LoadedImages

SAMPLES = {
    "digits": "1,797 real 8x8 scans of handwritten digits, 10 classes (scikit-learn)",
    "shapes": "generated coloured circles, squares and triangles, 3 classes (for quick tests)",
}
SHAPES = ("circle", "square", "triangle")


def digits() -> tuple[list[np.ndarray], list[int], list[str]]:
    """The digits as RGB uint8 arrays (grey replicated: every model reads three channels)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    grey = np.clip(bunch.images * (255.0 / 16.0), 0, 255).astype(np.uint8)
    arrays = [np.repeat(img[:, :, None], 3, axis=2) for img in grey]
    return arrays, [int(t) for t in bunch.target], [str(n) for n in bunch.target_names]


def draw_shape(kind: str, size: int, rng: np.random.Generator, tilt: float = 20.0) -> np.ndarray:
    """One shape of random colour, size, position and tilt (up to ``tilt`` degrees from upright)
    on a random light background, with a little pixel noise."""
    background = tuple(int(v) for v in rng.integers(150, 256, 3))
    colour = tuple(int(v) for v in rng.integers(0, 120, 3))
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    radius = size * rng.uniform(0.28, 0.42)
    cx, cy = (size / 2 + rng.uniform(-0.08, 0.08) * size for _ in range(2))
    if kind == "circle":
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=colour)
    else:
        corners = 4 if kind == "square" else 3
        start = -math.pi / 2 + (math.pi / 4 if corners == 4 else 0.0)  # flat-bottomed
        angle = start + math.radians(rng.uniform(-tilt, tilt))
        points = [
            (cx + radius * math.cos(angle + 2 * math.pi * i / corners),
             cy + radius * math.sin(angle + 2 * math.pi * i / corners))
            for i in range(corners)
        ]
        draw.polygon(points, fill=colour)
    noise = rng.normal(0, 5, (size, size, 3))
    return np.clip(np.asarray(image, dtype=np.float32) + noise, 0, 255).astype(np.uint8)


def shapes(
    per_class: int = 100, size: int = 32, seed: int = 0, tilt: float = 20.0
) -> tuple[list[np.ndarray], list[int], list[str]]:
    """``per_class`` images of each shape, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    arrays, labels = [], []
    for label, kind in enumerate(SHAPES):
        for _ in range(per_class):
            arrays.append(draw_shape(kind, size, rng, tilt))
            labels.append(label)
    return arrays, labels, list(SHAPES)


def load_sample(
    name: str,
    short_side: int,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    max_images: int | None = None,
) -> LoadedImages:
    """A sample as the task's loader returns a folder: in-memory pixels, stratified splits."""
    from core.datasets.image_dataset import ImagePool, ImageRecord, stratified_split
    from core.datasets.images import IngestionReport, LoadedImages

    if name == "digits":
        arrays, labels, names = digits()
    elif name == "shapes":
        arrays, labels, names = shapes()
    else:
        raise LoupeError(f"There is no image sample '{name}'.", suggest(name, SAMPLES))
    layout = "built-in sample"
    if max_images and len(arrays) > max_images:
        keep = np.sort(np.random.default_rng(seed).permutation(len(arrays))[:max_images])
        layout += f"; a random {max_images:,} of {len(arrays):,} images used"
        arrays, labels = [arrays[i] for i in keep], [labels[i] for i in keep]
    records = [ImageRecord(f"{name}/{i}", label) for i, label in enumerate(labels)]
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(array.tobytes())
    report = IngestionReport(
        source=sample_source(name), layout=layout, files_seen=len(arrays),
        classes={n: labels.count(i) for i, n in enumerate(names)},
    )
    splits = stratified_split(labels, list(range(len(labels))), val_fraction, test_fraction, seed)
    pool = ImagePool(records, list(arrays), short_side)
    return LoadedImages(pool, names, splits, report, digest.hexdigest())
