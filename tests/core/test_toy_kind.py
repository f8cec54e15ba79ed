"""A new task kind needs only its own files: the test-only "toy" kind (tests/toy_kind/: a task
module and an explainer module) is registered here and then trained, predicted, explained and
exported through the `loupe` command line with no other change to the project."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.explain import explain, methods_for
from core.tasks import register, task_kinds, unregister
from tests.toy_kind.task import ToyTask, blobs


@pytest.fixture
def toy():
    register(ToyTask())
    yield "toy"
    unregister("toy")
    assert "toy" not in task_kinds()


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_a_kind_from_its_own_files_trains_predicts_explains_exports(toy, store, tmp_path, capsys
                                                                    ) -> None:
    assert "toy" in task_kinds() and methods_for("toy") == ("shap",)
    data = tmp_path / "toy.csv"
    blobs(n=100, seed=3).to_csv(data, index=False)

    trained = _json(capsys, ["train", "toy", "--data", str(data), "--target", "label",
                             "--epochs", "4", "--quiet", "--json"])
    run_id = trained["run_id"]
    assert trained["status"] == "completed" and trained["metrics"]["test_accuracy"] >= 0.9

    rows = blobs(n=4, seed=9).drop(columns="label")
    rows.to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "pred.csv"
    assert main(["predict", run_id, "--data", str(tmp_path / "rows.csv"), "--out", str(out)]) == 0
    predictions = pd.read_csv(out)
    # the user's columns first, as they were (issue 15: a batch keeps them), then the predictions
    assert list(predictions.columns) == [*rows.columns, "prediction", "p_no", "p_yes"]
    assert len(predictions) == 4
    np.testing.assert_allclose(predictions[["p_no", "p_yes"]].sum(axis=1), 1.0, atol=1e-6)

    capsys.readouterr()
    row = json.dumps(rows.iloc[0].to_dict())
    html = tmp_path / "why.html"
    shown = _json(capsys, ["explain", run_id, "--input", row, "--html", str(html), "--quiet", "--json"])
    assert shown["kind"] == "toy" and shown["method"] == "shap" and not shown["from_cache"]
    assert [r["feature"] for r in shown["table"]] == ["x0", "x1", "x2"]
    assert html.read_text().count("Plotly.newPlot") == 1  # the toy explainer's waterfall
    expl = explain(run_id, rows.iloc[0].to_dict(), store=store)  # same input: from the cache
    assert expl.from_cache
    probs = predictions.loc[0, ["p_no", "p_yes"]].to_numpy(dtype=float)
    np.testing.assert_allclose(expl.total(), probs - expl.base_value, atol=1e-5)  # additivity
    noise = abs(expl.frame().set_index("feature")["shap"])
    assert noise["x2"] < max(noise["x0"], noise["x1"])  # x2 is noise; the blobs differ in x0, x1

    assert main(["explain", run_id, "--input", str(tmp_path / "rows.csv"), "--row", "3",
                 "--quiet"]) == 0
    described = capsys.readouterr().out
    assert "run " in described and "· toy · shap" in described and "attributions" in described
    assert main(["explain", run_id, "--method", "attention", "--input", row]) == 2
    assert "not available for toy runs" in capsys.readouterr().err

    bundle = tmp_path / "toy.zip"
    exported = _json(capsys, ["export", run_id, "--out", str(bundle), "--json"])
    assert exported["run_id"] == run_id
    names = zipfile.ZipFile(bundle).namelist()
    assert {"model.safetensors", "toy.json", "MODEL_CARD.md"} <= {n.split("/")[-1] for n in names}

