"""Cut shap's per-process start-up cost: its numba kernels compile on first use, every process.

Measured on the 2-core development machine: the first SHAP explanation in a fresh process spent
15-30 s compiling (under load), the explanation itself well under a second — ruinous for
``loupe explain`` and for the first click in the dashboard. Three remedies, applied once per
process by ``prepare_shap`` and exact (same numbers as shap's kernels):

1. Kernels that take plain arrays get numba's disk cache (``enable_caching``), in
   ``numba_cache_dir()``; later processes load them in milliseconds.
2. Kernels that cannot be cached — recursive ones (``lower_credit``, ``_rec_fill_masks``) crash
   when reloaded from a cache, and ``_build_fixed_output`` takes the link *function*, which numba
   types by identity — are replaced by plain numpy/Python versions of the same loops. The
   replacement output builder only handles the identity link without linearizing weights (what
   Loupe uses) and hands anything else to shap's own kernel.
3. Nothing else of shap changes; the benchmark compares against shap with the same patches, so
   its ratio measures batching and inference mode, not start-up.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

_READY = False
_LOCK = threading.Lock()  # the dashboard explains from several threads
ORIGINALS: dict[str, Any] = {}  # shap's own kernels, kept for the equivalence tests


def numba_cache_dir() -> Path:
    """Where shap's compiled kernels are kept: NUMBA_CACHE_DIR if set, else the user cache."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "loupe" / "numba"


def prepare_shap() -> Any:
    """Import shap once per process with the start-up remedies above; returns the module."""
    import shap

    with _LOCK:
        if not _READY:
            _patch(shap)
    return shap


def _patch(shap: Any) -> None:
    global _READY
    from numba.core.registry import CPUDispatcher
    from shap.explainers import _partition
    from shap.utils import _masked_model

    _cache_numba_kernels(sys.modules, CPUDispatcher)
    original = _masked_model._build_fixed_output
    identity = shap.links.identity

    def build_fixed_output(averaged_outs: np.ndarray, last_outs: np.ndarray, outputs: np.ndarray,
                           batch_positions: np.ndarray, varying_rows: np.ndarray,
                           num_varying_rows: np.ndarray, link: Any, linearizing_weights: Any) -> None:
        if link is not identity or linearizing_weights is not None:
            return original(averaged_outs, last_outs, outputs, batch_positions, varying_rows,
                            num_varying_rows, link, linearizing_weights)
        samples = last_outs.shape[0]
        for i in range(len(averaged_outs)):
            lo, hi = batch_positions[i], batch_positions[i + 1]
            if lo < hi:
                if num_varying_rows[i] == samples:
                    last_outs[:] = outputs[lo:hi]
                else:
                    last_outs[varying_rows[i]] = outputs[lo:hi]
                averaged_outs[i] = last_outs.mean(axis=0)
            else:
                averaged_outs[i] = averaged_outs[i - 1]
        return None

    ORIGINALS.update(build_fixed_output=original, init_masks=_masked_model._init_masks,
                     fill_masks=_masked_model._rec_fill_masks, lower_credit=_partition.lower_credit)
    _masked_model._build_fixed_output = build_fixed_output
    _masked_model._init_masks = init_masks
    _masked_model._rec_fill_masks = fill_masks
    _partition.lower_credit = lower_credit
    _READY = True


def _sizes(clustering: np.ndarray, nodes: np.ndarray, m: int) -> np.ndarray:
    """Leaf counts of nodes (leaves count 1)."""
    out = np.ones(len(nodes), dtype=np.int64)
    inner = nodes >= m
    out[inner] = clustering[nodes[inner] - m, 3].astype(np.int64)
    return out


def lower_credit(i: int, value: Any, m: int, values: np.ndarray, clustering: np.ndarray) -> None:
    """shap's ``lower_credit`` without recursion: push each node's credit to its children in
    proportion to their sizes. Children always have lower indices than their parent, so walking
    nodes from ``i`` downwards finalises every node before it is split."""
    values[i] += value
    if i < m:
        return
    children = clustering[: i - m + 1, :2].astype(np.int64)
    group = clustering[: i - m + 1, 3].astype(np.int64)
    lsize, rsize = _sizes(clustering, children[:, 0], m), _sizes(clustering, children[:, 1], m)
    for node in range(i, m - 1, -1):
        r = node - m
        values[children[r, 0]] += values[node] * lsize[r] / group[r]
        values[children[r, 1]] += values[node] * rsize[r] / group[r]


def init_masks(cluster_matrix: np.ndarray, m: int, indices_row_pos: np.ndarray,
               indptr: np.ndarray) -> None:
    """shap's ``_init_masks``: CSR row pointers of each node's leaf list."""
    sizes = np.concatenate([np.ones(m, dtype=np.int64), cluster_matrix[: m - 1, 3].astype(np.int64)])
    indptr[1:2 * m] = np.cumsum(sizes)
    indices_row_pos[: 2 * m - 1] = indptr[: 2 * m - 1]


def fill_masks(cluster_matrix: np.ndarray, indices_row_pos: np.ndarray, indptr: np.ndarray,
               indices: np.ndarray, m: int, ind: int) -> None:
    """shap's ``_rec_fill_masks`` without recursion: a node's leaves are its left child's leaves
    followed by its right child's; children come first in index order."""
    indices[indices_row_pos[:m]] = np.arange(m)
    if ind < m:
        return
    children = cluster_matrix[: ind - m + 1, :2].astype(np.int64)
    lsize, rsize = _sizes(cluster_matrix, children[:, 0], m), _sizes(cluster_matrix, children[:, 1], m)
    for node in range(m, ind + 1):
        r = node - m
        pos = indices_row_pos[node]
        lpos, rpos = indices_row_pos[children[r, 0]], indices_row_pos[children[r, 1]]
        indices[pos:pos + lsize[r]] = indices[lpos:lpos + lsize[r]]
        indices[pos + lsize[r]:pos + lsize[r] + rsize[r]] = indices[rpos:rpos + rsize[r]]


def _cache_numba_kernels(modules: dict[str, Any], dispatcher_type: type) -> int:
    """Turn on numba's disk cache for shap's kernels that can take it (not recursive, no function
    arguments). Returns how many were enabled."""
    from numba.core import config

    previous = config.CACHE_DIR
    config.CACHE_DIR = str(numba_cache_dir())
    enabled = 0
    try:
        for name, module in list(modules.items()):
            if not name.startswith("shap") or module is None:
                continue
            for obj in list(vars(module).values()):
                if type(obj) is not dispatcher_type or type(obj._cache).__name__ != "NullCache":
                    continue
                code = obj.py_func.__code__
                if code.co_name in code.co_names or "link" in code.co_varnames[:code.co_argcount]:
                    continue
                try:
                    obj.enable_caching()
                    enabled += 1
                except Exception:  # noqa: BLE001 - an unwritable cache just compiles as before
                    pass
    finally:
        config.CACHE_DIR = previous
    return enabled
