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
    assert [b.label for b in at.button] == ["Explain"]  # one button before any input: the form's
    _click(at, "Explain")  # one click explains (it used to be "Use this input", then "Explain")
    _clean(at)
    assert at.get("plotly_chart"), "no chart"
    assert any("Computed in" in c.value for c in at.caption)
    if method == "attention":  # the Layer slider and the per-head chart count layers alike
        slider = at.slider(key=next(s.key for s in at.slider if s.label == "Layer"))
        assert slider.value == slider.max == 2
        titles = [c.proto.spec for c in at.get("plotly_chart")]
        assert any('"Layer 2 of 2' in t for t in titles), "per-head chart numbered differently"


def test_explain_an_image(runs: tuple[str, str]) -> None:
    _, image = runs
    at = _page_for("explain", image)
    at.file_uploader(key=f"explain_{image}_image").set_value(("red.png", _png(), "image/png")).run()
    _clean(at)  # the upload alone explains: no second click
    assert at.get("plotly_chart"), "no chart"
    assert not [b for b in at.button if b.label.startswith("Explain")]


@pytest.mark.parametrize("kind", ["text", "image"])
def test_export_offers_the_model_zip(runs: tuple[str, str], kind: str) -> None:
    run_id = runs[0] if kind == "text" else runs[1]
    at = _page_for("export", run_id)
    _click(at, "Prepare model zip")
    _clean(at)
    assert at.get("download_button")


# --- a labelled batch keeps the user's columns (issue 15, item 3) ------------------------------
MOVIE_REVIEWS = pd.DataFrame({
    "review": ["A tender, beautifully acted film that stayed with me for days.",
               "Two hours of my life I will never get back; the plot makes no sense.",
               "The soundtrack alone is worth the ticket, and the ending is perfect.",
               "Wooden dialogue, lazy jokes and a villain with no motive at all.",
               ""],
    "sentiment": ["positive", "negative", "positive", "negative", "negative"],
    "year": [2019, 2021, 2018, 2020, 2022],
})
PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "cats-dogs-photos"


def _class_tree(root: Path) -> Path:
    """A class-folder tree of photos: real cats and dogs when the shared set is here, else PNGs."""
    for label in ("cats", "dogs"):
        (root / label).mkdir(parents=True)
        if PHOTOS.is_dir():
            for photo in sorted((PHOTOS / label).glob("*.jpg"))[:2]:
                (root / label / photo.name).write_bytes(photo.read_bytes())
        else:
            for i in range(2):
                (root / label / f"{label}.{i}.png").write_bytes(_png())
    return root


def test_text_batch_keeps_the_label_column_and_the_text_column_name(runs: tuple[str, str]) -> None:
    text, _ = runs
    at = _page_for("predict", text)
    at.file_uploader(key="predict_file_text").set_value(
        ("reviews.csv", MOVIE_REVIEWS.to_csv(index=False).encode(), "text/csv")).run()
    no_exception(at)
    result = at.dataframe[0].value
    user = [c for c in result.columns if c in MOVIE_REVIEWS.columns]
    assert user == ["review", "sentiment", "year"] and "text" not in result  # names and order kept
    assert result.columns[0] == "prediction"  # the preview shows the model's columns first
    assert list(result["sentiment"]) == list(MOVIE_REVIEWS["sentiment"])
    assert result["prediction"].notna().sum() == 4  # the empty review gets no prediction, and a note
    assert any("1 of 5 rows have no text" in w.value for w in at.warning)


def test_image_batch_names_images_by_their_place_in_the_tree(runs: tuple[str, str], tmp_path: Path) -> None:
    import shutil

    _, image = runs
    archive = shutil.make_archive(str(tmp_path / "pets"), "zip", _class_tree(tmp_path / "pets"))
    at = _page_for("predict", image)
    at.file_uploader(key="predict_file_image").set_value(
        ("pets.zip", Path(archive).read_bytes(), "application/zip")).run()
    no_exception(at)
    names = list(at.dataframe[0].value["image"])
    assert len(names) == 4 and {n.split("/")[0] for n in names} == {"cats", "dogs"}


def test_cli_predict_keeps_columns_and_relative_paths(runs: tuple[str, str], tmp_path: Path) -> None:
    from core.cli import main

    text, image = runs
    reviews = tmp_path / "reviews.csv"
    MOVIE_REVIEWS.to_csv(reviews, index=False)
    assert main(["predict", text, "--data", str(reviews), "--out", str(tmp_path / "t.csv")]) == 0
    out = pd.read_csv(tmp_path / "t.csv")
    assert list(out.columns[:4]) == ["review", "sentiment", "year", "prediction"]
    assert main(["predict", image, "--data", str(_class_tree(tmp_path / "tree")),
                 "--out", str(tmp_path / "i.csv")]) == 0
    images = pd.read_csv(tmp_path / "i.csv")["image"]
    assert images.str.match(r"^(cats|dogs)/[^/]+\.(jpg|png)$").all()


def test_a_labelled_text_batch_shows_how_the_model_did(runs: tuple[str, str]) -> None:
    """Issue 19 item 4: a file with the labels gets accuracy, macro-F1 and a confusion matrix."""
    text, _ = runs
    frame = pd.DataFrame({"text": ["great product, works perfectly", "terrible, broke after a day",
                                   "love it, write to jane.doe@example.com", "awful quality"],
                          "label": ["pos", "neg", "pos", "neg"]})
    at = _page_for("predict", text)
    at.file_uploader(key="predict_file_text").set_value(
        ("labelled.csv", frame.to_csv(index=False).encode(), "text/csv")).run()
    no_exception(at)
    assert [s.value for s in at.subheader] == ["How the model did on this file"]
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"Accuracy", "Macro-F1"} and 0 <= float(metrics["Accuracy"]) <= 1
    assert any("Scored against column 'label' on 4 rows" in c.value for c in at.caption)
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Confusion matrix of this file" in spec for spec in charts)
    assert "jane.doe@example.com" not in str(at.dataframe[0].value.to_dict())
