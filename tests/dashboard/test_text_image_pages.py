"""Predict, Explain and Export for text and image runs (the tabular ones are in
test_predict_explain_export.py): each page, driven with AppTest against real tiny runs, shows a
prediction, an explanation chart or a download, and no error."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.dashboard.conftest import no_exception, open_page

REVIEWS = ["great product, works perfectly", "terrible, broke after a day", "love it, great value",
           "awful quality, do not buy", "excellent and fast", "bad, slow and noisy"] * 8


@pytest.fixture(scope="module")
def kinds_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A LOUPE_HOME with a tiny text run (2-layer BERT, MiniLM tokenizer) and a tiny image run
    (small CNN on generated shapes), a few optimizer steps each."""
    from core.config import RunConfig
    from core.store import RunStore
    from core.train import train
    from tests.core.test_explain_fixtures import tiny_text_model

    base = tmp_path_factory.mktemp("kinds")
    home = base / "home"
    old = os.environ.get("LOUPE_HOME")
    os.environ["LOUPE_HOME"] = str(home)
    try:
        csv = base / "reviews.csv"
        labels = ["pos", "neg"] * (len(REVIEWS) // 2)
        pd.DataFrame({"text": REVIEWS, "label": labels}).to_csv(csv, index=False)
        model = tiny_text_model(base / "tiny-bert")
        text = train(RunConfig(task="text", name="tiny-text").replace(
            data={"source": str(csv)}, model={"name": str(model), "max_length": 32},
            train={"epochs": 1, "max_steps": 2, "batch_size": 8, "device": "cpu"}), RunStore()).run_id
        image = train(RunConfig(task="image", name="tiny-image").replace(
            data={"source": "sample:shapes", "max_rows": 60},
            model={"name": "small_cnn", "image_size": 32, "pretrained": False},
            train={"epochs": 1, "max_steps": 2, "batch_size": 16, "device": "cpu"}), RunStore()).run_id
    finally:
        if old is None:
            os.environ.pop("LOUPE_HOME", None)
        else:
            os.environ["LOUPE_HOME"] = old
    return home, text, image


@pytest.fixture
def runs(kinds_home: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    home, text, image = kinds_home
    monkeypatch.setenv("LOUPE_HOME", str(home))
    return text, image


def _png() -> bytes:
    pixels = np.zeros((48, 48, 3), dtype=np.uint8)
    pixels[12:36, 12:36] = (220, 40, 40)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _page_for(page: str, run_id: str):
    at = open_page(page)
    at.selectbox(key=f"{page}_run").set_value(run_id).run()
    no_exception(at)
    return at


def _click(at, label: str, timeout: float = 300):
    next(b for b in at.button if b.label == label).click()
    return at.run(timeout=timeout)


def _clean(at) -> None:
    no_exception(at)
    assert not at.error, [e.value for e in at.error]


def test_predict_a_text(runs: tuple[str, str]) -> None:
    text, _ = runs
    at = _page_for("predict", text)
    at.text_area(key=f"predict_{text}_text").set_value("great value, works perfectly")
    _click(at, "Predict")
    _clean(at)
    shown = " ".join(str(m.value) for m in at.metric) + " ".join(m.value for m in at.markdown)
    assert "pos" in shown or "neg" in shown, shown


def test_predict_an_image(runs: tuple[str, str]) -> None:
    _, image = runs
    at = _page_for("predict", image)
    at.file_uploader(key=f"predict_{image}_image").set_value(("red.png", _png(), "image/png")).run()
    _clean(at)
    shown = " ".join(str(m.value) for m in at.metric) + " ".join(m.value for m in at.markdown)
    assert any(shape in shown for shape in ("circle", "square", "triangle")), shown


@pytest.mark.parametrize("method", ["shap", "attention"])
def test_explain_a_text(runs: tuple[str, str], method: str) -> None:
    text, _ = runs
    at = _page_for("explain", text)
    at.radio(key="explain_method_text").set_value(method).run()
    at.text_area(key=f"explain_{text}_text").set_value("terrible, broke after a day")
    _click(at, "Use this input")
    _click(at, "Explain")
    _clean(at)
    assert at.get("plotly_chart"), "no chart"
    assert any("Computed in" in c.value for c in at.caption)


def test_explain_an_image(runs: tuple[str, str]) -> None:
    _, image = runs
    at = _page_for("explain", image)
    at.file_uploader(key=f"explain_{image}_image").set_value(("red.png", _png(), "image/png")).run()
    _click(at, "Explain")
    _clean(at)
    assert at.get("plotly_chart"), "no chart"


@pytest.mark.parametrize("kind", ["text", "image"])
def test_export_offers_the_model_zip(runs: tuple[str, str], kind: str) -> None:
    run_id = runs[0] if kind == "text" else runs[1]
    at = _page_for("export", run_id)
    _click(at, "Prepare model zip")
    _clean(at)
    assert at.get("download_button")
