"""Reviewed data versions (issue 19 item 2): flags marked keep / exclude / relabel become an edits
file; the loaders apply it after the original split, so the held-out examples stay the same; the
user's file is never touched; a version has its own fingerprint. Hand-written data with planted
problems (not the project's generators)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("cleanlab")

from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig  # noqa: E402
from core.datacheck import check_run  # noqa: E402
from core.datacheck.compare import compare_versions  # noqa: E402
from core.datacheck.versions import Decision, save_version  # noqa: E402
from core.errors import LoupeError  # noqa: E402
from core.store import RunStore  # noqa: E402
from core.tasks import get_task  # noqa: E402
from tests.core.test_datacheck_runs import flipped_reviews  # noqa: E402
from tests.core.test_explain_fixtures import train_run  # noqa: E402


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunStore:
    monkeypatch.setenv("LOUPE_HOME", str(tmp_path / "home"))
    return RunStore()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _where(data) -> dict[str, str]:  # noqa: ANN001
    return {ref: split for split in ("train", "val", "test") for ref in data.refs[split]}


def test_text_review_relabels_and_excludes_on_the_same_split(store: RunStore, tmp_path: Path) -> None:
    texts, labels, flipped = flipped_reviews(1)
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"review": texts, "sentiment": labels}).to_csv(path, index=False)
    before = _digest(path)
    cfg = RunConfig(task="text", name="reviews", data=DataConfig(source=str(path), label_column="sentiment"),
                    model=ModelConfig(name="minilm", max_length=32),
                    train=TrainConfig(epochs=1, max_steps=1, batch_size=16, device="cpu", patience=0))
    run_id = train_run(cfg, store)
    check = check_run(run_id, store, folds=4)
    flags = check.flags[check.flags["issue"] == "label issue"]
    planted = {str(i + 1) for i in flipped}  # 1-based file rows
    assert set(flags["ref"]) & planted, flags[["ref", "reason"]]
    decisions = [Decision(r.ref, "relabel", r.suggested, r.issue) for r in flags.itertuples()
                 if r.ref in planted]
    decisions.append(Decision("2", "exclude", issue="label issue"))
    decisions.append(Decision("3", "keep", issue="label issue"))
    version = save_version(run_id, decisions, store)

    assert _digest(path) == before  # the user's file is never modified
    task = get_task("text")
    original, edited = task.load_data(store.config(run_id)), task.load_data(version.config)
    assert edited.fingerprint == version.fingerprint != original.fingerprint
    was, now = _where(original), _where(edited)
    assert "2" not in now and {r: s for r, s in was.items() if r != "2"} == now  # the same split
    for d in decisions[:-2]:  # relabelled rows carry the corrected class in whatever split they are
        split = now[d.ref]
        position = edited.refs[split].index(d.ref)
        assert edited.meta["labels"][int(edited.__dict__[split].labels[position])] == d.label
    assert any("reviewed version" in n for n in edited.notices)
    saved = json.loads(version.path.read_text())
    assert saved["from_run"] == run_id and [e["action"] for e in saved["log"]][-2:] == ["exclude", "keep"]
    assert version.config.name == "reviews · reviewed"
    retrained = train_run(version.config, store)
    diff = compare_versions(run_id, retrained, store)
    assert diff.common == len(edited.refs["test"]) and diff.left_out == (was["2"] == "test")
    assert set(diff.changed.columns) == {"row", "example", "label", "before", "after"}
    assert (diff.changed["before"] != diff.changed["after"]).all()
    relabelled_in_test = [d.ref for d in decisions[:-2] if now[d.ref] == "test"]
    assert bool(diff.notes) == bool(relabelled_in_test)
    with pytest.raises(LoupeError, match="did not split the same data"):
        other = train_run(cfg.replace(data={"seed": 7}, name="other split"), store)
        compare_versions(run_id, other, store)


def _rents(n: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    area = np.round(rng.normal(60, 15, n), 1)
    return pd.DataFrame({"city": rng.choice(["Leeds", "Porto", "Graz"], n), "area_m2": area,
                         "floor": rng.integers(0, 9, n),
                         "rent": np.round(300 + 9.5 * area + rng.normal(0, 40, n))})


def _tree_run(frame: pd.DataFrame, path: Path, store: RunStore) -> str:
    frame.to_csv(path, index=False)
    return train_run(RunConfig(task="tabular", name="rents", data=DataConfig(source=str(path), target="rent"),
                               model=ModelConfig(name="trees"), train=TrainConfig(device="cpu")), store)


def test_table_review_retrains_without_the_typo(store: RunStore, tmp_path: Path) -> None:
    frame = _rents()
    frame.loc[9, "rent"] *= 40  # data row 10: a typo'd rent
    frame.loc[20, "floor"] = 5_000  # data row 21: an impossible floor
    run_id = _tree_run(frame, tmp_path / "rents.csv", store)
    check = check_run(run_id, store)
    assert "10" in set(check.flags["ref"]) and "21" in set(check.flags["ref"])
    typo = check.flags[check.flags["ref"] == "10"].iloc[0]
    assert typo["row"] == "row 10"  # rows are the file's data rows, not numbered within a split
    corrected = float(frame.loc[9, "rent"]) / 40
    version = save_version(run_id, [Decision("10", "relabel", corrected), Decision("21", "exclude")], store)
    data = get_task("tabular").load_data(version.config)
    where = _where(data)
    assert "21" not in where and "10" in where
    row = data.raw[where["10"]].iloc[data.refs[where["10"]].index("10")]
    assert row["rent"] == pytest.approx(corrected)
    retrained = train_run(version.config, store)
    assert store.get_run(retrained)["dataset_fingerprint"] == version.fingerprint
    diff = compare_versions(run_id, retrained, store)
    first = _where(get_task("tabular").load_data(store.config(run_id)))
    assert diff.left_out == (first["21"] == "test")
    assert (diff.left_out > 0) == any("fewer examples" in n for n in diff.notes)
    assert diff.common == sum(s == "test" for s in first.values()) - diff.left_out
    rmse = diff.metrics.set_index("metric").loc["test_rmse"]
    assert rmse["change"] == pytest.approx(rmse["after"] - rmse["before"])
    assert 0 < len(diff.changed) <= 25 and diff.changed["change"].abs().is_monotonic_decreasing
    again = check_run(retrained, store)
    assert "10" not in set(again.flags[again.flags["issue"] == "extreme residual"]["ref"])
    # a second review of the retrained run adds to the same version's edits
    more = save_version(retrained, [Decision("11", "exclude")], store)
    assert more.edits.exclude == {"21", "11"} and more.edits.relabel == {"10": corrected}


def test_image_review_moves_misfiled_shapes(store: RunStore, tmp_path: Path) -> None:
    from PIL import Image

    from core.datasets.image_samples import draw_shape

    rng = np.random.default_rng(8)
    root = tmp_path / "shapes"
    for shape in ("circle", "square"):
        (root / shape).mkdir(parents=True)
    for shape in ("circle", "square"):
        for i in range(24):
            folder = "square" if shape == "circle" and i < 2 else shape  # two circles misfiled
            Image.fromarray(draw_shape(shape, 40, rng)).save(root / folder / f"{shape}_{i}.png")
    cfg = RunConfig(task="image", name="shapes", data=DataConfig(source=str(tmp_path / "shapes")),
                    model=ModelConfig(name="small_cnn", image_size=32, pretrained=False),
                    train=TrainConfig(epochs=1, max_steps=1, batch_size=16, device="cpu", patience=0))
    run_id = train_run(cfg, store)
    moves = [Decision("square/circle_0.png", "relabel", "circle"), Decision("square/circle_1.png", "exclude")]
    version = save_version(run_id, moves, store)
    data = get_task("image").load_data(version.config)
    where = _where(data)
    assert "square/circle_1.png" not in where
    split = where["square/circle_0.png"]
    dataset = getattr(data, split)
    position = data.refs[split].index("square/circle_0.png")
    assert data.meta["labels"][int(dataset.labels[position])] == "circle"
    assert (tmp_path / "shapes" / "square" / "circle_1.png").is_file()  # nothing moved on disk


def test_careless_reviews_get_clear_errors(store: RunStore, tmp_path: Path) -> None:
    frame = _rents(60)
    path = tmp_path / "rents.csv"
    run_id = _tree_run(frame, path, store)
    with pytest.raises(LoupeError, match="No decisions"):
        save_version(run_id, [], store)
    with pytest.raises(LoupeError, match="no example '999'"):
        save_version(run_id, [Decision("999", "exclude")], store)
    with pytest.raises(LoupeError, match="not a review action"):
        save_version(run_id, [Decision("1", "delete")], store)
    with pytest.raises(LoupeError, match="not a number"):
        save_version(run_id, [Decision("1", "relabel", "a lot")], store)
    version = save_version(run_id, [Decision("1", "exclude")], store)
    frame.loc[0, "rent"] = 1.0  # the file changes after the review
    frame.to_csv(path, index=False)
    with pytest.raises(LoupeError, match="changed since these edits were made"):
        get_task("tabular").load_data(version.config)
    version.path.write_text("{not json")
    with pytest.raises(LoupeError, match="not readable"):
        get_task("tabular").load_data(version.config)
    version.path.unlink()
    with pytest.raises(LoupeError, match="does not exist"):
        get_task("tabular").load_data(version.config)
