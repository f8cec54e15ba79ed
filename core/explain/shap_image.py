"""SHAP for image runs: superpixel attributions with shap's Partition explainer.

The image SHAP sees is the model's own input crop (decode, resize, centre-crop exactly as
``eval_tensor`` does) as uint8 RGB, so the map is aligned pixel for pixel with the image that is
shown, and f(crop) equals the prediction. The crop is cut into ~200 superpixels that follow its
edges (``core.explain.image_regions``); a balanced tree groups them, and shap's Partition
explainer (its public API: ``shap.explainers.Partition`` with a ``shap.maskers.Partition``
holding that tree) spends ``max_evals`` model calls refining the groups that matter, down to
single superpixels. It runs with ``fixed_context=1`` (shap's own option): each split of a
region is judged with the rest of the picture shown, two model calls per split, so ~2 x regions
calls give every superpixel its own value (Owen values, ``fixed_context=None``, spend four
visits per split and reach only ~60 distinct regions in 500 calls). A hidden region is
replaced by a blurred copy of the image ("blur(k,k)": a k x k box blur, like shap's cv2 blur)
or by its mean colour ("mean").

Why not shap's Image masker: its features are single pixels and channels (150,528 at 224 px)
split into axis-aligned halves, so 500 calls end at an ~8 x 8 grid of rectangles cutting across
objects, and building its pixel tree costs seconds. ``benchmarks/image_shap_bench.py`` measures
both on a real photo.

Values are one number per region and class (``values`` (regions, classes)); per class they sum
to f(image) - f(fully hidden image). Nothing about the image is stored: the cache keeps the file
name and the region values; the crop and its superpixels are recomputed on a cache hit.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image, ImageFilter

from core.datasets.image_transforms import eval_crop
from core.errors import LoupeError
from core.explain.common import (
    Progress,
    ProgressFn,
    device_batch_size,
    pick_classes,
    prediction_summary,
    prepare_shap,
    reproducible_ties,
    to_output,
)
from core.explain.image_regions import DEFAULT_REGIONS, RegionImages, region_tree, superpixels
from core.explain.result import Explanation

DEFAULT_MAX_EVALS = 300  # with DEFAULT_REGIONS and one context: every superpixel gets its own value
CONTEXT = 1  # shap's fixed_context: a region is judged with the rest of the picture shown


def mask_image(crop: np.ndarray, mask: str = "auto") -> tuple[np.ndarray, str]:
    """What hidden pixels become: a box-blurred copy ("blur(k,k)"), or the mean colour ("mean")."""
    size = crop.shape[0]
    if mask == "auto":
        k = max(3, size // 2)
        mask = f"blur({k},{k})"
    found = re.fullmatch(r"blur\((\d+),\s*(\d+)\)", mask.strip())
    if found:
        k = max(int(found.group(1)), int(found.group(2)))
        blurred = Image.fromarray(crop).filter(ImageFilter.BoxBlur(max(1, k // 2)))
        return np.asarray(blurred, dtype=np.float32), mask
    if mask == "mean":
        return np.broadcast_to(crop.reshape(-1, 3).mean(axis=0), crop.shape).astype(np.float32), mask
    raise LoupeError(f"Unknown image mask '{mask}'.", "use auto, blur(k,k) (e.g. blur(16,16)) or mean.")


class ImageModelFunction:
    """f((n, H, W, 3) pixel arrays, 0-255) -> (n, classes) outputs, in device-sized chunks."""

    def __init__(self, predictor: Any, output: str = "probability", batch_size: int | None = None,
                 progress: Progress | None = None) -> None:
        self.predictor, self.output, self.progress = predictor, output, progress
        size = predictor.prep.image_size
        self.batch_size = batch_size or device_batch_size(
            predictor.runtime, cpu=256 if size <= 64 else 32, gpu=1024 if size <= 64 else 256)
        self.mean = torch.tensor(predictor.prep.mean, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
        self.std = torch.tensor(predictor.prep.std, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
        self.calls = 0
        self.evals = 0

    def __call__(self, images: np.ndarray) -> np.ndarray:
        from core.runtime import inference_mode

        images = np.asarray(images, dtype=np.float32)
        self.calls += 1
        self.evals += len(images)
        runtime = self.predictor.runtime
        outs = []
        with inference_mode(runtime):
            for start in range(0, len(images), self.batch_size):
                chunk = torch.from_numpy(images[start:start + self.batch_size]).permute(0, 3, 1, 2)
                pixels = ((chunk - self.mean) / self.std).to(runtime.device)
                if pixels.is_cuda:
                    pixels = pixels.contiguous(memory_format=torch.channels_last)
                logits = self.predictor.model(pixels).float()
                outs.append(torch.softmax(logits, -1).cpu().numpy())
        if self.progress is not None:
            self.progress.step(len(images))
        probs = np.concatenate(outs) if outs else np.zeros((0, len(self.predictor.labels)))
        return to_output(probs.astype(np.float64), self.output)


def load_image(source: Any, predictor: Any) -> tuple[np.ndarray, str]:
    """Decode a path, bytes, PIL image or array the way the predictor does; (array, name)."""
    from core.datasets.image_transforms import ImageProblem, decode_image

    name = Path(source).name if isinstance(source, (str, Path)) else "image"
    try:
        if isinstance(source, np.ndarray):
            source = Image.fromarray(np.clip(source, 0, 255).astype(np.uint8))
        array = decode_image(source, predictor.short_side)
    except ImageProblem as exc:
        raise LoupeError(f"Cannot explain {name}: {exc}.",
                         "give a JPEG, PNG, WebP, BMP or GIF image.") from exc
    return array, name


def crop_box(array: np.ndarray, prep: Any) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of the model's crop in ``array``'s pixels (what ``eval_crop`` cuts)."""
    height, width = array.shape[:2]
    scale = prep.resize_size / min(height, width)
    w, h = max(prep.image_size, round(width * scale)), max(prep.image_size, round(height * scale))
    left, top = (w - prep.image_size) / 2 / scale, (h - prep.image_size) / 2 / scale
    side = prep.image_size / scale
    return (float(left), float(top), float(left + side), float(top + side))


