"""The smallest set of SHAP regions whose occlusion flips an image run's predicted class.

The regions are the superpixels of the image's SHAP explanation (``explain``, cached), and an
occluded region takes the explanation's own hidden-pixel fill (a blurred copy by default), so
what is searched is what the heat map shows. Regions are ranked by their SHAP value for the
predicted class; occluding the top 1, 2, … regions goes to the model in one batch, the first
edit that changes the class is kept, then regions are restored (weakest first) while the class
stays flipped. The result's ``image`` is the occluded crop (never stored or cached).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.explain.image_regions import RegionImages
from core.explain.shap_image import ImageModelFunction, mask_image

MAX_REGIONS = 60  # occluding more than this is no longer a "smallest" change worth showing


@dataclass
class ImageCounterfactual:
    found: bool
    original_label: str
    new_label: str
    original_probabilities: dict[str, float]
    new_probabilities: dict[str, float]
    regions: list[int]  # the occluded SHAP regions
    pixel_share: float  # of the model's crop
    model_calls: int
    evaluations: int
    seconds: float
    image: np.ndarray | None = None  # the occluded crop (uint8), for display only
    notices: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "image"}

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"region": self.regions})

    def summary(self) -> str:
        """One sentence for people (labels masked)."""
        from core.output import mask_label

        if not self.found:
            return "No change found: occluding the strongest SHAP regions does not change the decision."
        return (f"Occluding {len(self.regions)} region{'s' if len(self.regions) != 1 else ''} "
                f"({self.pixel_share:.1%} of the model's crop) changes {mask_label(self.original_label)} "
                f"to {mask_label(self.new_label)}.")

    def lines(self) -> list[str]:
        from core.output import mask_label, mask_message
        from core.whatif.text import probabilities_line

        out = ["counterfactual (occluding SHAP regions)"]
        if self.found:
            out.append(f"occluding {len(self.regions)} regions ({self.pixel_share:.1%} of the model's "
                       f"crop) flips {mask_label(self.original_label)} -> {mask_label(self.new_label)}: "
                       "regions " + ", ".join(map(str, self.regions)))
        out += [f"original: {probabilities_line(self.original_probabilities)}",
                f"edited:   {probabilities_line(self.new_probabilities)}"]
        out += [f"note: {mask_message(n)}" for n in self.notices]
        out.append(f"({self.model_calls} model calls, {self.evaluations} images scored, "
                   f"{self.seconds:.2f} s after the SHAP explanation)")
        return out


def find_image_counterfactual(predictor: Any, explanation: Any, max_regions: int = MAX_REGIONS,
                              mask: str | None = None) -> ImageCounterfactual:
    """Occlude the fewest regions of ``explanation`` (an image SHAP result of ``predictor``'s
    run, with its crop and segments) that change the predicted class."""
    start = time.perf_counter()
    crop, segments = explanation.arrays["image"], explanation.arrays["segments"]
    background, _ = mask_image(crop, mask or str(explanation.info.get("masker", "auto")))
    render = RegionImages(crop, background, segments)
    fn = ImageModelFunction(predictor, "probability")
    labels = [str(x) for x in predictor.labels]
    probs0 = fn(crop[None].astype(np.float32))[0]
    c0 = int(np.argmax(probs0))
    column = explanation.target_classes.index(c0) if c0 in explanation.target_classes else 0
    order = [int(r) for r in np.argsort(-explanation.values[:, column], kind="stable")]
    limit = min(max_regions, render.regions)

    def switches(hidden: list[int]) -> np.ndarray:
        z = np.ones(render.regions)
        z[hidden] = 0
        return z

    def first_flip(sets: list[list[int]]) -> tuple[int, np.ndarray] | None:
        probs = fn(render(np.stack([switches(s) for s in sets])))
        hits = np.flatnonzero(probs.argmax(axis=1) != c0)
        return (int(hits[0]), probs[hits[0]]) if len(hits) else None

    hit = first_flip([order[:k] for k in range(1, limit + 1)])
    chosen, new_probs = ([], probs0) if hit is None else (order[:hit[0] + 1], hit[1])
    rank = {r: i for i, r in enumerate(order)}
    while len(chosen) > 1:
        trial = [[r for r in chosen if r != drop] for drop in sorted(chosen, key=rank.get, reverse=True)]
        pruned = first_flip(trial)
        if pruned is None:
            break
        chosen, new_probs = trial[pruned[0]], pruned[1]
    notices = [] if chosen else [f"Occluding up to {limit} of the {render.regions} regions, most "
                                 f"important first, does not change the prediction ({labels[c0]})."]
    pixels = np.isin(segments, chosen).mean() if chosen else 0.0
    image = render(switches(chosen)[None])[0].clip(0, 255).astype(np.uint8) if chosen else None
    return ImageCounterfactual(
        found=bool(chosen), original_label=labels[c0], new_label=labels[int(np.argmax(new_probs))],
        original_probabilities=dict(zip(labels, map(float, probs0), strict=True)),
        new_probabilities=dict(zip(labels, map(float, new_probs), strict=True)),
        regions=sorted(chosen), pixel_share=float(pixels), model_calls=fn.calls, evaluations=fn.evals,
        seconds=time.perf_counter() - start, image=image, notices=notices)


OCCLUSIONS = ("blur", "grey")


def occlude_box(image: Any, box: tuple[float, float, float, float], fill: str = "blur") -> Any:
    """A copy of a PIL image with the box ``(left, top, right, bottom)``, as fractions of the
    width and height (0..1), blurred or greyed out: the what-if editor's image edit."""
    from PIL import Image, ImageFilter

    from core.errors import LoupeError

    if fill not in OCCLUSIONS:
        raise LoupeError(f"Unknown occlusion {fill!r}.", f"use one of: {', '.join(OCCLUSIONS)}.")
    left, top, right, bottom = (min(max(float(v), 0.0), 1.0) for v in box)
    image = image.convert("RGB")
    w, h = image.size
    x0, x1 = sorted((round(left * w), round(right * w)))
    y0, y1 = sorted((round(top * h), round(bottom * h)))
    if x1 - x0 < 1 or y1 - y0 < 1:
        raise LoupeError("The box to occlude is empty.", "draw a box with some width and height.")
    region = image.crop((x0, y0, x1, y1))
    if fill == "blur":
        region = region.filter(ImageFilter.GaussianBlur(radius=max(4.0, max(w, h) / 25)))
    else:
        region = Image.new("RGB", region.size, (128, 128, 128))
    out = image.copy()
    out.paste(region, (x0, y0))
    return out
