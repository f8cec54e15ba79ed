"""Figure builders (pure: arrays in, plotly out), the JSON round trip, and the HTML export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from core.explain import figures as f
from core.explain.result import Explanation


def test_token_strip_diverges_around_zero_and_wraps() -> None:
    tokens = [f"t{i}" for i in range(30)]
    values = np.linspace(-0.2, 0.1, 30)
    fig = f.token_strip(tokens, values, "positive", base_value=0.5, per_row=10)
    heat = fig.data[0]
    assert isinstance(heat, go.Heatmap) and np.asarray(heat.z).shape == (3, 10)
    assert heat.zmid == 0 and heat.zmin == -heat.zmax == pytest.approx(-0.2)
    assert "SHAP" in heat.customdata[0][0] and "t0" in heat.customdata[0][0]
    assert f.token_strip(["", "a"], [0.0, 1.0]).data[0].text[0][0] == f.EMPTY_TOKEN
    assert heat.textfont.size >= 14  # readable token labels (they were ~7 px)


def test_image_overlay_keeps_the_photo_and_colours_regions_by_their_value() -> None:
    """A 12x8 (landscape) photo whose centre 8x8 crop has four regions: the photo keeps its
    aspect, the heat map lies over the crop only, and each region's colour is its own SHAP value
    (the colour bar's scale is the title's sum's scale)."""
    photo = np.zeros((8, 12, 3), dtype=np.uint8)
    segments = np.zeros((8, 8), dtype=int)
    segments[:4, 4:], segments[4:, :4], segments[4:, 4:] = 1, 2, 3
    values = np.array([0.3, -0.1, 0.05, 0.0])
    fig = f.image_overlay(photo, values, segments, "cat", box=(2.0, 0.0, 10.0, 8.0))
    kinds = [type(t).__name__ for t in fig.data]
    assert kinds == ["Image", "Image", "Heatmap"]
    heat = fig.data[2]
    assert heat.zmid == 0 and 0 < heat.opacity < 1
    z = np.asarray(heat.z)
    assert z.shape == (8, 8) and z[0, 0] == 0.3 and z[7, 7] == 0.0 and z[0, 7] == -0.1
    assert heat.x0 == pytest.approx(2.5) and heat.dx == pytest.approx(1.0)  # over the crop
    assert heat.zmax == pytest.approx(0.3)  # per-region values, not per-pixel shares
    assert "+0.2500" in fig.layout.title.text and "4 regions" in fig.layout.title.text
    assert fig.layout.yaxis.scaleanchor == "x" and list(fig.layout.xaxis.range) == [0, 12]
    assert fig.layout.height < 430  # a landscape photo: the panels are shorter than wide


def test_waterfall_runs_from_base_to_prediction() -> None:
    features = [f"c{i}" for i in range(15)]
    values = np.arange(15, dtype=float) - 7
    fig = f.waterfall(features, values, base_value=10.0, prediction=10.0 + values.sum(),
                      feature_values=[str(i) for i in range(15)], max_features=5)
    bars = fig.data[0]
    assert bars.y[0] == "E[f(x)]" and bars.y[-1] == "f(x)"
    assert bars.y[1] == "10 other columns"
    assert bars.x[0] + sum(bars.x[1:-1]) == pytest.approx(10.0 + values.sum())


def test_waterfall_zooms_on_the_effects_not_on_zero() -> None:
    """A house price of ~580k with effects of a few 10k: the axis spans the effects' path."""
    values = np.array([-31_740.0, 25_630.0, -14_670.0, 5_881.0])
    fig = f.waterfall(["a", "b", "c", "d"], values, base_value=583_500.0,
                      prediction=583_500.0 + values.sum())
    low, high = fig.layout.xaxis.range
    path = 583_500.0 + np.concatenate([[0], np.cumsum(values[np.argsort(-np.abs(values))][::-1])])
    assert low < path.min() and high > path.max()
    assert low > 400_000  # not from 0: the smallest effect is over 1% of the visible span
    assert 5_881.0 / (high - low) > 0.05


def test_importance_and_dependence() -> None:
    importance = pd.DataFrame({"feature": ["a", "b"], "mean_abs_shap": [1.0, 3.0], "mean_shap": [0.1, -1]})
    bar = f.importance_bar(importance)
    assert list(bar.data[0].y) == ["a", "b"]  # largest on top (plotly draws bottom-up)
    dependence = pd.DataFrame({"row": [0, 1, 0, 1], "feature": ["a", "a", "b", "b"],
                               "value": ["1", "2", "x", "y"], "numeric": [1.0, 2.0, np.nan, np.nan],
                               "shap": [0.1, -0.2, 0.3, 0.0]})
    numeric = f.dependence_scatter(dependence, "a")
    assert list(numeric.data[0].x) == [1.0, 2.0]
    categorical = f.dependence_scatter(dependence, "b")
    assert categorical.layout.xaxis.type == "category"


def test_attention_figures() -> None:
    rng = np.random.default_rng(0)
    att = rng.random((2, 4, 6, 6))
    att /= att.sum(-1, keepdims=True)
    tokens = ["[CLS]", "a", "a", "b", "", "[SEP]"]  # repeated tokens must stay separate cells
    single = f.attention_matrix(att[0, 0], tokens, size=4, start=1)
    assert np.asarray(single.data[0].z).shape == (4, 4) and list(single.data[0].x) == [1, 2, 3, 4]
    from core.explain.attention import head_summary

    summary = head_summary(att, tokens)
    facets = f.attention_heads(att, tokens, layer=1, cols=2, summary=summary)
    assert len(facets.data) == 4 and all(t.coloraxis == "coloraxis" for t in facets.data)
    # numbered from 1 like the page's Layer slider; every head labelled, every facet has tokens
    assert facets.layout.title.text.startswith("Layer 2 of 2")
    titles = [a.text for a in facets.layout.annotations]
    assert titles[0].startswith("head 1 · ") and "focus" in titles[0] and titles[-1].startswith("head 4")
    for axis in ("xaxis", "xaxis4", "yaxis", "yaxis4"):
        assert list(facets.layout[axis].ticktext)[:2] == ["[CLS]", "a"]
    overview = f.head_overview(summary)
    assert np.asarray(overview.data[0].z).shape == (2, 4)
    assert list(overview.data[0].y) == [1, 2] and list(overview.data[0].x) == [1, 2, 3, 4]


def _explanation() -> Explanation:
    return Explanation(
        run_id="r1", kind="text", method="shap", params={"max_evals": 10},
        values=np.array([[0.1, -0.1], [np.nan, 0.2]]), base_value=np.array([0.4, 0.6]),
        prediction={"label": "pos", "probabilities": {"pos": 0.6}}, labels=["pos", "neg"],
        target_classes=[1, 0], tokens=["good", "<EMAIL>"],
        arrays={"image": np.zeros((2, 2, 3), np.uint8), "rollout": np.eye(2, dtype=np.float32)},
        frames={"tokens": pd.DataFrame({"token": ["good", "<EMAIL>"], "shap": [0.1, None]})},
        info={"decimals": {"rollout": 3}}, notices=["n"], input_label="good <EMAIL>", seconds=1.5)


def test_json_round_trip_keeps_values_and_drops_pixels() -> None:
    expl = _explanation()
    back = Explanation.from_json(expl.to_json())
    np.testing.assert_array_equal(back.values, expl.values)  # NaN survives as NaN
    np.testing.assert_array_equal(back.base_value, expl.base_value)
    assert back.tokens == expl.tokens and back.labels == expl.labels and back.target_classes == [1, 0]
    assert "image" not in back.arrays and back.arrays["rollout"].dtype == np.float32
    assert back.frames["tokens"]["token"].tolist() == ["good", "<EMAIL>"]
    assert back.seconds == 1.5 and not back.from_cache


def test_figures_to_html_inlines_plotly_once(tmp_path) -> None:
    figs = [f.token_strip(["a", "b"], [0.1, -0.1]), f.importance_bar(
        pd.DataFrame({"feature": ["a"], "mean_abs_shap": [1.0]}))]
    (tmp_path / "sub").mkdir()  # a missing folder is an error (tests/hostile/test_output_paths.py)
    path = f.figures_to_html(figs, tmp_path / "sub" / "out.html", title="Run <1>")
    page = (tmp_path / "sub" / "out.html").read_text()
    assert path.endswith("out.html") and page.startswith("<!DOCTYPE html>")
    assert page.count("plotly.js v") == 1 and page.count("Plotly.newPlot") == 2
    assert "Run &lt;1&gt;" in page and "<script src=" not in page  # self-contained
    assert not list((tmp_path / "sub").glob("*.part"))
