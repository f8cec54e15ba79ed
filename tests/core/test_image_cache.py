"""The image cache (core.datasets.image_cache): a second run on the same photos reuses the decoded
pixels and the LP-FT probe features; any change to a photo, the set of photos or the input size
asks for new ones; a damaged cache file is rebuilt without an error.

Work is counted through the phase callback (what the Train page shows): the images the
"Decoding images" and "reading image features" phases report as done, with real decoding and
a real (pretrained, tiny-input) EfficientNet-Lite0."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.datasets import image_cache
from core.phases import Phase, reporting
from core.tasks import get_task
from data.make_shapes import make_shapes

TASK = get_task("image")
DECODE = "Decoding images"
FEATURES = "Building the model: reading image features"


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return make_shapes(tmp_path / "shapes", per_class=6, size=32, fmt="png")


def run(source: Path, image_size: int = 32) -> tuple[dict[str, int], list[str], list[str]]:
    """Load and build once; (images done per counted phase, phase names, data notices)."""
    done: dict[str, int] = {DECODE: 0, FEATURES: 0}
    names: list[str] = []

    def sink(p: Phase) -> None:
        names.append(p.name)
        if p.name in done and p.done is not None:
            done[p.name] = max(done[p.name], int(p.done))

    cfg = TASK.default_config().replace(data={"source": str(source)},
                                        model={"image_size": image_size})
    with reporting(sink):
        data = TASK.load_data(cfg)
        TASK.build_model(cfg, data)
    return done, names, data.notices


def images(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.png"))


def test_second_run_reuses_decoded_pixels_and_features(photos: Path) -> None:
    first, _, notices = run(photos)
    assert first[DECODE] == len(images(photos)) and first[FEATURES] > 0
    assert not any("cache" in n for n in notices)
    second, names, notices = run(photos)
    assert second == {DECODE: 0, FEATURES: 0}
    assert any("reusing" in n and "cache" in n for n in names)
    assert any("decoded pixels" in n and "cache" in n for n in notices)
    assert any("features were reused from the cache" in n for n in notices)


def test_changed_photo_bytes_are_decoded_again(photos: Path) -> None:
    run(photos)
    target = images(photos)[0]
    pixels = np.asarray(Image.open(target).convert("RGB")).copy()
    pixels[0, 0] = 255 - pixels[0, 0]
    Image.fromarray(pixels).save(target)
    again, _, _ = run(photos)
    assert again[DECODE] == len(images(photos)) and again[FEATURES] > 0


def test_added_and_removed_photos_are_not_served_from_the_cache(photos: Path) -> None:
    run(photos)
    extra = images(photos)[0]
    shutil.copy(extra, extra.with_name("copy-" + extra.name))
    added, _, _ = run(photos)
    assert added[DECODE] == len(images(photos))
    images(photos)[-1].unlink()
    removed, _, _ = run(photos)
    assert removed[DECODE] == len(images(photos))


def test_renamed_class_folder_is_not_served_from_the_cache(photos: Path) -> None:
    run(photos)
    first_class = sorted(p for p in photos.iterdir() if p.is_dir())[0]
    first_class.rename(first_class.with_name("renamed"))
    again, _, _ = run(photos)
    assert again[DECODE] == len(images(photos))


def test_input_size_change_recomputes(photos: Path) -> None:
    run(photos, image_size=32)
    other, _, _ = run(photos, image_size=40)
    assert other[DECODE] == len(images(photos)) and other[FEATURES] > 0


@pytest.mark.parametrize("damage", [b"", b"not a zip at all", None])
def test_corrupt_cache_files_are_rebuilt(photos: Path, damage: bytes | None) -> None:
    run(photos)
    entries = [p for kind in ("decoded", "features")
               for p in image_cache.cache_dir(kind).glob("*.npz")]
    assert len(entries) == 2
    for path in entries:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if damage is None else damage)
    rebuilt, _, notices = run(photos)
    assert rebuilt[DECODE] == len(images(photos)) and rebuilt[FEATURES] > 0
    assert not any("cache" in n for n in notices)
    reused, _, _ = run(photos)  # and the rebuilt entries serve the next run
    assert reused == {DECODE: 0, FEATURES: 0}


def test_cache_is_pruned_to_its_budget(tmp_path: Path) -> None:
    for i in range(4):
        assert image_cache.save_features(f"k{i}", np.zeros((64, 256), np.float32))
    size = next(image_cache.cache_dir("features").glob("*.npz")).stat().st_size
    image_cache.prune(image_cache.cache_dir("features"), 2 * size)
    kept = sorted(p.stem for p in image_cache.cache_dir("features").glob("*.npz"))
    assert len(kept) == 2 and image_cache.load_features("k3", 64) is not None
