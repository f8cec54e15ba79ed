"""Hostile images: a decompression-bomb PNG, a truncated JPEG, a text file named .png, a folder with
one class, a folder with nothing usable.

Documented outcome (core/datasets/image_transforms.py, core/datasets/images.py): every file is
decoded once at load time; a file over 50 megapixels (by its header, before any pixel is allocated),
a truncated or corrupt file and a non-image are skipped and listed with the reason in a notice and in
the ingestion report; training goes on with the rest. Fewer than two usable classes, or no usable
image at all, is a LoupeError before any run exists. Prediction gives such a file a row with an
``error`` instead of failing the batch.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import LoupeError
from core.train import train
from tests.hostile.conftest import (
    assert_clear,
    assert_nothing_written,
    bomb_png,
    image_folder,
    jpeg_bytes,
)
from tests.hostile.test_archives import image_config


def _plant_bad_files(root: Path) -> dict[str, str]:
    """Three bad files among good ones; returns name -> the reason the report must give."""
    (root / "cats" / "bomb.png").write_bytes(bomb_png())
    (root / "cats" / "cut.jpg").write_bytes(jpeg_bytes()[:400])
    (root / "dogs" / "notes.png").write_text("not an image, just a text file named .png\n")
    return {"cats/bomb.png": "decompression bomb", "cats/cut.jpg": "truncated or corrupt",
            "dogs/notes.png": "not an image"}


def test_bad_images_are_skipped_with_reasons_and_training_goes_on(tmp_path: Path, store) -> None:
    root = image_folder(tmp_path / "pets", {"cats": 8, "dogs": 8})
    expected = _plant_bad_files(root)
    result = train(image_config(root), store)
    assert result.status == "completed"
    notice = next(n for n in result.report["notices"] if n.startswith("Skipped 3 of 19"))
    for reason in expected.values():
        assert reason in notice, notice
    skipped = {s["file"]: s["reason"] for s in result.report["ingestion"]["skipped"]}
    assert set(skipped) == set(expected)
    for name, reason in expected.items():
        assert reason in skipped[name]
    assert "pixel" in skipped["cats/bomb.png"] or "Image size" in skipped["cats/bomb.png"]

    # The same files at prediction time: one row each, an error instead of a crash.
    from core.predict import load_predictor

    predictor = load_predictor(result.run_id, store)
    rows = predictor.predict([root / name for name in expected] + [root / "cats" / "0.png"])
    assert rows["prediction"].isna().tolist() == [True, True, True, False]
    for (name, reason), error in zip(expected.items(), rows["error"], strict=False):
        assert reason in error, (name, error)


def test_bomb_png_is_refused_by_its_header(tmp_path: Path) -> None:
    """No pixel buffer for 10 gigapixels is ever allocated: the refusal comes from the header."""
    import tracemalloc

    from core.datasets.image_transforms import ImageProblem, decode_image

    tracemalloc.start()
    with pytest.raises(ImageProblem, match="decompression bomb"):
        decode_image(bomb_png())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50 << 20


def test_one_class_folder_is_an_error(tmp_path: Path, loupe_home: Path, run_cli) -> None:
    root = image_folder(tmp_path / "only_cats", {"cats": 8})
    with pytest.raises(LoupeError) as err:
        train(image_config(root))
    assert_clear(str(err.value), "only one class", "'cats'", "add a folder of images for each other class")
    code, cli_err = run_cli("train", "image", "--data", str(root), "--model", "small_cnn")
    assert code == 2
    assert_clear(cli_err, "only one class")
    assert_nothing_written(loupe_home)


def test_one_usable_class_after_skipping_is_an_error(tmp_path: Path, loupe_home: Path) -> None:
    root = image_folder(tmp_path / "pets", {"cats": 8})
    (root / "dogs").mkdir()
    (root / "dogs" / "a.png").write_bytes(bomb_png())
    (root / "dogs" / "b.jpg").write_bytes(jpeg_bytes()[:300])
    with pytest.raises(LoupeError) as err:
        train(image_config(root))
    assert_clear(str(err.value), "only one class", "usable images: dogs")  # names the emptied class
    assert_nothing_written(loupe_home)


def test_nothing_usable_is_an_error_naming_the_reason(tmp_path: Path, loupe_home: Path) -> None:
    root = tmp_path / "broken"
    for name in ("cats", "dogs"):
        (root / name).mkdir(parents=True)
        (root / name / "bomb.png").write_bytes(bomb_png())
        (root / name / "fake.png").write_text("hello")
    with pytest.raises(LoupeError) as err:
        train(image_config(root))
    assert_clear(str(err.value), "No usable images", "all 4 image files were skipped",
                 "decompression bomb")
    assert_nothing_written(loupe_home)


def test_text_file_named_png_alone_is_not_an_image(tmp_path: Path) -> None:
    from core.datasets.image_transforms import ImageProblem, decode_image

    path = tmp_path / "photo.png"
    path.write_text("<html>definitely not a png</html>")
    with pytest.raises(ImageProblem, match="not an image"):
        decode_image(path)
