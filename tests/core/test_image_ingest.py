"""Image ingestion: hostile and unusual files give the documented outcome (see
core/datasets/images.py and image_transforms.py for the rules)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.datasets import images as images_mod
from core.datasets.image_transforms import ImageProblem, decode_image
from core.datasets.images import load_folder
from core.errors import LoupeError
from core.tasks import get_task
from data.make_shapes import make_shapes


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_bytes(size: tuple[int, int] = (64, 48), colour: tuple[int, ...] = (200, 30, 30),
               mode: str = "RGB", **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format="JPEG", **save)
    return buffer.getvalue()


def load(root: Path, **kwargs: object):
    return load_folder(root, short_side=40, val_fraction=0.2, test_fraction=0.2, seed=0, **kwargs)


@pytest.fixture
def shapes_dir(tmp_path: Path) -> Path:
    return make_shapes(tmp_path / "shapes", per_class=6, size=24)


def test_clean_folder_loads_every_image(shapes_dir: Path) -> None:
    loaded = load(shapes_dir)
    assert loaded.label_names == ["circle", "square", "triangle"]
    assert sum(len(v) for v in loaded.splits.values()) == 18
    assert loaded.report.skipped_count == 0 and loaded.report.cached_images == 18
    assert all(loaded.splits[s] for s in ("train", "val", "test"))


def test_bomb_truncated_and_disguised_files_are_skipped_and_listed(shapes_dir: Path) -> None:
    (shapes_dir / "circle" / "bomb.png").write_bytes(png_header_only(20_000, 20_000))
    (shapes_dir / "circle" / "warnbomb.png").write_bytes(png_header_only(8_000, 8_000))
    good = jpeg_bytes()
    (shapes_dir / "square" / "cut.jpg").write_bytes(good[: len(good) // 2])
    (shapes_dir / "square" / "notes.png").write_text("this is not a picture")
    (shapes_dir / "triangle" / "readme.jpg").write_text("neither is this")
    (shapes_dir / "triangle" / "labels.csv").write_text("a,b\n")
    loaded = load(shapes_dir)
    report = loaded.report
    reasons = {item["file"]: item["reason"] for item in report.skipped}
    assert report.skipped_count == 5 and len(loaded.pool.records) == 18
    assert "decompression bomb" in reasons["circle/bomb.png"]
    assert "decompression bomb" in reasons["circle/warnbomb.png"]
    assert "truncated or corrupt" in reasons["square/cut.jpg"]
    assert "not an image" in reasons["square/notes.png"]
    assert "not an image" in reasons["triangle/readme.jpg"]
    assert report.not_images == ["triangle/labels.csv"]
    text = " ".join(report.notices())
    assert "Skipped 5 of 23 image files" in text and "labels.csv" in text


def test_a_lone_bomb_is_an_error_naming_it(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    (tmp_path / "a" / "huge.png").write_bytes(png_header_only(30_000, 30_000))
    with pytest.raises(LoupeError, match=r"No usable images.*huge\.png.*decompression bomb"):
        load(tmp_path)


def test_folder_without_images_names_the_problem(tmp_path: Path) -> None:
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "notes.txt").write_text("hello")
    with pytest.raises(LoupeError, match=r"No images found.*1 other files ignored"):
        load(tmp_path)


def test_empty_class_folder_is_reported_and_left_out(shapes_dir: Path) -> None:
    (shapes_dir / "hexagon").mkdir()
    loaded = load(shapes_dir)
    assert loaded.label_names == ["circle", "square", "triangle"]
    assert loaded.report.empty_classes == ["hexagon"]
    assert any("'hexagon' has no usable images" in n for n in loaded.report.notices())


def test_one_class_only_is_an_error(tmp_path: Path) -> None:
    make_shapes(tmp_path / "d", per_class=4, size=16)
    for other in ("square", "triangle"):
        for f in (tmp_path / "d" / other).iterdir():
            f.unlink()
    with pytest.raises(LoupeError, match="needs at least 2 classes") as err:
        load(tmp_path / "d")
    assert "square" in str(err.value)  # the empty folders are named too


def test_small_class_is_reported(shapes_dir: Path) -> None:
    for f in sorted((shapes_dir / "square").iterdir())[2:]:
        f.unlink()
    loaded = load(shapes_dir)
    assert loaded.report.small_classes == {"square": 2}
    assert loaded.splits["train"]  # still trains


@pytest.mark.parametrize("fmt", ["gif", "webp", "bmp", "png", "jpeg"])
def test_formats_decode_to_rgb(fmt: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (10, 200, 30)).save(buffer, format=fmt.upper())
    array = decode_image(buffer.getvalue())
    assert array.shape == (10, 20, 3) and array.dtype == np.uint8


def test_animated_gif_uses_the_first_frame() -> None:
    frames = [Image.new("P", (8, 8), i) for i in (1, 2)]
    frames[0].putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * 759)
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    assert tuple(decode_image(buffer.getvalue())[0, 0]) == (255, 0, 0)


def test_modes_are_converted() -> None:
    cmyk = decode_image(jpeg_bytes(mode="CMYK", colour=(0, 255, 255, 0)))  # pure red in CMYK
    assert cmyk[0, 0, 0] > 200 and cmyk[0, 0, 1] < 60
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 0))  # fully transparent -> white background
    assert tuple(decode_image(rgba)[0, 0]) == (255, 255, 255)
    grey = Image.new("L", (4, 4), 77)
    assert tuple(decode_image(grey)[0, 0]) == (77, 77, 77)
    deep = Image.fromarray(np.array([[0, 65535]], dtype=np.uint16))
    assert decode_image(deep)[0].tolist() == [[0, 0, 0], [255, 255, 255]]
    palette = Image.new("P", (2, 2), 0)
    palette.info["transparency"] = 0
    assert decode_image(palette).shape == (2, 2, 3)


def test_exif_orientation_is_applied() -> None:
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    assert decode_image(buffer.getvalue()).shape == (40, 20, 3)


def test_decode_shrinks_large_images_but_never_enlarges() -> None:
    assert decode_image(jpeg_bytes((400, 300)), short_side=60).shape == (60, 80, 3)
    assert decode_image(jpeg_bytes((40, 30)), short_side=60).shape == (30, 40, 3)
    with pytest.raises(ImageProblem, match="pixel cap"):
        decode_image(jpeg_bytes((100, 100)), max_pixels=50)


def test_train_val_folders_are_honoured(tmp_path: Path) -> None:
    make_shapes(tmp_path / "ds" / "train", per_class=8, size=16)
    make_shapes(tmp_path / "ds" / "val", per_class=2, size=16, seed=1)
    loaded = load(tmp_path / "ds")
    assert "train/ and val/ folders honoured; test carved from train/" in loaded.report.layout
    names = {loaded.pool.records[i].name.split("/")[0] for i in loaded.splits["val"]}
    assert names == {"val"} and len(loaded.splits["val"]) == 6
    test_names = {loaded.pool.records[i].name.split("/")[0] for i in loaded.splits["test"]}
    assert test_names == {"train"} and len(loaded.splits["test"]) == 6


def test_wrapping_folder_nested_files_and_hidden_files(tmp_path: Path) -> None:
    make_shapes(tmp_path / "outer" / "pets", per_class=4, size=16)
    nested = tmp_path / "outer" / "pets" / "circle" / "more"
    nested.mkdir()
    (nested / "x.png").write_bytes((tmp_path / "outer/pets/circle/circle_000.png").read_bytes())
    (tmp_path / "outer" / "pets" / "circle" / ".DS_Store").write_text("junk")
    loaded = load(tmp_path / "outer")
    assert loaded.report.classes == {"circle": 5, "square": 4, "triangle": 4}
    assert loaded.report.not_images_count == 0


def test_cache_budget_falls_back_to_decoding(shapes_dir: Path, monkeypatch) -> None:
    monkeypatch.setattr(images_mod, "CACHE_BUDGET_BYTES", 24 * 24 * 3 * 5)
    loaded = load(shapes_dir)
    assert loaded.report.cached_images == 5
    lazy = next(i for i, a in enumerate(loaded.pool.arrays) if a is None)
    assert loaded.pool.pixels(lazy).shape == (24, 24, 3)


def test_fingerprint_follows_content(shapes_dir: Path) -> None:
    first = load(shapes_dir).fingerprint
    assert load(shapes_dir).fingerprint == first
    Image.new("RGB", (24, 24)).save(shapes_dir / "circle" / "circle_000.png")
    assert load(shapes_dir).fingerprint != first


def test_task_load_data_report_and_errors(shapes_dir: Path, tmp_path: Path) -> None:
    task = get_task("image")
    (shapes_dir / "square" / "bad.png").write_text("nope")
    cfg = task.default_config("shapes").replace(data={"source": str(shapes_dir)})
    data = task.load_data(cfg)
    assert data.meta["ingestion"]["skipped_count"] == 1
    assert any("Skipped 1 of 19" in n for n in data.notices)
    batch = data.collate_fn([data.train[i] for i in range(3)])
    assert batch["pixel_values"].shape == (3, 3, 32, 32) and batch["labels"].dtype == torch.long
    with pytest.raises(LoupeError, match="does not exist"):
        task.load_data(cfg.replace(data={"source": str(tmp_path / "missing")}))
    (tmp_path / "notzip.zip").write_text("plain text")
    with pytest.raises(LoupeError, match="neither a folder nor a zip"):
        task.load_data(cfg.replace(data={"source": str(tmp_path / "notzip.zip")}))


def test_file_names_in_the_report_are_masked(shapes_dir: Path) -> None:
    (shapes_dir / "circle" / "jane.doe@example.com.png").write_text("not an image")
    (shapes_dir / "circle" / "call 555-123-4567.txt").write_text("hi")
    report = load(shapes_dir).report
    shown = " ".join([s["file"] for s in report.skipped] + report.not_images)
    assert "jane.doe" not in shown and "555-123" not in shown
