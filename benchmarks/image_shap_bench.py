"""Image SHAP on a real photo: Loupe's superpixel partition vs shap's Image masker (the former way).

Both sides explain the same photo with the same model (EfficientNet-Lite0 at 224 px, packaged
ImageNet backbone with a fresh 2-class head: the seconds do not depend on the head), the same
blurred background and the same batch size, in one process:

- anchor: ``shap.explainers.Partition(f, shap.maskers.Image(blurred, shape))(x, max_evals=500)``
  — what Loupe ran before issue 15 (pixels x channels as features, axis-aligned halves);
- Loupe: ``core.explain.shap_image.explain_image`` (~200 superpixels, a balanced tree over
  them, ``shap.maskers.Partition``, default max_evals).

Prints seconds, model evaluations and how fine each map is (distinct regions it shows, and the
median size of one in pixels), then the speed ratio.

    .venv/bin/python benchmarks/image_shap_bench.py [--photo PATH] [--anchor-evals 500]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PHOTO = ROOT.parent / "shared" / "data" / "cats-dogs-photos" / "cats" / "cat.1.jpg"


def lite0_predictor() -> object:
    from core.datasets.image_transforms import LITE_MEAN, LITE_STD, Preprocess
    from core.models import image_models as im
    from core.runtime import inference_runtime
    from core.tasks.image import ImagePredictor

    torch.manual_seed(0)
    labels = ["cats", "dogs"]
    model = im.build(im.resolve(im.LITE0), labels, pretrained=True)
    prep = Preprocess(224, LITE_MEAN, LITE_STD, 0.875)
    meta = {"labels": labels, "preprocess": prep.to_json(), "decode_short_side": prep.resize_size}
    return ImagePredictor(model, meta, inference_runtime("cpu"))


def distinct_regions(heat: np.ndarray) -> tuple[int, float]:
    """How many areas of equal value a map shows, and the median area in pixels."""
    _, counts = np.unique(np.round(heat, 12), return_counts=True)
    return len(counts), float(np.median(counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, default=DEFAULT_PHOTO)
    parser.add_argument("--anchor-evals", type=int, default=500)
    args = parser.parse_args()
    if not args.photo.is_file():
        sys.exit(f"No photo at {args.photo}: pass --photo PATH (any JPEG).")
    from core.datasets.image_transforms import eval_crop
    from core.explain.common import prepare_shap
    from core.explain.shap_image import ImageModelFunction, explain_image, load_image, mask_image

    shap = prepare_shap()
    predictor = lite0_predictor()
    array, _ = load_image(args.photo, predictor)
    crop = eval_crop(array, predictor.prep)
    print(f"photo {args.photo.name} {array.shape[1]}x{array.shape[0]} -> crop {crop.shape[1]}x"
          f"{crop.shape[0]} | {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, "
          f"load {os.getloadavg()[0]:.1f}")
    explain_image(predictor, args.photo, max_evals=20)  # warm: shap's first-call costs, threads

    fn = ImageModelFunction(predictor)
    background, _ = mask_image(crop)
    x = crop.astype(np.float32)
    started = time.perf_counter()
    masker = shap.maskers.Image(background, shape=x.shape)
    anchor = shap.explainers.Partition(fn, masker)(x[None], max_evals=args.anchor_evals,
                                                   batch_size=fn.batch_size, outputs=[0], silent=True)
    anchor_s = time.perf_counter() - started
    heat = np.asarray(anchor.values[0]).reshape(*x.shape, -1).sum(axis=2)[..., 0]
    a_regions, a_size = distinct_regions(heat)

    started = time.perf_counter()
    ours = explain_image(predictor, args.photo, target_class=0)
    ours_s = time.perf_counter() - started
    j = ours.target_classes.index(0)
    o_regions, o_size = distinct_regions(ours.values[:, j][ours.arrays["segments"]])

    print(f"anchor  shap Image masker : {anchor_s:6.1f} s, {fn.evals:4d} evaluations, "
          f"{a_regions} distinct regions (median {a_size:.0f} px)")
    print(f"Loupe   superpixel tree   : {ours_s:6.1f} s, {ours.info['evaluations']:4d} evaluations, "
          f"{o_regions} distinct regions (median {o_size:.0f} px) of {ours.info['regions']} superpixels")
    print(f"speed: Loupe is {anchor_s / ours_s:.2f}x the anchor")


if __name__ == "__main__":
    main()
