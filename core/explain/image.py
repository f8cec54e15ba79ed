"""Explanations of image runs: SHAP heat maps over image regions (``shap_image``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from core.datasets.image_transforms import eval_crop
from core.errors import LoupeError
from core.explain import shap_image
from core.explain.base import Explainer, Job, check_params, chosen_classes
from core.explain.image_regions import DEFAULT_REGIONS, superpixels
from core.explain.result import Explanation


class ImageExplainer(Explainer):
    methods = ("shap",)
    input_hint = "pass an image file (--input photo.jpg)."

    def explain(self, job: Job, input: Any, method: str, target_class: Any,
                params: dict[str, Any]) -> Explanation:
        image = input
        opts = check_params(params, {"max_evals": shap_image.DEFAULT_MAX_EVALS, "mask": "auto",
                                     "output": "probability", "batch_size": None,
                                     "regions": DEFAULT_REGIONS,
                                     "fixed_context": shap_image.CONTEXT}, "image SHAP")
        opts["target_class"] = chosen_classes(target_class)
        opts["device"] = job.device_type()  # the default batch size (and so the Owen order) follows it
        raw, name = _image_bytes(image)
        predictor = None

        def compute() -> Explanation:
            nonlocal predictor
            predictor = job.predictor()
            return shap_image.explain_image(predictor, image, job.run_id, opts["target_class"],
                                            opts["max_evals"], opts["mask"], opts["output"],
                                            opts["batch_size"], job.progress, regions=opts["regions"],
                                            fixed_context=opts["fixed_context"])

        result = job.cached("shap", raw, opts, name, compute)
        if "image" not in result.arrays:  # served from the cache: pixels and outlines are never stored
            predictor = predictor or job.predictor()
            array, _ = shap_image.load_image(image, predictor)
            crop = eval_crop(array, predictor.prep)
            result.arrays.update(image=crop, photo=array,
                                 segments=superpixels(crop, int(result.info.get("regions_asked",
                                                                               opts["regions"]))))
        return result

    def cli_params(self, method: str) -> tuple[str, ...]:
        return ("max_evals", "output", "mask", "regions")

    def cli_input(self, value: str, is_file: bool, read_file: Callable[[], Any]) -> Any:
        return Path(value).expanduser()  # a missing file is named by ``explain``

    def edited_input(self, original: Any, edited: Any, changes: list[str], columns: Any) -> Any:
        edited = super().edited_input(original, edited, changes, columns)
        return Path(edited).expanduser() if isinstance(edited, str) else edited

    def counterfactual(self, run_id: str, input: Any, store: Any, options: dict[str, Any]) -> Any:
        from core.whatif import image_counterfactual

        return image_counterfactual(run_id, input, store, options.get("device", "auto"))

    def figures(self, expl: Explanation, **options: Any) -> dict[str, Any]:
        from core.explain.figures import image_overlay

        crop, segments = expl.arrays.get("image"), expl.arrays.get("segments")
        if crop is None or segments is None:
            return {}
        photo = expl.arrays.get("photo", crop)
        box = expl.info.get("crop_box") or [0, 0, crop.shape[1], crop.shape[0]]
        return {f"overlay_{label}": image_overlay(photo, expl.values[:, j], segments, label, box)
                for j, label in enumerate(expl.labels)}


def _image_bytes(image: Any) -> tuple[bytes, str]:
    """The bytes the cache fingerprints and the name it stores (never the pixels)."""
    if isinstance(image, (str, Path)):
        path = Path(image)
        if not path.is_file():
            raise LoupeError(f"The image {path} does not exist.", "check the path.")
        return path.read_bytes(), path.name
    if isinstance(image, bytes):
        return image, "uploaded image"
    if isinstance(image, np.ndarray):
        return np.ascontiguousarray(image).tobytes() + repr(image.shape).encode(), "image array"
    if hasattr(image, "tobytes") and hasattr(image, "size"):  # PIL image
        name = Path(getattr(image, "filename", "") or "image").name
        return image.tobytes() + repr((image.size, image.mode)).encode(), name
    raise LoupeError(f"Cannot explain a {type(image).__name__} as an image.",
                     "pass a file path, bytes, a PIL image or an RGB array.")
