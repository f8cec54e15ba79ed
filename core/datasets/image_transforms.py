"""Decoding and preprocessing of images in PIL/numpy/torch (torchvision does not import beside the
project's torch build).

One decode path (``decode_image``) serves training, evaluation and prediction, so a reloaded model
sees exactly the pixels it was validated on. Decoding is defensive: a pixel cap refuses
decompression bombs before any pixel is allocated, truncated or non-image files raise
``ImageProblem`` with a reason the ingestion report can list, EXIF orientation is applied and
every mode (L, LA, P, RGBA, CMYK, I;16, …) ends up as 8-bit RGB.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageOps

if TYPE_CHECKING:  # torch loads on first tensor: a deploy bundle's runtime decodes without it
    import torch

MAX_IMAGE_PIXELS = 50_000_000  # 50 megapixels: larger images are refused as possible bombs
# Stricter than Pillow's default (~89 MP): Pillow warns above this and raises above twice it; we
# turn the warning into a refusal too (see decode_image).
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# Set once at import rather than with catch_warnings per call: warning filters are process-global
# and not thread-safe, and images are decoded from a thread pool.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif")
ACCEPTED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "BMP", "GIF")  # MPO: JPEG from many cameras

# What the packaged EfficientNet-Lite0 was trained with (TF Lite: (x - 127) / 128). Measured on
# the cats/dogs photos it beats ImageNet mean/std slightly for zero-shot ImageNet top-1.
LITE_MEAN = (127.0 / 255, 127.0 / 255, 127.0 / 255)
LITE_STD = (128.0 / 255, 128.0 / 255, 128.0 / 255)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF_MEAN = (0.5, 0.5, 0.5)
HALF_STD = (0.5, 0.5, 0.5)


class ImageProblem(Exception):
    """Why one file cannot be used; collected into the ingestion report, never shown raw."""


def decode_image(
    source: str | Path | bytes | Image.Image,
    short_side: int | None = None,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> np.ndarray:
    """Decode to an RGB uint8 array (H, W, 3), optionally shrunk so the shorter side is
    ``short_side`` (never enlarged). Raises ``ImageProblem`` with a human reason.

    JPEGs are decoded with Pillow's draft mode at the smallest DCT scale that still covers
    ``short_side``: four to eight times less work for photos larger than the training size.
    """
    if isinstance(source, Image.Image):
        return _finish(source, short_side)
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
    except OSError as exc:
        raise ImageProblem(f"cannot be read ({exc.strerror or exc})") from exc
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > max_pixels:
            raise ImageProblem(_bomb_reason(width, height, max_pixels))
        if image.format not in ACCEPTED_FORMATS:
            raise ImageProblem(f"unsupported image format {image.format}")
        if short_side and image.format in ("JPEG", "MPO"):
            image.draft("RGB", (short_side, short_side))
        image.load()
    except ImageProblem:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageProblem(f"refused as a possible decompression bomb ({exc})") from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageProblem("not an image (the content is not a JPEG/PNG/WebP/BMP/GIF)") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise ImageProblem(f"truncated or corrupt image ({exc})") from exc
    return _finish(image, short_side)


def _bomb_reason(width: int, height: int, max_pixels: int) -> str:
    return (
        f"refused as a possible decompression bomb: {width}x{height} = {width * height:,} pixels "
        f"is over the {max_pixels:,} pixel cap"
    )


def _finish(image: Image.Image, short_side: int | None) -> np.ndarray:
    # A broken EXIF block must not lose an otherwise good image.
    with contextlib.suppress(Exception):
        image = ImageOps.exif_transpose(image) or image
    rgb = to_rgb(image)
    if short_side and min(rgb.size) > short_side:
        scale = short_side / min(rgb.size)
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
    return np.asarray(rgb, dtype=np.uint8)


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode to RGB: transparency is composited on white (what a viewer shows),
    16/32-bit greyscale is rescaled to 8 bits instead of clipped, CMYK is converted."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(image, dtype=np.float64)
        low, high = float(arr.min()), float(arr.max())
        scaled = (arr - low) / (high - low) * 255.0 if high > low else np.zeros_like(arr)
        return Image.fromarray(scaled.astype(np.uint8), "L").convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


@dataclass(frozen=True)
class Preprocess:
    """Geometry and normalisation of the model input; stored in the artifact's config.json."""

    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    crop_pct: float = 0.875  # eval: resize the shorter side to size / crop_pct, centre-crop size
    flip: bool = True  # training: random horizontal flip (off for digits and text-like images)
    crop_scale: tuple[float, float] = (0.35, 1.0)  # training: random resized crop area range
    jitter: float = 0.2  # training: brightness/contrast/saturation strength (0 = off)

    @property
    def resize_size(self) -> int:
        """Shorter side used for eval; also the resolution decoded images are cached at."""
        return max(self.image_size, math.ceil(self.image_size / self.crop_pct))

    def to_json(self) -> dict[str, Any]:
        return {
            "image_size": self.image_size,
            "mean": list(self.mean),
            "std": list(self.std),
            "crop_pct": self.crop_pct,
            "flip": self.flip,
            "crop_scale": list(self.crop_scale),
            "jitter": self.jitter,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Preprocess:
        return cls(
            image_size=int(raw["image_size"]),
            mean=tuple(raw["mean"]),  # type: ignore[arg-type]
            std=tuple(raw["std"]),  # type: ignore[arg-type]
            crop_pct=float(raw.get("crop_pct", 0.875)),
            flip=bool(raw.get("flip", True)),
            crop_scale=tuple(raw.get("crop_scale", (0.35, 1.0))),  # type: ignore[arg-type]
            jitter=float(raw.get("jitter", 0.0)),
        )


def eval_crop(array: np.ndarray, prep: Preprocess) -> np.ndarray:
    """The (size, size, 3) uint8 crop the model sees: the shorter side resized to ``resize_size``,
    then the centre ``image_size`` square (explanations draw on exactly this crop)."""
    image = Image.fromarray(array)
    size, resize = prep.image_size, prep.resize_size
    scale = resize / min(image.size)
    w, h = max(size, round(image.width * scale)), max(size, round(image.height * scale))
    left, top = (w - size) / 2 / scale, (h - size) / 2 / scale
    box = (left, top, left + size / scale, top + size / scale)
    return np.asarray(image.resize((size, size), Image.Resampling.BILINEAR, box=box), dtype=np.uint8)


def eval_array(array: np.ndarray, prep: Preprocess) -> np.ndarray:
    """Resize the shorter side to ``resize_size``, centre-crop ``image_size``, normalise: the
    (3, H, W) float32 array the model reads (numpy only)."""
    return normalised(eval_crop(array, prep), prep)


def eval_tensor(array: np.ndarray, prep: Preprocess) -> torch.Tensor:
    """``eval_array`` as a tensor."""
    import torch

    return torch.from_numpy(eval_array(array, prep))


def train_tensor(
    array: np.ndarray, prep: Preprocess, gen: torch.Generator | None = None
) -> torch.Tensor:
    """Random resized crop + horizontal flip + light colour jitter, then normalise.

    Randomness comes from torch so that DataLoader workers (which torch seeds one by one) draw
    different crops instead of numpy's duplicated state.
    """
    image = Image.fromarray(array)
    width, height = image.size
    area = width * height
    box = (0.0, 0.0, float(width), float(height))
    for _ in range(10):
        target = area * _uniform(*prep.crop_scale, gen=gen)
        ratio = math.exp(_uniform(math.log(3 / 4), math.log(4 / 3), gen=gen))
        w, h = math.sqrt(target * ratio), math.sqrt(target / ratio)
        if w <= width and h <= height:
            left, top = _uniform(0, width - w, gen=gen), _uniform(0, height - h, gen=gen)
            box = (left, top, left + w, top + h)
            break
    size = prep.image_size
    out = image.resize((size, size), Image.Resampling.BILINEAR, box=box)
    if prep.flip and _uniform(0, 1, gen=gen) < 0.5:
        out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    pixels = np.asarray(out)
    if prep.jitter > 0:
        pixels = _jitter(pixels, prep.jitter, gen)
    return _normalise(pixels, prep)


def _uniform(low: float, high: float, gen: torch.Generator | None = None) -> float:
    import torch

    return low + (high - low) * float(torch.rand((), generator=gen))


def _jitter(pixels: np.ndarray, strength: float, gen: torch.Generator | None) -> np.ndarray:
    """Brightness, contrast and saturation each scaled by a factor in [1-s, 1+s].

    The three steps are affine in the pixels and their grey value, so they fold into one
    ``a * x + b * grey + c`` pass (one float copy instead of six; the same numbers up to float
    rounding): brightness scales x; contrast moves it towards the image's mean grey; saturation
    towards each pixel's grey."""
    bright, contrast, sat = (_uniform(1 - strength, 1 + strength, gen=gen) for _ in range(3))
    x = pixels.astype(np.float32)
    grey = x @ _GREY  # of the original pixels; each step scales or shifts it like the pixels
    mean = float(grey.mean()) * bright
    a = sat * contrast * bright
    b = (1 - sat) * contrast * bright
    c = (1 - contrast) * mean * (sat + (1 - sat) * float(_GREY.sum()))
    x *= np.float32(a)
    x += (grey * np.float32(b))[..., None] + np.float32(c)
    return np.clip(x, 0, 255, out=x)


_GREY = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def normalised(pixels: np.ndarray, prep: Preprocess) -> np.ndarray:
    """(H, W, 3) pixels 0-255 -> (3, H, W) float32, minus mean, over std (in float32)."""
    x = np.ascontiguousarray(pixels, dtype=np.float32).transpose(2, 0, 1)
    mean = np.asarray(prep.mean, dtype=np.float32).reshape(3, 1, 1) * np.float32(255.0)
    std = np.asarray(prep.std, dtype=np.float32).reshape(3, 1, 1) * np.float32(255.0)
    return np.ascontiguousarray((x - mean) / std, dtype=np.float32)


def _normalise(pixels: np.ndarray, prep: Preprocess) -> torch.Tensor:
    import torch

    return torch.from_numpy(normalised(pixels, prep))


def thumbnail_data_uri(array: np.ndarray, side: int = 96) -> str:
    """A small JPEG as a data URI, so a report's gallery shows images even after files move."""
    import base64

    image = Image.fromarray(array)
    scale = side / max(image.size)
    if scale < 1 or max(image.size) < 32:  # enlarge tiny (8x8) images so they can be seen
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        resample = Image.Resampling.NEAREST if scale > 1 else Image.Resampling.BILINEAR
        image = image.resize(size, resample)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