def explain_image(predictor: Any, image: Any, run_id: str = "", target_class: Any = None,
                  max_evals: int = DEFAULT_MAX_EVALS, mask: str = "auto", output: str = "probability",
                  batch_size: int | None = None, progress: ProgressFn | None = None,
                  fn_hook: Any = None, regions: int = DEFAULT_REGIONS,
                  fixed_context: int | None = CONTEXT) -> Explanation:
    """SHAP values per superpixel (regions, classes) for the predicted and chosen classes."""
    shap = prepare_shap()
    array, name = load_image(image, predictor)
    crop = eval_crop(array, predictor.prep)
    tick = Progress(progress, max_evals, "SHAP (image)")
    fn = ImageModelFunction(predictor, output, batch_size, tick)
    if fn_hook is not None:
        fn_hook(fn)
    labels = list(predictor.labels)
    probs = ImageModelFunction(predictor, "probability", fn.batch_size)(crop[None].astype(np.float32))[0]
    classes = pick_classes(target_class, labels, int(np.argmax(probs)))
    background, mask = mask_image(crop, mask)
    segments = superpixels(crop, regions)
    render = RegionImages(crop, background, segments)
    tree = region_tree(segments)
    masker = shap.maskers.Partition(np.zeros((1, render.regions)), clustering=tree)
    explainer = shap.explainers.Partition(lambda z: fn(render(z)), masker, output_names=labels)
    max_evals = max(int(max_evals), 10)
    with reproducible_ties():
        result = explainer(np.ones((1, render.regions)), max_evals=max_evals, batch_size=fn.batch_size,
                           outputs=classes, fixed_context=fixed_context, silent=True)
    tick.done("SHAP (image): done")
    values = np.asarray(result.values[0], dtype=np.float64).reshape(render.regions, len(classes))
    base = np.asarray(result.base_values[0], dtype=np.float64).reshape(len(classes))
    outputs = to_output(probs.astype(np.float64)[None, :], output)[0]
    prediction = prediction_summary(probs, labels)
    prediction["output"] = output
    prediction["explained_outputs"] = {labels[c]: float(outputs[c]) for c in classes}
    pixels = np.bincount(segments.ravel(), minlength=render.regions)
    table = pd.DataFrame({"region": np.arange(render.regions), "pixels": pixels,
                          "share": pixels / pixels.sum()})
    for j, c in enumerate(classes):
        table[f"shap_{labels[c]}"] = values[:, j]
    return Explanation(
        run_id=run_id, kind="image", method="shap", values=values, base_value=base,
        frames={"regions": table},
        prediction=prediction, labels=[labels[c] for c in classes], target_classes=classes,
        arrays={"image": crop, "segments": segments, "photo": array}, input_label=name,
        info={"explainer": "partition", "features": "superpixels", "regions": render.regions,
              "regions_asked": int(regions), "fixed_context": fixed_context,
              "masker": mask, "max_evals": max_evals, "output": output,
              "size": [int(crop.shape[0]), int(crop.shape[1])],
              "crop_box": list(crop_box(array, predictor.prep)), "batch_size": fn.batch_size,
              "model_calls": fn.calls, "evaluations": fn.evals},
    )
