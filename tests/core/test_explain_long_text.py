"""Long texts: token SHAP window by window (``shap_text._explain_windows``) on the tiny text run.

The tiny run's model reads 32 tokens, so a small ``window`` stands in for the 128 of a real run."""

from __future__ import annotations

import numpy as np
import pytest

from core.explain import explain
from core.explain.shap_text import MIN_WINDOW_EVALS, explain_text, long_text_evals
from core.models import text_models as tm
from core.predict import load_predictor
from core.store import RunStore
from tests.core.test_explain_fixtures import text_run, tiny_text_model

LONG = ("I returned the kettle after three weeks. It boiled quickly and looked lovely on the counter, "
        "but the lid hinge wobbled from day one and the handle got far too hot to hold. Support "
        "was polite and refunded me without any fuss, which I appreciated a lot.")
SHORT = "The blender is loud but it works great."


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunStore, str]:
    root = tmp_path_factory.mktemp("explain_long_text")
    store = RunStore(root / "loupe.duckdb")
    return store, text_run(store, tiny_text_model(root / "tiny-bert"))


def test_long_text_is_explained_per_window_and_each_window_adds_up(run) -> None:
    store, run_id = run
    predictor = load_predictor(run_id, store)
    limit = int(predictor.meta["max_length"])
    ids, truncated = tm.encode_texts(predictor.tokenizer, [LONG], limit)
    assert truncated[0]  # longer than the model reads: windows cover what it reads
    expl = explain_text(predictor, LONG, max_evals=200, window=12)
    assert len(expl.tokens) == len(ids[0]) == limit  # every token the model reads has a value
    assert expl.values.shape == (limit, 1)
    frame = expl.frames["tokens"]
    windows = expl.info["windows"]
    assert len(windows) == 3 and sorted(set(frame["window"]) - {-1}) == [0, 1, 2]
    assert all(k <= 14 for k in frame["window"].value_counts().drop(-1, errors="ignore"))
    assert any("explained in 3 windows" in n for n in expl.notices)
    f_x = expl.prediction["explained_outputs"][expl.labels[0]]
    for w in windows:  # a window's values: f(text) - f(text with only that window masked)
        total = expl.values[frame["window"].to_numpy() == w["window"]].sum(axis=0)
        np.testing.assert_allclose(total, f_x - np.array(w["masked_output"]), atol=1e-5)
    np.testing.assert_allclose(expl.total() + expl.base_value, f_x, atol=1e-6)
    assert expl.values[0, 0] == expl.values[-1, 0] == 0.0  # [CLS] and [SEP] are not players
    budget = max(long_text_evals(200, limit - 2, 12), MIN_WINDOW_EVALS * len(windows))
    assert expl.info["evaluations"] <= budget + len(windows)


def test_short_text_is_explained_as_before(run) -> None:
    store, run_id = run
    predictor = load_predictor(run_id, store)
    ours = explain_text(predictor, SHORT, max_evals=80)
    whole = explain_text(predictor, SHORT, max_evals=80, window=0)  # windows off: the one-piece path
    np.testing.assert_array_equal(ours.values, whole.values)
    assert ours.tokens == whole.tokens and "windows" not in ours.info
    assert not any("windows" in n for n in ours.notices)


def test_window_setting_is_part_of_the_cache_key(run) -> None:
    store, run_id = run
    first = explain(run_id, LONG, store=store, max_evals=120, window=12)
    other = explain(run_id, LONG, store=store, max_evals=120, window=16)
    again = explain(run_id, LONG, store=store, max_evals=120, window=12)
    assert not other.from_cache and again.from_cache
    assert len(first.info["windows"]) == 3 and len(other.info["windows"]) == 2
    assert any("windows" in n for n in again.notices)


def test_the_same_text_gets_the_same_values_whatever_numpy_was_seeded_with(run) -> None:
    """shap's Partition explainer breaks ties with numpy's global generator; the tiny model's
    near-constant outputs tie often, so without ``reproducible_ties`` two calls differed."""
    store, run_id = run
    predictor = load_predictor(run_id, store)
    np.random.seed(123)
    first = explain_text(predictor, SHORT, max_evals=80)
    np.random.seed(999)
    before = np.random.get_state()[1].copy()
    second = explain_text(predictor, SHORT, max_evals=80)
    np.testing.assert_array_equal(first.values, second.values)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # the caller's generator is untouched
