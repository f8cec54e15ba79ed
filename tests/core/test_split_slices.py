"""Error slices of a run's own split (core.split_slices; issue 19 item 5) with real trained
models: the planted weak region comes out worst, the scores equal the run's own, the result is
cached, and the CLI, the HTML report and image sizes carry it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from core.batch_eval import TRUTH_ATTR, evaluate_batch
from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from core.errors import LoupeError
from core.split_slices import split_evaluation
from core.store import RunStore
from tests.core.test_explain_fixtures import image_run, runs_in_home, train_run


def noisy_region_run(store: RunStore, folder: Path) -> str:
    """y = 3x + z, with large noise in the south and little in the north: a linear model must
    do worst on the south, whatever it learns."""
    rng = np.random.default_rng(0)
    n = 400
    region = rng.choice(["north", "south"], n)
    x, z = rng.normal(size=n), rng.normal(size=n)
    noise = np.where(region == "south", rng.normal(scale=3, size=n), rng.normal(scale=0.2, size=n))
    source = folder / "t.csv"
    pd.DataFrame({"region": region, "x": x, "z": z, "y": 3 * x + z + noise}).to_csv(source, index=False)
    cfg = RunConfig(task="tabular", name="noisy-south", data=DataConfig(source=str(source), target="y"),
                    model=ModelConfig(name="mlp", hidden_sizes=(), dropout=0.0),
                    train=TrainConfig(epochs=30, max_steps=60, batch_size=64, lr=0.05, device="cpu",
                                      patience=0))
    return train_run(cfg, store)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return runs_in_home(tmp_path_factory.mktemp("split_slices"), lambda store, home: {
        "tabular": noisy_region_run(store, home), "image": image_run(store)})


@pytest.fixture
def home(runs: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("LOUPE_HOME", runs["home"])
    return runs


def test_the_noisy_region_is_a_worst_slice_and_scores_equal_the_runs(home: dict[str, str]) -> None:
    store = RunStore()
    run = store.get_run(home["tabular"])
    evaluation = split_evaluation(run["id"], "test", store)
    assert evaluation.task == "regression" and evaluation.truth_column == "y"
    assert evaluation.metrics["rmse"] == pytest.approx(run["metrics"]["test_rmse"], rel=1e-4)
    from core.tasks import get_task

    assert evaluation.rows == len(get_task("tabular").load_data(store.config(run["id"])).refs["test"])
    regions = {(s.column, s.value): s for s in evaluation.slices if s.column == "region"}
    assert ("region", "south") in regions and ("region", "north") not in regions
    assert regions[("region", "south")].gap > 0.3  # RMSE above the whole split's
    val = split_evaluation(run["id"], "val", store)
    assert val.metrics["rmse"] == pytest.approx(run["metrics"]["val_rmse"], rel=1e-4)


def test_the_result_is_cached_and_a_damaged_cache_is_recomputed(home: dict[str, str]) -> None:
    store = RunStore()
    run_id = home["tabular"]
    first = split_evaluation(run_id, "test", store)
    path = store.run_dir(run_id) / "slices" / "test.json"
    assert json.loads(path.read_text())["metrics"] == pytest.approx(first.metrics)
    path.write_text('{"metrics": ')  # a torn write
    again = split_evaluation(run_id, "test", store)
    assert again.metrics == pytest.approx(first.metrics) and again.slices == first.slices


def test_careless_requests_get_clear_errors(home: dict[str, str]) -> None:
    store = RunStore()
    with pytest.raises(LoupeError, match="no split 'testing'.*test, val, train"):
        split_evaluation(home["tabular"], "testing", store)
    with pytest.raises(LoupeError):
        split_evaluation("nope", "test", store)
    cancelled = store.create_run(store.config(home["tabular"]), status="cancelled")
    with pytest.raises(LoupeError, match="has not completed \\(cancelled\\)"):
        split_evaluation(cancelled, "test", store)


def test_cli_prints_the_worst_slices_and_json(home: dict[str, str], capsys: pytest.CaptureFixture) -> None:
    from core.cli import main

    assert main(["slices", home["tabular"]]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Test split: ") and "region" in out and "south" in out
    assert main(["slices", home["tabular"], "--split", "val", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["split"] == "val" and payload["task"] == "regression" and "true" not in payload
    assert main(["slices", "nope"]) == 2


def test_the_html_report_carries_the_test_slices(home: dict[str, str], tmp_path: Path) -> None:
    from core.export.report_html import write_html_report

    page = write_html_report(home["tabular"], tmp_path / "report.html").read_text()
    assert "Where the model does worst (test split)" in page
    section = page[page.index('id="slices"'):]
    assert "south" in section[:section.index("</section>")]


def test_an_image_split_has_sizes_and_the_runs_accuracy(home: dict[str, str]) -> None:
    from core.tasks import get_task

    store = RunStore()
    run = store.get_run(home["image"])
    evaluation = split_evaluation(run["id"], "test", store)
    assert evaluation.metrics["accuracy"] == pytest.approx(run["metrics"]["test_accuracy"])
    task = get_task("image")
    data = task.load_data(store.config(run["id"]))
    frame, truth = task.split_frame(data, "test")
    assert truth == "label" and len(frame) == evaluation.rows
    height, width = data.test.pixels(0).shape[:2]
    assert (frame["width_px"] == width).all() and (frame["height_px"] == height).all()


def test_image_batches_carry_sizes_and_small_images_slice_out(home: dict[str, str], tmp_path: Path) -> None:
    from core.predict import load_predictor

    predictor = load_predictor(home["image"])
    sizes = {"a.png": (40, 30), "b.png": (64, 64), "c.png": (17, 90)}
    for name, size in sizes.items():
        Image.new("RGB", size, (200, 30, 30)).save(tmp_path / name)
    (tmp_path / "d.png").write_bytes(b"not an image")
    result = predictor.predict_file(tmp_path)
    by_name = result.set_index("image")
    for name, (w, h) in sizes.items():
        assert (by_name.loc[name, "width_px"], by_name.loc[name, "height_px"]) == (w, h)
    assert pd.isna(by_name.loc["d.png", "width_px"])
    # slicing by size: small photos all wrong, large ones all right
    frame = pd.DataFrame({"image": [f"{i}.jpg" for i in range(20)], "class_folder": ["cat"] * 20,
                          "width_px": [120] * 10 + [800] * 10,
                          "prediction": ["dog"] * 6 + ["cat"] * 14})
    frame.attrs[TRUTH_ATTR] = "class_folder"
    evaluation = evaluate_batch(frame, ["cat", "dog"])
    assert evaluation is not None
    worst = evaluation.slices[0]
    assert (worst.column, worst.value, worst.rows, worst.metric) == ("width_px", "120", 10, 0.4)
