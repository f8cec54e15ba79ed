"""The start-up remedies compute exactly what shap's numba kernels compute."""

from __future__ import annotations

import numpy as np
import pytest

from core.explain import shap_speedups
from core.explain.shap_speedups import fill_masks, init_masks, lower_credit, prepare_shap


def _random_clustering(m: int, seed: int) -> np.ndarray:
    """A random binary merge tree over m leaves in shap's format (left, right, distance, size)."""
    rng = np.random.default_rng(seed)
    active = list(range(m))
    sizes = {i: 1 for i in range(m)}
    rows = []
    for new in range(m, 2 * m - 1):
        a, b = rng.choice(len(active), 2, replace=False)
        left, right = active[a], active[b]
        active = [n for n in active if n not in (left, right)] + [new]
        sizes[new] = sizes[left] + sizes[right]
        rows.append([left, right, rng.random() + 0.1, sizes[new]])
    return np.array(rows, dtype=float)


@pytest.fixture(scope="module")
def originals() -> dict:
    prepare_shap()
    return shap_speedups.ORIGINALS


@pytest.mark.parametrize("m,outputs", [(2, 1), (7, 1), (23, 3), (64, 2)])
def test_lower_credit_matches_shap(originals, monkeypatch, m: int, outputs: int) -> None:
    from shap.explainers import _partition

    clustering = _random_clustering(m, m)
    rng = np.random.default_rng(1)
    values = rng.normal(size=(2 * m - 1, outputs)).squeeze()
    mine = values.copy()
    lower_credit(2 * m - 2, 0, m, mine, clustering)
    reference = values.copy()
    plain = originals["lower_credit"].py_func  # shap's own code, run as Python (recursion included)
    monkeypatch.setattr(_partition, "lower_credit", plain)
    plain(2 * m - 2, 0, m, reference, clustering)
    np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)
    assert mine[:m].sum(axis=0) == pytest.approx(values.sum(axis=0))  # credit is conserved


@pytest.mark.parametrize("m", [2, 5, 40])
def test_mask_building_matches_shap(originals, monkeypatch, m: int) -> None:
    from shap.utils import _masked_model

    clustering = _random_clustering(m, 7 * m)
    mine = _masked_model.make_masks(clustering)
    assert _masked_model._init_masks is init_masks and _masked_model._rec_fill_masks is fill_masks
    monkeypatch.setattr(_masked_model, "_init_masks", originals["init_masks"].py_func)
    monkeypatch.setattr(_masked_model, "_rec_fill_masks", originals["fill_masks"].py_func)
    reference = _masked_model.make_masks(clustering)
    assert (mine != reference).nnz == 0
    np.testing.assert_array_equal(mine.indptr, reference.indptr)
    assert mine[2 * m - 2].toarray().all()  # the root holds every leaf


def test_fixed_output_matches_shap(originals) -> None:
    import shap
    from shap.utils import _masked_model

    rng = np.random.default_rng(0)
    samples, masks = 5, 6
    varying = rng.random((masks, samples)) < 0.6
    varying[0] = True
    counts = varying.sum(1)
    positions = np.concatenate([[0], np.cumsum(counts)])
    for shape in [(positions[-1],), (positions[-1], 3)]:
        outputs = rng.normal(size=shape)
        out_shape = (masks,) + shape[1:]
        mine, reference = np.zeros(out_shape), np.zeros(out_shape)
        _masked_model._build_fixed_output(mine, np.zeros((samples,) + shape[1:]), outputs, positions,
                                          varying, counts, shap.links.identity, None)
        kernel = originals["build_fixed_output"]
        kernel(reference, np.zeros((samples,) + shape[1:]), outputs, positions, varying, counts,
               shap.links.identity, None)
        np.testing.assert_allclose(mine, reference, rtol=1e-12)
