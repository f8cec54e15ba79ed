"""The image task end to end: metrics, artifacts that reload and predict identically, inputs from
files/folders/zips, and a tiny training run on generated shapes that clearly beats chance."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from core.errors import LoupeError
from core.tasks import get_task
from data.make_shapes import make_shapes

TASK = get_task("image")


@pytest.fixture
def shapes_dir(tmp_path: Path) -> Path:
    return make_shapes(tmp_path / "shapes", per_class=8, size=32, fmt="jpg")


def folder_config(source: Path, **model: object):
    return TASK.default_config("shapes").replace(data={"source": str(source)},
                                                 model=model or {})


def eval_logits(model: torch.nn.Module, dataset) -> np.ndarray:
    model.eval()
    batch = torch.stack([dataset[i][0] for i in range(len(dataset))])
    with torch.no_grad():
        return model(batch).numpy()


def test_registry_samples_and_defaults() -> None:
    assert TASK.kind == "image" and TASK.monitor == "macro_f1" and TASK.monitor_mode == "max"
    assert set(TASK.samples()) == {"digits", "shapes"}
    assert TASK.default_config("digits").model.name == "small_cnn"
    assert TASK.default_config().model.name == "efficientnet_lite0"
    with pytest.raises(LoupeError, match="no image sample"):
        TASK.default_config("faces")


def test_metrics_keys() -> None:
    data = TASK.load_data(TASK.default_config("digits"))
    logits = np.eye(10)[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0]]
    true = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
    scores = TASK.metrics(logits, true, data)
    assert scores["accuracy"] == pytest.approx(11 / 12)
    assert {"macro_f1", "f1_0", "precision_9", "recall_1", "top3_accuracy"} <= set(scores)


@pytest.mark.parametrize("model_name", ["small_cnn", "efficientnet_lite0"])
def test_artifact_reloads_and_predicts_identically(shapes_dir: Path, tmp_path: Path,
                                                   model_name: str) -> None:
    cfg = folder_config(shapes_dir, name=model_name, image_size=48)
    data = TASK.load_data(cfg)
    model = TASK.build_model(cfg, data)
    torch.manual_seed(0)
    with torch.no_grad():  # make the head non-trivial, as after training
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    TASK.save_artifact(model, cfg, data, tmp_path / "model")
    saved = json.loads((tmp_path / "model" / "config.json").read_text())
    assert saved["architecture"] == model_name and saved["preprocess"]["image_size"] == 48
    assert json.loads((tmp_path / "model" / "labels.json").read_text()) == data.meta["labels"]

    predictor = TASK.load_predictor(tmp_path / "model", device="cpu")
    paths = [data.val.record(i).path for i in range(len(data.val))]
    frame = predictor.predict(paths)
    expected = torch.softmax(torch.from_numpy(eval_logits(model, data.val)), -1).numpy()
    probs = frame[[f"p_{label}" for label in data.meta["labels"]]].to_numpy()
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    assert list(frame.columns[:3]) == ["image", "prediction", "confidence"]
    # PIL images and a single path go through the same decode path.
    pil = predictor.predict([Image.open(p) for p in paths])
    np.testing.assert_allclose(pil[probs_cols(data)].to_numpy(), probs, atol=1e-6)
    assert len(predictor.predict(paths[0])) == 1
    # Loading weights back into a fresh model (the loop's best-checkpoint path) is exact too.
    fresh = TASK.build_model(cfg.replace(model={"pretrained": False}), data)
    TASK.load_weights(fresh, tmp_path / "model")
    np.testing.assert_allclose(eval_logits(fresh, data.val), eval_logits(model, data.val),
                               atol=1e-6)


def probs_cols(data) -> list[str]:
    return [f"p_{label}" for label in data.meta["labels"]]


def test_predict_marks_unreadable_inputs(shapes_dir: Path, tmp_path: Path) -> None:
    cfg = folder_config(shapes_dir)
    data = TASK.load_data(cfg)
    TASK.save_artifact(TASK.build_model(cfg, data), cfg, data, tmp_path / "model")
    predictor = TASK.load_predictor(tmp_path / "model", device="cpu")
    (tmp_path / "bad.png").write_text("not an image")
    frame = predictor.predict([data.val.record(0).path, tmp_path / "bad.png"])
    assert frame["prediction"].iloc[0] in data.meta["labels"]
    assert pd.isna(frame["prediction"].iloc[1]) and np.isnan(frame["confidence"].iloc[1])
    assert "not an image" in frame["error"].iloc[1] and pd.isna(frame["error"].iloc[0])


def test_load_inputs_file_folder_and_zip(shapes_dir: Path, tmp_path: Path) -> None:
    cfg = folder_config(shapes_dir)
    data = TASK.load_data(cfg)
    TASK.save_artifact(TASK.build_model(cfg, data), cfg, data, tmp_path / "model")
    predictor = TASK.load_predictor(tmp_path / "model", device="cpu")
    one = next(shapes_dir.rglob("*.jpg"))
    assert predictor.load_inputs(one) == [one]
    assert len(predictor.load_inputs(shapes_dir)) == 24
    archive = shutil.make_archive(str(tmp_path / "batch"), "zip", root_dir=shapes_dir)
    files = predictor.load_inputs(Path(archive))
    assert len(files) == 24 and len(predictor.predict(files)) == 24
    with pytest.raises(LoupeError, match="No images found"):
        predictor.load_inputs(tmp_path / "model")
    with pytest.raises(LoupeError, match="not a Loupe image model"):
        TASK.load_predictor(tmp_path)


def test_tiny_training_run_beats_chance(store) -> None:
    from core.train import train

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny convolutions: one thread is faster than two on a busy CI box
    try:
        cfg = TASK.default_config("shapes").replace(
            data={"max_rows": 150}, model={"image_size": 24},
            train={"epochs": 8, "batch_size": 16})
        result = train(cfg, store)
    finally:
        torch.set_num_threads(threads)
    assert result.status == "completed"
    assert result.metrics["val_accuracy"] > 0.7  # chance is 1/3
    assert result.metrics["test_accuracy"] > 0.7
    report = result.report
    data = TASK.load_data(cfg)
    assert np.array(report["confusion_matrix"]["matrix"]).sum() == len(data.test)
    assert [row["label"] for row in report["per_class"]] == ["circle", "square", "triangle"]
    assert any("150 of 300" in n for n in report["notices"])
    for item in report["worst_val_images"]:
        assert item["true"] != item["predicted"] and item["thumbnail"].startswith("data:image/")
    predictor = TASK.load_predictor(result.artifact_dir, device="cpu")
    arrays = [data.val.pixels(i) for i in range(len(data.val))]
    accuracy = (predictor.predict_proba(arrays).argmax(1) == data.val.labels).mean()
    assert accuracy == pytest.approx(result.metrics["val_accuracy"])


def test_pretrained_backbone_learns_slower_than_the_new_head() -> None:
    """Discriminative rates: Lite0's backbone at lr × BACKBONE_LR_SCALE, its head at lr; every
    trainable parameter in exactly one group; a from-scratch CNN keeps one rate."""
    from core.models import image_models as im
    from core.tasks.image import BACKBONE_LR_SCALE

    cfg = TASK.default_config().replace(train={"lr": 1e-3})
    model = im.build(im.resolve(im.LITE0), ["a", "b"], pretrained=False)
    groups = TASK.optimizer_groups(model, cfg)
    head = {id(p) for p in model._fc.parameters()}
    for group in groups:
        ids = {id(p) for p in group["params"]}
        assert ids <= head or not ids & head  # never mixed
        assert group["lr"] == pytest.approx(1e-3 if ids <= head else 1e-3 * BACKBONE_LR_SCALE)
    grouped = [id(p) for g in groups for p in g["params"]]
    assert sorted(grouped) == sorted(id(p) for p in model.parameters() if p.requires_grad)
    assert any(g["weight_decay"] == 0 for g in groups) and any(g["weight_decay"] > 0 for g in groups)

    scratch = TASK.default_config("shapes")
    cnn = im.build(im.resolve(im.SMALL_CNN), ["a", "b"], pretrained=False)
    assert all("lr" not in g for g in TASK.optimizer_groups(cnn, scratch))
