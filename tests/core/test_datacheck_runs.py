"""`loupe check` on real runs of each kind with planted problems (issue 19): flipped labels,
duplicates inside and across splits, a typo'd target and an outlying value. Hand-written reviews
and a hand-built apartments table, not the project's sample generators; images: shapes drawn into
class folders with a few put in the wrong folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("cleanlab")

from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig  # noqa: E402
from core.datacheck import check_run  # noqa: E402
from core.store import RunStore  # noqa: E402
from core.tasks import get_task  # noqa: E402
from tests.core.test_explain_fixtures import train_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
# Hand-written phrases over products, so sentiment (not topic) is what tells the labels apart.
PRODUCTS = ["headphones", "kettle", "phone case", "desk lamp", "running shoes", "coffee grinder",
            "backpack", "blender", "keyboard", "tent"]
GOOD = ["The {} works perfectly and I love it", "Really happy with this {}, excellent quality",
        "This {} is brilliant, would buy again", "Great {}, sturdy and well made",
        "The {} exceeded my expectations", "Fantastic {} for the price, highly recommend"]
BAD = ["The {} broke after two days, awful", "Really disappointed with this {}, poor quality",
       "This {} is useless, returning it", "Terrible {}, flimsy and badly made",
       "The {} stopped working almost at once", "Waste of money, do not buy this {}"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> RunStore:
    return RunStore(tmp_path_factory.mktemp("check_home") / "loupe.duckdb")


def _flags(check, issue: str) -> pd.DataFrame:  # noqa: ANN001
    return check.flags[check.flags["issue"] == issue]


def flipped_reviews(seed: int, n: int = 6) -> tuple[list[str], list[str], list[int]]:
    """(texts, labels, indices of the n labels flipped at random): hand-written reviews."""
    texts = [t.format(p) for p in PRODUCTS for t in GOOD] + [t.format(p) for p in PRODUCTS for t in BAD]
    labels = ["positive"] * (len(texts) // 2) + ["negative"] * (len(texts) // 2)
    flipped = sorted(np.random.default_rng(seed).choice(len(texts), n, replace=False).tolist())
    for i in flipped:
        labels[i] = "negative" if labels[i] == "positive" else "positive"
    return texts, labels, flipped


def reviews_config(path: Path, max_steps: int = 1) -> RunConfig:
    """A tiny MiniLM run on a reviews CSV (columns review, sentiment)."""
    return RunConfig(task="text", name="reviews", data=DataConfig(source=str(path), label_column="sentiment"),
                     model=ModelConfig(name="minilm", max_length=32),
                     train=TrainConfig(epochs=1, max_steps=max_steps, batch_size=16, device="cpu",
                                       patience=0))


def test_text_flipped_labels_and_a_case_only_duplicate(store: RunStore, tmp_path: Path) -> None:
    texts, labels, flipped = flipped_reviews(0)
    texts.append("  the HEADPHONES works perfectly and i love it ")  # row 1, case and spaces aside
    labels.append("positive")
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"review": texts, "sentiment": labels}).to_csv(path, index=False)
    run_id = train_run(reviews_config(path), store)
    check = check_run(run_id, store, folds=4)
    found = {int(r.split()[1]) - 1 for r in _flags(check, "label issue")["row"]}  # data row -> index
    assert len(found & set(flipped)) >= 4, (flipped, check.flags[["row", "reason"]])
    assert len(found - set(flipped)) <= 2
    repeats = check.flags[check.flags["issue"].isin(["exact duplicate", "leakage"])]
    assert len(repeats) == 1 and "the same as" in repeats.iloc[0]["reason"]
    pair = {repeats.iloc[0]["row"], repeats.iloc[0]["duplicate_of"].split(" ", 1)[1]}
    assert pair == {"row 1", "row 121"}
    assert "MiniLM" in check.feature_note or "minilm" in check.feature_note
    assert check_run(run_id, store, folds=4).seconds == check.seconds  # the cache answered


def _apartments(rng: np.random.Generator, n: int = 400) -> pd.DataFrame:
    city = rng.choice(["Leeds", "Porto", "Lyon", "Graz"], n)
    rooms = rng.integers(1, 6, n)
    area = np.round(rng.normal(25, 6, n) * rooms + 10, 1)
    premium = pd.Series(city).map({"Leeds": 1.0, "Porto": 0.8, "Lyon": 1.3, "Graz": 0.9}).to_numpy()
    rent = np.round((300 + 9.5 * area) * premium + rng.normal(0, 60, n))
    return pd.DataFrame({"city": city, "rooms": rooms, "area_m2": area, "floor": rng.integers(0, 9, n),
                         "rent": rent})


def test_table_typo_outlier_and_duplicates_across_splits(store: RunStore, tmp_path: Path) -> None:
    frame = _apartments(np.random.default_rng(7))
    frame.loc[17, "rent"] = frame.loc[17, "rent"] * 30  # a typo'd rent
    frame.loc[42, "floor"] = 4_000  # a floor that cannot be
    copies = frame.iloc[100:106].copy()  # six rows repeated at the end of the file
    frame = pd.concat([frame, copies], ignore_index=True)
    path = tmp_path / "apartments.csv"
    frame.to_csv(path, index=False)
    cfg = RunConfig(task="tabular", name="rents", data=DataConfig(source=str(path), target="rent"),
                    model=ModelConfig(name="trees"), train=TrainConfig(device="cpu"))
    run_id = train_run(cfg, store)
    check = check_run(run_id, store)
    data = get_task("tabular").load_data(store.config(run_id))
    where = {split: data.raw[split] for split in ("train", "val", "test")}
    rent_typo = float(frame.loc[17, "rent"])
    top = _flags(check, "extreme residual").iloc[0]
    typo_split = next(s for s, f in where.items() if (f["rent"] == rent_typo).any())
    assert top["split"] == typo_split and top["reason"].startswith(f"rent is {rent_typo:,.0f}")
    outlier = _flags(check, "feature outlier")
    assert len(outlier) == 1 and outlier.iloc[0]["reason"].startswith("floor = 4,000")
    # every repeat of an earlier row (the six copies, and any rows that happen to share all their
    # inputs) is flagged once: as leakage exactly when the first is in train and the repeat is not
    key = ["city", "rooms", "area_m2", "floor"]
    first: dict[tuple, str] = {}
    expected_leaks = expected_repeats = 0
    for split, part in where.items():
        for row in part[key].astype(str).itertuples(index=False):
            if tuple(row) in first:
                expected_repeats += 1
                expected_leaks += first[tuple(row)] == "train" and split != "train"
            else:
                first[tuple(row)] = split
    assert expected_repeats >= 6
    assert len(_flags(check, "leakage")) == expected_leaks
    assert len(_flags(check, "leakage")) + len(_flags(check, "exact duplicate")) == expected_repeats
    assert sum(check.leakage.values()) == expected_leaks


def test_image_folder_with_shapes_in_the_wrong_folder(store: RunStore, tmp_path: Path) -> None:
    from PIL import Image

    from core.datasets.image_samples import draw_shape

    rng = np.random.default_rng(3)
    wrong = []
    for shape in ("circle", "square", "triangle"):
        (tmp_path / "shapes" / shape).mkdir(parents=True)
    for shape in ("circle", "square", "triangle"):
        for i in range(40):
            folder = shape
            if shape == "circle" and i < 3:  # three circles filed as squares
                folder = "square"
                wrong.append(f"square/circle_{i}.png")
            target = tmp_path / "shapes" / folder / f"{shape}_{i}.png"
            Image.fromarray(draw_shape(shape, 48, rng)).save(target)
    cfg = RunConfig(task="image", name="shapes", data=DataConfig(source=str(tmp_path / "shapes")),
                    model=ModelConfig(name="small_cnn", image_size=32, pretrained=False),
                    train=TrainConfig(epochs=1, max_steps=1, batch_size=32, device="cpu", patience=0))
    run_id = train_run(cfg, store)
    check = check_run(run_id, store, folds=4)
    found = set(_flags(check, "label issue")["row"])
    assert len(found & set(wrong)) >= 2, check.flags[["row", "reason"]].head(10)
    assert "thumbnails" in check.feature_note
    assert check.flags["thumbnail"].str.startswith("data:image/jpeg;base64,").all()  # for review
    assert "thumbnail" not in check.table().columns


def test_cli_check_prints_masked_flags_and_writes_all(store: RunStore, tmp_path: Path) -> None:
    run_id = store.list_runs(task="tabular").iloc[0]["id"]
    env = {"LOUPE_HOME": str(store.path.parent), "PATH": "/usr/bin:/bin"}
    out = tmp_path / "flags.csv"
    command = [sys.executable, "-m", "core.cli", "check", run_id, "--top", "3", "--out", str(out)]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "extreme residual" in proc.stdout and "wrote" in proc.stdout
    written = pd.read_csv(out)
    assert len(written) >= 3 and "thumbnail" not in written.columns
    payload = json.loads(subprocess.run([sys.executable, "-m", "core.cli", "check", run_id, "--json"],
                                        cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout)
    assert payload["counts"]["extreme residual"] >= 1 and payload["flags"][0]["reason"]
    bad = subprocess.run([sys.executable, "-m", "core.cli", "check", run_id, "--folds", "1"], cwd=ROOT,
                         env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "folds" in bad.stderr
