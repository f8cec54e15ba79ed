"""Deleting an image run deletes what the cache kept of its photos (decoded pixels, probe
features): the run lists the entries its data used in ``cache.json`` and ``delete_run`` removes
them, never anything outside the cache's own entry names."""

from __future__ import annotations

import json
from pathlib import Path

from core.paths import loupe_home
from core.store import RunStore
from core.store.cache_files import cache_entries, forget_cache_entries
from core.tasks import get_task
from core.train import train
from data.make_shapes import make_shapes


def tiny_image_run(photos: Path, store: RunStore) -> str:
    cfg = get_task("image").default_config().replace(
        data={"source": str(photos)}, model={"image_size": 32},
        train={"epochs": 1, "batch_size": 8})
    return train(cfg, store).run_id


def test_deleting_a_run_deletes_its_cached_pixels_and_features(tmp_path: Path) -> None:
    photos = make_shapes(tmp_path / "shapes", per_class=6, size=32, fmt="png")
    store = RunStore()
    run_id = tiny_image_run(photos, store)
    entries = cache_entries(store.run_dir(run_id))
    assert {e.split("/")[1] for e in entries} == {"decoded", "features"}
    files = [loupe_home() / "cache" / e for e in entries]
    assert all(f.is_file() for f in files)
    store.delete_run(run_id)
    assert not any(f.exists() for f in files)
    again = tiny_image_run(photos, store)  # the next run on the same photos decodes them again
    assert store.get_run(again)["status"] == "completed"
    assert all(f.is_file() for f in files)


def test_only_cache_entry_names_are_deleted(tmp_path: Path) -> None:
    bystander = loupe_home() / "cache" / "images" / "decoded" / "keep.npz"
    bystander.parent.mkdir(parents=True, exist_ok=True)
    bystander.write_bytes(b"x")
    outside = tmp_path / "outside.npz"
    outside.write_bytes(b"x")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "cache.json").write_text(json.dumps(
        ["images/decoded/keep.npz", "../../outside.npz", str(outside), "images/decoded/" + "0" * 63
         + "../x.npz", 7]))
    assert cache_entries(run_dir) == []
    assert forget_cache_entries(run_dir) == 0
    assert bystander.is_file() and outside.is_file()
    (run_dir / "cache.json").write_text("not json")
    assert forget_cache_entries(run_dir) == 0
