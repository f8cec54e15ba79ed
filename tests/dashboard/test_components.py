"""Pure pieces behind the pages: figure builders, progress estimates, upload names, run rows."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from core import plots
from dashboard.components.progress import estimate, format_duration
from dashboard.components.runs_table import runs_frame
from dashboard.resources import safe_name


def _curves(steps: int, epochs_done: float) -> pd.DataFrame:
    step = np.arange(1, steps + 1)
    return pd.DataFrame({"split": "train", "name": "loss", "step": step,
                         "epoch": step / steps * epochs_done, "value": 1 / step})


def test_estimate_derives_total_eta_and_throughput() -> None:
    start = datetime(2025, 1, 1, 12, 0, 0)
    run = {"status": "running", "started_at": start,
           "config": {"train": {"epochs": 4, "batch_size": 32, "grad_accum": 2}}}
    est = estimate(run, _curves(100, 1.0), now=start + timedelta(seconds=50))  # 1 epoch of 4 in 50 s
    assert est["total"] == 400 and est["fraction"] == pytest.approx(0.25)
    assert est["steps_per_s"] == pytest.approx(2.0)
    assert est["samples_per_s"] == pytest.approx(2.0 * 64)
    assert est["eta_s"] == pytest.approx(150.0)


def test_estimate_prefers_the_points_own_timestamps() -> None:
    start = datetime(2025, 1, 1, 12, 0, 0)
    curves = _curves(100, 1.0)
    curves["time"] = [start + timedelta(seconds=10 + 0.25 * (s - 1)) for s in curves["step"]]
    run = {"status": "running", "started_at": start, "config": {"train": {"epochs": 2, "batch_size": 8}}}
    est = estimate(run, curves, now=start + timedelta(seconds=600))  # a stale page: ignore wall time
    assert est["steps_per_s"] == pytest.approx(4.0)
    assert est["eta_s"] == pytest.approx(25.0)


def test_estimate_respects_max_steps_and_completion() -> None:
    run = {"status": "running", "started_at": None, "config": {"train": {"epochs": 10, "max_steps": 30}}}
    assert estimate(run, _curves(10, 0.5))["total"] == 30
    done = {**run, "status": "completed"}
    est = estimate(done, _curves(30, 1.0), {"samples_per_s": 123.0})
    assert est["fraction"] == 1.0 and est["samples_per_s"] == 123.0
    empty = estimate({"status": "queued", "config": {}}, pd.DataFrame())
    assert empty["step"] == 0 and empty["total"] is None and empty["fraction"] == 0.0


def test_format_duration() -> None:
    assert format_duration(None) == "–"
    assert format_duration(42) == "42 s"
    assert format_duration(125) == "2 min 05 s"
    assert format_duration(3 * 3600 + 60) == "3 h 01 min"


@pytest.mark.parametrize("name, expected", [
    ("data.csv", "data.csv"),
    ("../../etc/passwd.csv", "passwd.csv"),
    ("C:\\Users\\me\\My File (1).CSV", "My_File_1.csv"),
    ("..", "upload"),
    ("résumé 2024.parquet", "r_sum_2024.parquet"),
])
def test_safe_name(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def test_format_number() -> None:
    assert plots.format_number(35953.7) == "35,954"
    assert plots.format_number(np.float32(12.3456)) == "12.35"
    assert plots.format_number(0.0144032) == "0.0144"
    assert plots.format_number(float("nan")) == "–" and plots.format_number(None) == "–"


def test_curves_overlay_has_a_line_per_run_and_split() -> None:
    frame = pd.concat([_curves(20, 1).assign(run="a"), _curves(20, 1).assign(run="b"),
                       _curves(5, 1).assign(run="a", split="val")])
    fig = plots.curves_figure(frame, "loss", by="run")
    assert isinstance(fig, go.Figure) and len(fig.data) == 3
    assert "No 'rmse' points" in plots.curves_figure(frame, "rmse").layout.annotations[0].text


def test_regression_and_classification_figures() -> None:
    true, pred = [1.0, 2.0, 3.0], [1.5, 2.0, 2.5]
    assert len(plots.predicted_vs_true_figure(true, pred).data) == 2
    residuals = plots.residual_figure(true, pred).data[0].y
    assert list(residuals) == pytest.approx([-0.5, 0.0, 0.5])
    cm = plots.confusion_figure(["a", "b"], [[3, 1], [0, 4]])
    assert cm.data[0].z[0][0] == pytest.approx(0.75)
    assert plots.confusion_figure([], []).layout.annotations
    figs = plots.report_figures({"confusion_matrix": {"labels": ["a", "b"], "matrix": [[1, 0], [0, 1]]}})
    assert len(figs) == 1
    assert len(plots.report_figures({"test_predictions": {"true": true, "pred": pred}})) == 2


def test_metrics_table_and_parallel_coordinates() -> None:
    runs = [{"id": f"r{i}", "name": f"run {i}", "task": "tabular", "status": "completed",
             "config": {"train": {"lr": 1e-3 * (i + 1), "batch_size": 32, "epochs": 5},
                        "model": {"hidden_sizes": [64, 32 * (i + 1)]}},
             "metrics": {"test_rmse": 10.0 - i, "test_rmse_linear": 12.0, "val_loss": 0.5,
                         "test_precision_x": 0.3, "test_macro_f1": 0.7}} for i in range(3)]
    table = plots.metrics_table(runs)
    assert {"test_rmse", "val_loss", "test_macro_f1"} <= set(table.columns)
    assert "test_rmse_linear" not in table.columns and "test_precision_x" not in table.columns
    frame = plots.hparam_frame(runs, "test_rmse")
    assert list(frame.columns) == ["run", "train.lr", "model.hidden_sizes", "test_rmse"]
    fig = plots.parallel_coordinates_figure(frame, "test_rmse")
    assert isinstance(fig.data[0], go.Parcoords) and len(fig.data[0].dimensions) == 3
    assert plots.parallel_coordinates_figure(frame.head(1), "test_rmse").layout.annotations


def test_privacy_builders_are_reexported_and_missing_names_fail() -> None:
    assert callable(plots.pii_heatmap_figure)
    assert plots.has_builder("curves_figure") and plots.has_builder("pii_roles_figure")
    assert not plots.has_builder("no_such_figure")
    with pytest.raises(AttributeError):
        plots.no_such_figure  # noqa: B018


def test_runs_frame_shows_the_headline_metric() -> None:
    runs = pd.DataFrame({
        "id": ["a", "b"], "name": ["one", "two"], "task": ["tabular", "text"],
        "status": ["completed", "failed"], "created_at": [datetime(2025, 1, 1)] * 2,
        "metrics_json": [json.dumps({"test_rmse": 12345.678}), None], "tags": [["x", "y"], None],
        "device": ["cpu", "cpu"], "notes": ["", ""]})
    frame = runs_frame(runs, {"tabular": "test_rmse", "text": "test_macro_f1"}.get)
    assert list(frame["metric"]) == ["test_rmse", "test_macro_f1"]
    assert frame["value"][0] == 12350.0 and pd.isna(frame["value"][1])
    assert list(frame["tags"]) == ["x, y", ""]
