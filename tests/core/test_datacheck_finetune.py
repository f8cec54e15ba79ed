"""The fine-tuned data check (issue 19: "a full K-fold fine-tune as an option"): label issues from
the run's own model trained once per fold, on hand-written reviews and drawn shapes with planted
wrong labels (not the project's sample generators)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("cleanlab")

from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig  # noqa: E402
from core.datacheck import cached_check, check_run  # noqa: E402
from core.datacheck.finetune import finetuned_out_of_fold  # noqa: E402
from core.errors import LoupeError  # noqa: E402
from core.phases import reporting  # noqa: E402
from core.store import RunStore  # noqa: E402
from core.tasks import get_task  # noqa: E402
from tests.core.test_datacheck_runs import flipped_reviews, reviews_config  # noqa: E402
from tests.core.test_explain_fixtures import train_run  # noqa: E402


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> RunStore:
    return RunStore(tmp_path_factory.mktemp("finetune_home") / "loupe.duckdb")


def _label_flags(check) -> pd.DataFrame:  # noqa: ANN001
    return check.flags[check.flags["issue"] == "label issue"]


def test_text_fine_tuned_per_fold_finds_flipped_reviews(store: RunStore, tmp_path: Path) -> None:
    from sklearn.metrics import roc_auc_score

    texts, labels, flipped = flipped_reviews(1)
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"review": texts, "sentiment": labels}).to_csv(path, index=False)
    run_id = train_run(reviews_config(path, max_steps=2), store)
    task = get_task("text")
    data = task.load_data(store.config(run_id))
    probs = finetuned_out_of_fold(task, store.config(run_id), data, folds=3)
    given = np.concatenate([data.train.labels, data.val.labels, data.test.labels])
    rows = [int(r) - 1 for split in ("train", "val", "test") for r in data.refs[split]]
    wrong = np.isin(rows, flipped)
    doubt = 1 - probs[np.arange(len(given)), given]  # how little the fold model believes the label
    assert roc_auc_score(wrong, doubt) >= 0.8, (roc_auc_score(wrong, doubt), doubt[wrong])
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_image_fine_tuned_per_fold_finds_misfiled_tiles(store: RunStore, tmp_path: Path) -> None:
    """Reddish and bluish noise tiles (a tiny CNN learns colour in a few epochs), three bluish
    ones filed under red; the fold models score them without training augmentation."""
    from PIL import Image

    rng = np.random.default_rng(5)
    wrong = []
    for colour in ("red", "blue"):
        (tmp_path / "tiles" / colour).mkdir(parents=True)
    for colour in ("red", "blue"):
        for i in range(36):
            pixels = rng.integers(0, 90, (40, 40, 3))
            pixels[..., 0 if colour == "red" else 2] += 150
            folder = "red" if colour == "blue" and i < 3 else colour
            if folder != colour:
                wrong.append(f"red/blue_{i}.png")
            Image.fromarray(pixels.astype(np.uint8)).save(tmp_path / "tiles" / folder / f"{colour}_{i}.png")
    cfg = RunConfig(task="image", name="tiles", data=DataConfig(source=str(tmp_path / "tiles")),
                    model=ModelConfig(name="small_cnn", image_size=32, pretrained=False),
                    train=TrainConfig(epochs=6, batch_size=16, lr=1e-2, device="cpu", patience=0))
    run_id = train_run(cfg, store)
    runs_before = len(store.list_runs())
    seen: list[str] = []
    with reporting(lambda p: seen.append(p.name)):
        check = check_run(run_id, store, folds=3, finetune=True)
    found = set(_label_flags(check)["row"])
    assert len(found & set(wrong)) >= 2, check.flags[["row", "reason"]].head(10)
    assert len(found - set(wrong)) <= 2
    assert check.flags["thumbnail"].str.startswith("data:image/jpeg;base64,").all()
    assert "fine-tuned once per fold" in check.feature_note and check.settings["finetune"]
    # every fold trained for real, and said so with its number in front of the training phases
    assert any(n.startswith("Fine-tuning fold 3 of 3 · Training") for n in seen), sorted(set(seen))
    assert any(n.startswith("Scoring fold 1") for n in seen)
    assert len(store.list_runs()) == runs_before  # the fold runs stay out of the user's history
    # kept apart from the quick check's cache; asked again, the cache answers
    assert cached_check(run_id, store, folds=3) is None
    assert cached_check(run_id, store, folds=3, finetune=True).seconds == check.seconds


def test_fine_tuned_check_refuses_a_regression_run(store: RunStore) -> None:
    cfg = RunConfig(task="tabular", name="diabetes", data=DataConfig(source="sample:diabetes",
                                                                     target="progression"),
                    model=ModelConfig(name="trees"), train=TrainConfig(device="cpu"))
    run_id = train_run(cfg, store)
    with pytest.raises(LoupeError, match="no classes"):
        check_run(run_id, store, finetune=True)
