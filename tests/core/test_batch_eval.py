"""Scoring a labelled batch (core.batch_eval; issue 19 item 4): the truth column each kind finds,
the scores against direct computations, rows that cannot be scored, and the CLI line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.metrics import accuracy_score, f1_score, mean_squared_error, r2_score

from core.batch_eval import TRUTH_ATTR, batch_figures, evaluate_batch
from tests.core.test_explain_fixtures import (
    image_run,
    linear_tabular_run,
    runs_in_home,
    text_run,
    tiny_text_model,
)


# --- the scoring itself, on tables written here -------------------------------------------
def _result(truth: list, pred: list, column: str = "label") -> pd.DataFrame:
    frame = pd.DataFrame({column: truth, "prediction": pred})
    frame.attrs[TRUTH_ATTR] = column
    return frame


def test_classification_scores_known_labels_and_names_the_others() -> None:
    result = _result(["pos", "neg", "pos", "meh", None, 1.0],
                     ["pos", "pos", "pos", "neg", "neg", "1"])
    evaluation = evaluate_batch(result, ["neg", "pos", "1"])
    assert evaluation is not None and evaluation.task == "classification"
    assert evaluation.rows == 4 and evaluation.skipped == 2  # 'meh' unknown, None missing
    t, p = ["pos", "neg", "pos", "1"], ["pos", "pos", "pos", "1"]
    assert evaluation.metrics["accuracy"] == pytest.approx(accuracy_score(t, p))
    assert evaluation.metrics["macro_f1"] == pytest.approx(
        f1_score(t, p, labels=["neg", "pos", "1"], average="macro", zero_division=0))
    assert evaluation.matrix == [[0, 1, 0], [0, 2, 0], [0, 0, 1]]
    assert len(evaluation.notices) == 1 and "'meh'" in evaluation.notices[0]
    assert "accuracy 0.75" in evaluation.summary()
    (figure,) = batch_figures(evaluation)
    assert list(figure.data[0].x) == ["neg", "pos", "1"]


def test_regression_scores_numbers_and_skips_the_rest() -> None:
    result = _result([10.0, 12.0, "n/a", 20.0, None], [11.0, 12.5, 13.0, 18.0, 9.0], column="price")
    evaluation = evaluate_batch(result, [])
    assert evaluation is not None and evaluation.task == "regression"
    assert evaluation.rows == 3 and evaluation.skipped == 2
    t, p = [10.0, 12.0, 20.0], [11.0, 12.5, 18.0]
    assert evaluation.metrics["rmse"] == pytest.approx(mean_squared_error(t, p) ** 0.5)
    assert evaluation.metrics["r2"] == pytest.approx(r2_score(t, p))
    assert evaluation.true == t and evaluation.pred == p
    assert "1 rows of 'price' are not numbers" in evaluation.notices[0]
    assert len(batch_figures(evaluation)) == 2


def test_no_truth_column_or_nothing_usable_gives_none() -> None:
    assert evaluate_batch(pd.DataFrame({"prediction": ["pos"]}), ["pos"]) is None
    assert evaluate_batch(_result(["x", "y"], ["pos", "neg"]), ["pos", "neg"]) is None
    assert evaluate_batch(_result(["a", "b"], [1.0, 2.0]), []) is None


# --- each kind finds its truth in a real file, with a real model ----------------------------
@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return runs_in_home(tmp_path_factory.mktemp("batch_eval"), lambda store, home: {
        "text": text_run(store, tiny_text_model(home / "tiny-bert")), "image": image_run(store),
        "tabular": linear_tabular_run(store)})


@pytest.fixture
def home(runs: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("LOUPE_HOME", runs["home"])
    return runs


def test_text_file_with_its_labels_under_another_name_is_scored(home: dict[str, str], tmp_path: Path) -> None:
    from core.predict import load_predictor

    predictor = load_predictor(home["text"])
    negative, positive = sorted(predictor.labels)
    frame = pd.DataFrame({"review": ["A warm, funny and moving film.", "Dull, slow and far too long.",
                                     "I loved every minute.", "A waste of an evening.", "Superb cast."],
                          "sentiment": [positive, negative, positive, negative, "unsure"]})
    frame.to_csv(tmp_path / "labelled.csv", index=False)
    result = predictor.predict_file(tmp_path / "labelled.csv")
    assert result.attrs[TRUTH_ATTR] == "sentiment"
    evaluation = evaluate_batch(result, predictor.labels)
    assert evaluation is not None and evaluation.rows == 4 and evaluation.skipped == 1
    assert evaluation.metrics["accuracy"] == pytest.approx(
        accuracy_score(frame["sentiment"][:4], result["prediction"][:4]))
    assert "'unsure'" in evaluation.notices[0]
    frame.drop(columns=["sentiment"]).to_csv(tmp_path / "unlabelled.csv", index=False)
    assert evaluate_batch(predictor.predict_file(tmp_path / "unlabelled.csv"), predictor.labels) is None


def test_image_class_folders_are_the_truth(home: dict[str, str], tmp_path: Path) -> None:
    from core.datasets.image_samples import shapes
    from core.predict import load_predictor

    predictor = load_predictor(home["image"])
    arrays, labels, names = shapes(per_class=3, seed=7)
    for i, (array, label) in enumerate(zip(arrays, labels, strict=True)):
        (tmp_path / "tree" / names[label]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(tmp_path / "tree" / names[label] / f"{i}.png")
    (tmp_path / "tree" / "loose.png").write_bytes((tmp_path / "tree" / names[0] / "0.png").read_bytes())
    result = predictor.predict_file(tmp_path / "tree")
    assert result.attrs[TRUTH_ATTR] == "class_folder"
    assert result["class_folder"].isna().sum() == 1  # the image outside any class folder
    evaluation = evaluate_batch(result, predictor.labels)
    scored = result.dropna(subset=["class_folder"])
    assert evaluation is not None and evaluation.rows == len(arrays) and evaluation.skipped == 1
    assert evaluation.metrics["accuracy"] == pytest.approx(
        accuracy_score(scored["class_folder"], scored["prediction"]))
    assert np.asarray(evaluation.matrix).sum() == len(arrays)


def test_table_with_its_target_is_scored_and_the_cli_says_so(home: dict[str, str], tmp_path: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    from core.cli import main
    from core.datasets.samples import load_tabular_sample

    frame = load_tabular_sample("sample:diabetes")[0].head(40)
    frame.to_csv(tmp_path / "labelled.csv", index=False)
    assert main(["predict", home["tabular"], "--data", str(tmp_path / "labelled.csv"),
                 "--out", str(tmp_path / "out.csv")]) == 0
    out = pd.read_csv(tmp_path / "out.csv")
    rmse = mean_squared_error(out["progression"], out["prediction"]) ** 0.5
    err = capsys.readouterr().err
    assert "scored: 40 labelled rows (column 'progression'): RMSE" in err
    from core.plots import format_number

    assert f"RMSE {format_number(rmse)}" in err
    assert "worst: " in err and "rows):" in err  # the worst slices, after the scores
    frame.drop(columns=["progression"]).to_csv(tmp_path / "bare.csv", index=False)
    assert main(["predict", home["tabular"], "--data", str(tmp_path / "bare.csv")]) == 0
    assert "scored:" not in capsys.readouterr().err


# --- error slices (issue 19 item 5, for labelled files) --------------------------------------
def test_the_worst_slice_comes_first_and_small_slices_are_left_out() -> None:
    n = 40
    source = ["shop"] * 20 + ["web"] * 16 + ["phone"] * 4  # 'phone' has too few rows to count
    truth = ["pos", "neg"] * 20
    pred = [t if s != "web" else ("neg" if t == "pos" else "pos") for t, s in zip(truth, source, strict=True)]
    result = _result(truth, pred)
    result["source"] = source
    result["age"] = np.arange(n) * 1.5
    evaluation = evaluate_batch(result, ["neg", "pos"])
    worst = evaluation.slices[0]
    assert (worst.column, worst.value, worst.rows, worst.metric) == ("source", "web", 16, 0.0)
    assert worst.gap == pytest.approx(0.0 - evaluation.metrics["accuracy"])
    assert "phone" not in {s.value for s in evaluation.slices}
    ages = [s for s in evaluation.slices if s.column == "age"]
    assert ages and all(s.rows == 10 for s in ages)  # quarters of 40 rows (those that do worse)
    gaps = [s.gap for s in evaluation.slices]
    assert gaps == sorted(gaps) and all(g < 0 for g in gaps)


def test_regression_slices_find_where_errors_are_large_and_mask_category_values() -> None:
    rng = np.random.default_rng(0)
    size = rng.uniform(50, 250, 80)
    truth = size * 1000.0
    pred = truth + np.where(size > 200, 40_000.0, 1_000.0) * rng.choice([-1, 1], 80)
    result = _result(list(truth), list(pred), column="price")
    result["size"] = size
    result["last_name"] = ["Kowalski", "Nguyen"] * 40
    evaluation = evaluate_batch(result, [])
    worst = evaluation.slices[0]
    assert worst.column == "size" and float(worst.value.split(" to ")[0]) > 190
    assert worst.metric > evaluation.metrics["rmse"]
    assert all(s.gap > 0 for s in evaluation.slices)  # only slices worse than all rows
    names = {s.value for s in evaluation.slices if s.column == "last_name"}
    assert names and not names & {"Kowalski", "Nguyen"}, names
    from core.batch_slices import _masked_values

    masked = _masked_values("last_name", ["Kowalski", "Nguyen"])  # two names stay two slices
    assert len(set(masked)) == 2 and not set(masked) & {"Kowalski", "Nguyen"}, masked


def test_long_texts_are_sliced_by_length() -> None:
    texts = [" ".join(["word"] * (3 + i)) for i in range(40)]
    truth = ["pos"] * 40
    pred = ["pos" if i < 20 else "neg" for i in range(40)]  # long texts go wrong
    result = _result(truth, pred)
    result["review"] = texts
    evaluation = evaluate_batch(result, ["neg", "pos"])
    worst = evaluation.slices[0]
    assert worst.column == "review" and worst.value.endswith("words") and worst.metric == 0.0
