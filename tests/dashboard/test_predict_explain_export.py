"""Predict, Explain and Export against one tiny trained tabular run (trained once per session)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from tests.dashboard.conftest import no_exception, open_page


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


@pytest.mark.parametrize("page", ["predict", "explain", "export"])
def test_pages_explain_what_to_do_without_runs(page: str) -> None:
    at = open_page(page)
    no_exception(at)
    assert any("No finished runs yet" in i.value for i in at.info)


def test_predict_one_row_from_the_training_schema(trained: str) -> None:
    at = open_page("predict")
    no_exception(at)
    assert at.selectbox(key="predict_run").value == trained
    labels = {n.label for n in at.number_input}
    assert {"age", "bmi", "bp"} <= labels  # diabetes columns, from TabularPredictor.prep.numeric
    _button(at, "Predict").click().run()
    no_exception(at)
    assert at.metric[0].label == "Predicted progression"
    assert float(at.metric[0].value.replace(",", "")) > 0


def test_batch_prediction_is_masked_and_downloadable(trained: str) -> None:
    from core.datasets.samples import load_tabular_sample

    frame = load_tabular_sample("sample:diabetes")[0].head(30).drop(columns="progression")
    frame.insert(0, "email", [f"patient{i}@clinic.org" for i in range(30)])
    at = open_page("predict")
    at.file_uploader(key="predict_file_tabular").set_value(("batch.csv", frame.to_csv(index=False).encode(),
                                                             "text/csv"))
    at.run()
    no_exception(at)
    result = at.dataframe[0].value
    assert len(result) == 30 and "prediction" in result.columns
    assert result.columns[0] == "prediction"  # first: a wide table never hides it (issue 15)
    assert not result["email"].astype(str).str.contains("@clinic.org").any()
    assert at.get("download_button"), "offers the results for download"


def test_batch_prediction_error_is_shown(trained: str) -> None:
    at = open_page("predict")
    bad = pd.DataFrame({"unrelated": [1, 2, 3]}).to_csv(index=False).encode()
    at.file_uploader(key="predict_file_tabular").set_value(("bad.csv", bad, "text/csv")).run()
    no_exception(at)
    assert at.error and "lacks column" in at.error[0].value


def test_explain_page_renders_for_a_run(trained: str) -> None:
    at = open_page("explain")
    no_exception(at)
    assert at.selectbox(key="explain_run").value == trained
    assert at.radio(key="explain_method_tabular").value == "shap"


def test_export_offers_the_model_zip(trained: str) -> None:
    at = open_page("export")
    no_exception(at)
    _button(at, "Prepare model zip").click().run()
    no_exception(at)
    assert at.get("download_button")
    from core.export import export_model_folder

    with zipfile.ZipFile(io.BytesIO(export_model_folder(trained))) as zf:
        assert any(n.endswith(".safetensors") for n in zf.namelist())


def test_explain_a_badly_predicted_validation_row(trained: str) -> None:
    """Tabular runs offer their worst validation rows (largest error first) as inputs; the picked
    row is the run's own validation row, and explaining it shows the waterfall."""
    from core.explain.shap_tabular import raw_split
    from core.store import RunStore

    at = open_page("explain")
    at.radio(key=f"explain_source_{trained}").set_value("A badly predicted row").run()
    no_exception(at)
    labels = at.selectbox(key=f"explain_example_{trained}").options
    assert len(labels) == 10 and labels[0].startswith("validation row ")
    errors = [abs(float(label.split("(error ")[1].rstrip(")").replace(",", ""))) for label in labels]
    assert errors == sorted(errors, reverse=True)
    _button(at, "Explain").click().run(timeout=300)
    no_exception(at)
    assert not at.error
    assert at.get("plotly_chart")
    row = int(labels[0].split()[2].rstrip(":"))
    assert 0 <= row < len(raw_split(RunStore(), trained, "val"))


def test_cli_batch_keeps_the_target_column(trained: str, tmp_path) -> None:
    """A labelled table predicted from the CLI keeps the user's columns, the target included
    (issue 15, item 3), like the Predict page's batch."""
    from core.cli import main
    from core.datasets.samples import load_tabular_sample

    frame = load_tabular_sample("sample:diabetes")[0].head(12)
    frame.to_csv(tmp_path / "labelled.csv", index=False)
    assert main(["predict", trained, "--data", str(tmp_path / "labelled.csv"),
                 "--out", str(tmp_path / "out.csv")]) == 0
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == [*frame.columns, "prediction"]
    assert np.allclose(out["progression"], frame["progression"])


def test_a_labelled_table_shows_rmse_and_residuals(trained: str) -> None:
    """Issue 19 item 4: a table with the target column is scored (RMSE, MAE, R², two plots)."""
    from core.datasets.samples import load_tabular_sample

    frame = load_tabular_sample("sample:diabetes")[0].head(30)
    at = open_page("predict")
    at.file_uploader(key="predict_file_tabular").set_value(("scored.csv", frame.to_csv(index=False).encode(),
                                                             "text/csv"))
    at.run()
    no_exception(at)
    assert {m.label for m in at.metric} == {"RMSE", "MAE", "R²"}
    charts = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Predicted vs true (this file)" in charts and "Residuals (this file)" in charts
    assert "RMSE by slice (worst on top)" in charts  # 30 rows: sex and the numeric quarters
    assert any(m.value.startswith("**Where it does worst.**") for m in at.markdown)
