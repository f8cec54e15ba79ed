"""Seconds for one image explanation and one tabular explanation on the CPU (cold and cached).

Image: shap's Partition explainer with a blur masker over the model's input crop, default
max_evals (500), for the small CNN at 32 px (a tiny trained run on sample:shapes) and for
EfficientNet-Lite0 at 224 px (packaged ImageNet backbone, fresh 3-class head). Tabular: one row
of a house-prices MLP run (6 original columns -> exact SHAP over 100 background rows), one row of
the diabetes run (10 columns, exact) and its permutation variant, and global importance over 200
rows. Each case: first call (model work, shap warm) and a second call served from the run store.
Runs train into a temporary LOUPE_HOME; nothing is downloaded.

    .venv/bin/python -m benchmarks.explain_timings
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _train(cfg: Any, store: Any) -> str:
    from core.train import train

    return train(cfg, store).run_id


def _lite0_predictor() -> Any:
    from core.datasets.image_transforms import LITE_MEAN, LITE_STD, Preprocess
    from core.models import image_models as im
    from core.runtime import inference_runtime
    from core.tasks.image import ImagePredictor

    torch.manual_seed(0)
    labels = ["circle", "square", "triangle"]
    model = im.build(im.resolve(im.LITE0), labels, pretrained=True)
    prep = Preprocess(224, LITE_MEAN, LITE_STD, 0.875)
    meta = {"labels": labels, "preprocess": prep.to_json(), "decode_short_side": prep.resize_size}
    return ImagePredictor(model, meta, inference_runtime("cpu"))


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="loupe-bench-"))
    os.environ["LOUPE_HOME"] = str(home)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from PIL import Image

    from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
    from core.datasets.image_samples import draw_shape
    from core.explain import explain
    from core.explain.common import prepare_shap
    from core.explain.shap_image import explain_image
    from core.explain.shap_tabular import raw_split
    from core.store import RunStore

    print(f"CPU: {platform.machine()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()},"
          f" load {os.getloadavg()[0]:.1f} | LOUPE_HOME {home}")
    _, wall, _ = _timed(prepare_shap)
    print(f"import shap: {wall:.2f} s")
    store = RunStore()
    quick = TrainConfig(epochs=2, max_steps=30, batch_size=64, device="cpu", patience=0)
    shapes = _train(RunConfig(task="image", data=DataConfig(source="sample:shapes", max_rows=150),
                              model=ModelConfig(name="small_cnn", image_size=32, pretrained=False),
                              train=quick), store)
    houses = _train(RunConfig(task="tabular", data=DataConfig(source="sample:house_prices"),
                              model=ModelConfig(hidden_sizes=(128, 64)), train=quick), store)
    diabetes = _train(RunConfig(task="tabular", data=DataConfig(source="sample:diabetes"),
                                model=ModelConfig(hidden_sizes=(128, 64)), train=quick), store)
    image_path = home / "circle.png"
    Image.fromarray(draw_shape("circle", 96, np.random.default_rng(0))).save(image_path)

    rows: list[tuple[str, float, float, float, str]] = []

    def case(name: str, fn: Callable[[], Any]) -> None:
        first, wall, cpu = _timed(fn)
        again, cached, _ = _timed(fn)
        detail = ", ".join(f"{k} {v}" for k, v in first.info.items()
                           if k in ("explainer", "max_evals", "background_rows", "evaluations",
                                    "model_calls", "rows"))
        assert again.from_cache, name
        rows.append((name, wall, cpu, cached, detail))

    case("image: small CNN 32 px", lambda: explain(shapes, image_path, store=store))
    for split in ("test",):
        row = raw_split(store, houses, split).iloc[[0]]
        case("table: house prices, 1 row (6 cols)", lambda r=row: explain(houses, r, store=store))
    row = raw_split(store, diabetes, "test").iloc[[0]]
    case("table: diabetes, 1 row (10 cols)", lambda: explain(diabetes, row, store=store))
    case("table: diabetes, 1 row, permutation",
         lambda: explain(diabetes, row, store=store, algorithm="permutation"))
    case("table: house prices, global 200 rows", lambda: explain(houses, method="global", store=store))
    lite0 = _lite0_predictor()
    _, wall, cpu = _timed(lambda: explain_image(lite0, image_path))
    expl = explain_image(lite0, image_path)
    rows.append(("image: EfficientNet-Lite0 224 px", wall, cpu, float("nan"),
                 f"max_evals {expl.info['max_evals']}, evaluations {expl.info['evaluations']}, "
                 f"model_calls {expl.info['model_calls']} (no run: no cache)"))
    print(f"{'case':<40}{'first s':>9}{'cpu s':>8}{'cached s':>10}  details")
    for name, wall, cpu, cached, detail in rows:
        print(f"{name:<40}{wall:>9.2f}{cpu:>8.2f}{cached:>10.3f}  {detail}")


if __name__ == "__main__":
    main()
