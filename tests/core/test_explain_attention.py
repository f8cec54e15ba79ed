"""Attention rollout and head summary as pure functions on arrays (cases computed by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from core.explain.attention import head_summary, rollout, row_entropy, top_heads, window


def test_rollout_two_layers_three_tokens_by_hand() -> None:
    # Layer 1, two heads whose mean is A1 = [[1, 0, 0], [.5, .5, 0], [0, 0, 1]]
    l1 = np.array([[[1, 0, 0], [1, 0, 0], [0, 0, 1]],
                   [[1, 0, 0], [0, 1, 0], [0, 0, 1]]], dtype=float)
    # Layer 2, two heads whose mean is A2 = [[0, 1, 0], [0, 1, 0], [.5, 0, .5]]
    l2 = np.array([[[0, 1, 0], [0, 1, 0], [1, 0, 0]],
                   [[0, 1, 0], [0, 1, 0], [0, 0, 1]]], dtype=float)
    # (A + I) row-normalised: A1' = [[1,0,0],[.25,.75,0],[0,0,1]]; A2' = [[.5,.5,0],[0,1,0],[.25,0,.75]]
    # rollout = A2' @ A1' = [[.625, .375, 0], [.25, .75, 0], [.25, 0, .75]]
    expected = np.array([[0.625, 0.375, 0.0], [0.25, 0.75, 0.0], [0.25, 0.0, 0.75]])
    np.testing.assert_allclose(rollout(np.stack([l1, l2])), expected, atol=1e-12)


def test_rollout_single_uniform_layer_and_without_residual() -> None:
    uniform = np.full((1, 3, 4, 4), 0.25)
    np.testing.assert_allclose(rollout(uniform, residual=False), np.full((4, 4), 0.25))
    # with the residual: (0.25 + I) / 2 per row
    np.testing.assert_allclose(rollout(uniform), (np.full((4, 4), 0.25) + np.eye(4)) / 2)
    with pytest.raises(ValueError, match="layers, heads"):
        rollout(np.ones((3, 3)))


def test_rollout_rows_sum_to_one_for_random_attention() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 4, 9, 9))
    att = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(rollout(att).sum(-1), 1.0, atol=1e-12)


def test_head_summary_names_simple_patterns() -> None:
    t = 5
    tokens = ["[CLS]", "good", "sturdy", "blender", "[SEP]"]
    eye = np.eye(t)
    prev = np.zeros((t, t))
    prev[0, 0] = 1
    prev[np.arange(1, t), np.arange(t - 1)] = 1
    first = np.zeros((t, t))
    first[:, 0] = 1
    uniform = np.full((t, t), 1 / t)
    att = np.stack([np.stack([eye, prev]), np.stack([first, uniform])])  # 2 layers x 2 heads
    summary = head_summary(att, tokens)
    by_head = summary.set_index(["layer", "head"])
    assert by_head.loc[(0, 0), "pattern"] == "self"
    assert by_head.loc[(0, 1), "pattern"] == "previous"
    assert by_head.loc[(1, 0), "pattern"] == "first token"
    assert by_head.loc[(1, 0), "top_token"] == "[CLS]"
    assert by_head.loc[(1, 1), "pattern"] == "mixed"
    assert by_head.loc[(0, 0), "focus"] == pytest.approx(1.0)
    assert by_head.loc[(1, 1), "focus"] == pytest.approx(0.0, abs=1e-9)
    assert by_head.loc[(1, 1), "entropy"] == pytest.approx(np.log(t))
    ranked = top_heads(summary, n=2)
    assert len(ranked) == 2 and (ranked["pattern"] != "first token").all()
    assert ranked["focus"].is_monotonic_decreasing


def test_entropy_and_window() -> None:
    np.testing.assert_allclose(row_entropy(np.array([[1.0, 0.0], [0.5, 0.5]])), [0.0, np.log(2)],
                               atol=1e-9)
    matrix = np.arange(100.0).reshape(10, 10)
    part, cut = window(matrix, start=8, size=4)
    assert cut == slice(6, 10) and part.shape == (4, 4) and part[0, 0] == matrix[6, 6]
