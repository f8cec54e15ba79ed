"""Symbolic links in image folders, and files of the same name in different class folders.

Documented outcome: links inside the folder (to files or to whole class folders) are never
followed — at training each is listed in the ingestion report's skipped files with its reason
and counted in files_seen, so a linked class cannot vanish unseen; at prediction each gets a row
with the same reason in ``error``. Prediction rows name files by their path relative to the folder
given (``circle/0.png`` and ``square/0.png`` stay apart).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.tasks import get_task
from tests.hostile.conftest import image_folder

TASK = get_task("image")


@pytest.fixture
def linked_folder(tmp_path: Path) -> Path:
    root = image_folder(tmp_path / "data", {"circle": 6, "square": 6})
    outside = image_folder(tmp_path / "elsewhere", {"triangle": 6})
    (root / "triangle").symlink_to(outside / "triangle", target_is_directory=True)
    (root / "circle" / "linked.png").symlink_to(outside / "triangle" / "0.png")
    (root / "square" / "more").symlink_to(outside / "triangle", target_is_directory=True)
    return root


def _config(source: Path):
    return TASK.default_config("shapes").replace(data={"source": str(source)},
                                                 model={"image_size": 32})


def test_training_lists_every_link_as_skipped(linked_folder: Path) -> None:
    data = TASK.load_data(_config(linked_folder))
    report = data.meta["ingestion"]
    skipped = {entry["file"]: entry["reason"] for entry in report["skipped"]}
    assert skipped == {
        "triangle/": "symbolic link to a folder (not followed; its images are not used)",
        "circle/linked.png": "symbolic link (not followed)",
        "square/more/": "symbolic link to a folder (not followed; its images are not used)",
    }
    assert report["files_seen"] == 12 + 3 and report["classes"] == {"circle": 6, "square": 6}
    assert any("3 symbolic link" in n for n in data.notices), data.notices


def test_prediction_names_relative_paths_and_refuses_the_same_links(linked_folder: Path,
                                                                    tmp_path: Path) -> None:
    cfg = _config(linked_folder)
    data = TASK.load_data(cfg)
    TASK.save_artifact(TASK.build_model(cfg, data), cfg, data, tmp_path / "model")
    predictor = TASK.load_predictor(tmp_path / "model", device="cpu")
    frame = predictor.predict(predictor.load_inputs(linked_folder)).set_index("image")
    assert frame.index.is_unique
    assert {"circle/0.png", "square/0.png"} <= set(frame.index)
    links = {"triangle": "symbolic link to a folder", "circle/linked.png": "symbolic link (not",
             "square/more": "symbolic link to a folder"}
    for name, reason in links.items():
        assert frame.loc[name, "error"].startswith(reason), frame.loc[name, "error"]
        assert frame.loc[name, "prediction"] is None
    assert frame.drop(index=list(links))["error"].isna().all()
    assert len(frame) == 12 + 3  # nothing behind a link was read
