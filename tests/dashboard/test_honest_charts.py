"""Charts that tell the truth at a glance (issue 15, item 4): a 1-epoch run's macro-F1 is a clear
marker on a 0–1 axis with a note, not a dot on 0–1.5; train and validation have their own colours;
the same figures reach the HTML report. Driven through the Train page's latest-run panel."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd

from core import plots
from core.config import RunConfig
from tests.dashboard.conftest import no_exception, open_page


def charts(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def one_epoch_run(store) -> str:
    """A finished text run that trained one epoch: many train-loss points, one validation point."""
    run_id = store.create_run(RunConfig(task="text", name="one-epoch"))
    now = datetime.now()
    rows = [("train", "loss", s, 0.7 - s * 0.01) for s in range(1, 13)]
    rows += [("val", "loss", 12, 0.62), ("val", "macro_f1", 12, 0.81), ("val", "accuracy", 12, 0.84)]
    store.append_metrics(pd.DataFrame({
        "run_id": run_id, "step": [r[2] for r in rows], "epoch": [r[2] / 12 for r in rows],
        "split": [r[0] for r in rows], "name": [r[1] for r in rows], "value": [r[3] for r in rows],
        "time": [now + timedelta(seconds=i) for i in range(len(rows))]}))
    store.finish_run(run_id, {"test_macro_f1": 0.8, "test_accuracy": 0.83, "test_loss": 0.6})
    return run_id


def test_one_epoch_metric_is_a_marker_on_a_share_axis(store) -> None:
    one_epoch_run(store)
    at = open_page("train")
    no_exception(at)
    figs = {f["layout"]["title"]["text"]: f for f in charts(at)}
    f1 = figs["macro_f1"]
    assert f1["layout"]["yaxis"]["range"] == [0, 1.04]
    (trace,) = f1["data"]
    assert trace["mode"] == "markers" and trace["marker"]["size"] >= 10
    assert "one evaluation so far" in f1["layout"]["annotations"][0]["text"]
    loss = figs["Loss"]
    colours = {t["name"]: t["line"]["color"] for t in loss["data"]}
    assert set(colours) == {"train", "validation"} and len(set(colours.values())) == 2


def test_several_runs_keep_a_colour_per_run_and_the_report_uses_the_same_builder(store) -> None:
    from core.export.report_html import _curve_figures

    run_id = one_epoch_run(store)
    curves = store.curves(run_id)
    (f1,) = [f for f in _curve_figures(curves) if f.layout.title.text == "macro_f1"]
    assert list(f1.layout.yaxis.range) == [0, 1.04] and f1.data[0].mode == "markers"
    both = pd.concat([curves.assign(run="a"), curves.assign(run="b")])
    fig = plots.curves_figure(both, "loss", by="run")
    colour = {t.name: t.line.color for t in fig.data}
    assert colour["a · train"] == colour["a · validation"] != colour["b · train"]
    assert plots.is_unit_metric("val_macro_f1") and not plots.is_unit_metric("rmse")
