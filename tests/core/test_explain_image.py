"""Image SHAP on a tiny trained run (small CNN on generated shapes)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.datasets.image_samples import draw_shape
from core.datasets.image_transforms import eval_crop, eval_tensor
from core.explain import explain
from core.explain.shap_image import ImageModelFunction, mask_image
from core.predict import load_predictor
from core.store import RunStore
from core.tasks.image import ImagePredictor
from tests.core.test_explain_fixtures import image_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunStore, str, str]:
    root = tmp_path_factory.mktemp("explain_image")
    store = RunStore(root / "loupe.duckdb")
    path = root / "circle.png"
    Image.fromarray(draw_shape("circle", 48, np.random.default_rng(3))).save(path)
    return store, image_run(store), str(path)


def test_heat_maps_are_aligned_and_add_up(run) -> None:
    store, run_id, path = run
    predictor = load_predictor(run_id, store)
    other = int(np.argmin(predictor.predict([path])[[f"p_{c}" for c in predictor.labels]].to_numpy()[0]))
    expl = explain(run_id, path, target_class=other, store=store, max_evals=120)
    image, segments = expl.arrays["image"], expl.arrays["segments"]
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    assert segments.shape == (32, 32)  # a region id per pixel of the crop the model sees
    regions = expl.info["regions"]
    assert set(np.unique(segments)) == set(range(regions)) and 8 <= regions <= 64
    assert expl.values.shape == (regions, 2)  # one value per region and explained class
    assert expl.target_classes[1] == other
    outputs = np.array([expl.prediction["explained_outputs"][label] for label in expl.labels])
    np.testing.assert_allclose(expl.total(), outputs - expl.base_value, atol=1e-5)
    probs = predictor.predict([path])[[f"p_{c}" for c in predictor.labels]].to_numpy()[0]
    assert expl.prediction["probabilities"][predictor.labels[0]] == pytest.approx(probs[0], abs=1e-5)
    figs = expl.figures()
    assert len(figs) == 2


def test_crop_is_what_the_model_sees(run) -> None:
    store, run_id, path = run
    predictor = load_predictor(run_id, store)
    array = np.asarray(Image.open(path).convert("RGB"))
    crop = eval_crop(array, predictor.prep)
    fn = ImageModelFunction(predictor)
    expected = predictor.predict_proba([array])[0]
    np.testing.assert_allclose(fn(crop[None].astype(np.float32))[0], expected, atol=1e-5)
    direct = eval_tensor(array, predictor.prep)
    assert direct.shape[1:] == crop.shape[:2]


def test_masks() -> None:
    crop = np.random.default_rng(0).integers(0, 255, (32, 32, 3)).astype(np.uint8)
    blurred, name = mask_image(crop, "blur(8,8)")
    assert name == "blur(8,8)" and blurred.shape == crop.shape and blurred.std() < crop.std()
    mean, _ = mask_image(crop, "mean")
    np.testing.assert_allclose(mean[0, 0], crop.reshape(-1, 3).mean(0), rtol=1e-5)
    assert mask_image(crop)[1] == "blur(16,16)"


def test_cached_image_explanation_keeps_no_pixels_and_skips_the_model(run, monkeypatch) -> None:
    store, run_id, path = run
    first = explain(run_id, path, store=store, max_evals=60)

    def boom(*args, **kwargs):
        raise AssertionError("the model ran for a cached explanation")

    with store.connect() as con:
        masked, result = con.execute("SELECT input_masked, result_json FROM explanations "
                                     "WHERE run_id=? LIMIT 1", [run_id]).fetchone()
    assert masked == "circle.png" and json.loads(result)["arrays"] == {}  # no pixels stored
    monkeypatch.setattr(ImagePredictor, "predict_proba", boom)
    monkeypatch.setattr(ImageModelFunction, "__call__", boom)
    again = explain(run_id, path, store=RunStore(store.path), max_evals=60)
    assert again.from_cache
    np.testing.assert_array_equal(again.values, first.values)
    np.testing.assert_array_equal(again.arrays["image"], first.arrays["image"])  # re-derived


def test_same_values_as_shaps_own_partition_call(run) -> None:
    """Loupe's image SHAP is shap's Partition explainer, unmodified: shap's own public call — a
    Partition masker over Loupe's superpixel tree, and a plain model function a shap user would
    write (show the switched-on superpixels, blur the rest, normalise, forward, softmax) — with
    Loupe's batch size gives the same region values."""
    import torch

    from core.explain.common import prepare_shap
    from core.explain.image_regions import region_tree

    store, run_id, path = run
    predictor = load_predictor(run_id, store)
    shap = prepare_shap()
    crop = eval_crop(np.asarray(Image.open(path).convert("RGB")), predictor.prep)
    mean = torch.tensor(predictor.prep.mean).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(predictor.prep.std).view(1, 3, 1, 1) * 255.0

    np.random.seed(0)  # shap breaks ties in its queue with np.random: same draws on both sides
    ours = explain(run_id, path, store=store, max_evals=200, target_class=1, use_cache=False)
    background, _ = mask_image(crop, ours.info["masker"])
    segments = ours.arrays["segments"]
    regions = int(segments.max()) + 1

    def plain(switches: np.ndarray) -> np.ndarray:
        shown = (np.asarray(switches) > 0.5)[:, segments][..., None]
        images = np.where(shown, crop[None].astype(np.float32), background[None])
        x = torch.from_numpy(images.astype(np.float32)).permute(0, 3, 1, 2)
        with torch.no_grad():
            return torch.softmax(predictor.model((x - mean) / std), -1).numpy().astype(np.float64)

    masker = shap.maskers.Partition(np.zeros((1, regions)), clustering=region_tree(segments))
    np.random.seed(0)
    anchor = shap.explainers.Partition(plain, masker)(
        np.ones((1, regions)), max_evals=200, batch_size=ours.info["batch_size"],
        outputs=ours.target_classes, fixed_context=ours.info["fixed_context"], silent=True)
    np.testing.assert_allclose(ours.values, np.asarray(anchor.values[0]), atol=1e-5)
    np.testing.assert_allclose(ours.base_value, np.ravel(anchor.base_values[0]), atol=1e-6)
    assert ours.info["fixed_context"] == 1
    # with one context, 2 calls per split: 200 calls give (nearly) every region its own value
    assert len(np.unique(np.round(ours.values[:, 0], 12))) > 0.6 * regions
