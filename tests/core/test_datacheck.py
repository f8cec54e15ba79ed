"""The data check's engine (issue 19) on planted problems: flipped labels, duplicates inside and
across splits, an extreme target and an outlying feature value. Real scikit-learn and cleanlab."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("cleanlab")

from core.datacheck.inputs import CheckInputs  # noqa: E402
from core.datacheck.result import DataCheck, run_check  # noqa: E402


def _frame(n: int, splits: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"split": splits, "row": [f"row {i + 1}" for i in range(n)],
                         "preview": [f"example {i}" for i in range(n)], "key": [f"k{i}" for i in range(n)]})


def _clusters(seed: int = 0, n: int = 300) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = rng.normal(0, 4, (3, 16))
    features = centres[labels] + rng.normal(0, 2.0, (n, 16))
    splits = ["train"] * 220 + ["val"] * 40 + ["test"] * 40
    return features.astype(np.float32), labels, splits


def test_flipped_labels_are_found_with_a_plain_reason() -> None:
    features, labels, splits = _clusters()
    rng = np.random.default_rng(1)
    flipped = rng.choice(len(labels), 15, replace=False)
    noisy = labels.copy()
    noisy[flipped] = (labels[flipped] + 1) % 3
    inputs = CheckInputs(_frame(len(labels), splits), features, "test clusters", labels=noisy,
                         label_names=["cat", "dog", "bird"])
    check = run_check(inputs, folds=5)
    found = check.flags[check.flags["issue"] == "label issue"]
    hit = {int(r.split()[1]) - 1 for r in found["row"]}
    precision, recall = len(hit & set(flipped)) / max(1, len(hit)), len(hit & set(flipped)) / 15
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)
    first = found.iloc[0]
    assert first["reason"].startswith(f"labelled {first['given']}; a model that never saw this row is")
    assert first["given"] != first["suggested"] and found["score"].is_monotonic_decreasing
    assert check.counts["label issue"] == len(found)


def test_duplicates_inside_and_across_splits_are_counted_as_leakage() -> None:
    features, labels, splits = _clusters(seed=2)
    frame = _frame(len(labels), splits)
    features[230] = features[5]  # a val example exactly repeating train example 6
    frame.loc[230, "key"] = frame.loc[5, "key"]
    features[10] = features[3] + 1e-3  # a near duplicate inside train (different key)
    inputs = CheckInputs(frame, features, "test clusters", labels=labels, label_names=["a", "b", "c"])
    check = run_check(inputs)
    leak = check.flags[check.flags["issue"] == "leakage"]
    assert list(leak["row"]) == ["row 231"] and leak.iloc[0]["duplicate_of"] == "train row 6"
    assert "held-out score" in leak.iloc[0]["reason"]
    assert check.leakage == {"val": 1, "test": 0}
    near = check.flags[check.flags["issue"] == "near duplicate"]
    assert list(near["row"]) == ["row 11"] and near.iloc[0]["score"] > 0.99
    assert check.counts["exact duplicate"] == 0  # the exact one straddles splits: counted as leakage


def test_regression_flags_an_impossible_target_and_an_outlying_value() -> None:
    rng = np.random.default_rng(3)
    n = 400
    numeric = pd.DataFrame({"rooms": rng.integers(1, 8, n).astype(float), "area": rng.normal(90, 25, n)})
    y = 20_000 * numeric["rooms"].to_numpy() + 1_500 * numeric["area"].to_numpy() + rng.normal(0, 5_000, n)
    y[17] = y[17] * 25  # a typo'd price
    numeric.loc[42, "area"] = 90_000.0  # square metres typed as something else
    features = numeric.to_numpy(dtype=np.float32)
    splits = ["train"] * 300 + ["val"] * 50 + ["test"] * 50
    inputs = CheckInputs(_frame(n, splits), features, "encoded table", targets=y, target_name="price",
                         numeric=numeric, near_duplicates=False)
    check = run_check(inputs)
    residual = check.flags[check.flags["issue"] == "extreme residual"]
    assert list(residual["row"])[0] == "row 18" and len(residual) <= 3
    assert residual.iloc[0]["reason"].startswith("price is ")
    outlier = check.flags[check.flags["issue"] == "feature outlier"]
    assert list(outlier["row"]) == ["row 43"] and outlier.iloc[0]["reason"].startswith("area = 90,000")
    again = DataCheck.from_dict(check.to_dict())  # what the cache stores reads back the same
    assert again.flags.fillna("").astype(str).equals(check.flags.fillna("").astype(str))
    assert again.counts == check.counts


def test_label_names_with_personal_data_are_masked_in_reasons() -> None:
    features, labels, splits = _clusters(seed=4)
    noisy = labels.copy()
    noisy[:10] = (labels[:10] + 1) % 3
    names = ["jane.doe@example.com", "b", "c"]
    inputs = CheckInputs(_frame(len(labels), splits), features, "x", labels=noisy, label_names=names)
    check = run_check(inputs)
    text = check.flags.to_csv()
    assert len(check.flags) and "jane.doe@example.com" not in text
