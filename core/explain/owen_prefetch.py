"""Batch the model calls of shap's Partition explainer without changing what it computes.

Why: the Partition explainer refines its coalition tree in priority order — it pops the nodes
whose last evaluation changed the output most, evaluates their children, and repeats until
``max_evals`` is spent. Run with a large ``batch_size`` it pops whole tree levels at once, so
when the budget runs out it has refined *different* nodes than shap's default call (batch 5):
same method, slightly different attributions (r ~ 0.99 on a 20-token sentence at 500 evals).

So we keep shap's own loop and its default small batches — hence its exact order and result —
and make the model calls cheap instead: every masked input the loop can ask for is known from
the tree alone (a node's two masks depend on its context mask and its children, never on model
outputs), so this function evaluates them ahead of time in large, device-sized batches and
answers the loop's small calls from a cache:

1. ``warm()``: breadth-first over the loop's visits — the root, then each visit's four child
   visits (two children x the context with and without the sibling) — until ``budget`` masked
   inputs are collected, plus the all-masked and unmasked inputs; one batched evaluation.
   Different visits often mask the same tokens (a third of them on a 20-token sentence), and
   the cache evaluates each distinct masked text once.
2. A call asking for something not yet evaluated (the loop went deeper than the warm-up) looks
   up the visit that input belongs to and evaluates it with its sub-tree ``depth`` levels down,
   again in one batch.

The loop sees exactly the values it would have computed itself; extra model work is bounded by
what the warm-up and look-ahead guess wrongly (reported as ``evaluated`` vs ``requested``).
Measured (MiniLM tokenizer; budget 1.5 x max_evals, look-ahead depth 1): 20 tokens at
max_evals 500 -> 380 distinct evaluations in one call (shap's loop asks 500 times, in 86 calls);
46 tokens -> 816 in 13 calls; 92 tokens at 1000 -> 1,706 in 41 calls.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Visit = tuple[np.ndarray, int]  # (context mask, tree node)


class PrefetchingFunction:
    """A model function for ``shap.explainers.Partition`` over one input, with look-ahead."""

    def __init__(self, fn: Callable[[list[str]], np.ndarray], masker: Any, text: str, budget: int,
                 depth: int = 1) -> None:
        from shap.utils import make_masks

        self.fn, self.masker, self.text = fn, masker, text
        self.budget, self.depth = int(budget), int(depth)
        self.clustering = np.asarray(masker.clustering(text), dtype=float)
        self.m = self.clustering.shape[0] + 1
        self.node_masks = make_masks(self.clustering)
        self._rows: dict[int, np.ndarray] = {}
        self.cache: dict[str, np.ndarray] = {}
        self.pending: dict[str, Visit] = {}  # inputs of visits not evaluated yet -> their visit
        self.requested = 0  # inputs the explainer asked for
        self.evaluated = 0  # inputs the model actually ran on (warm-up and look-ahead included)
        self.lookaheads = 0

    # --- the tree --------------------------------------------------------------------------
    def _row(self, node: int) -> np.ndarray:
        row = self._rows.get(node)
        if row is None:
            row = np.asarray(self.node_masks[node].toarray()).ravel().astype(bool)
            self._rows[node] = row
        return row

    def _split(self, visit: Visit) -> tuple[int, int] | None:
        """The node's two children, or None where the loop stops (a leaf, a negative distance)."""
        _, node = visit
        if node < self.m:
            return None
        row = self.clustering[node - self.m]
        if len(row) >= 3 and row[2] < 0:
            return None
        return int(row[0]), int(row[1])

    def _expand(self, visit: Visit) -> tuple[list[np.ndarray], list[Visit]]:
        """The two masks the loop evaluates at a visit, and the four visits it queues next."""
        split = self._split(visit)
        if split is None:
            return [], []
        m00, _ = visit
        left, right = split
        m10, m01 = m00 | self._row(left), m00 | self._row(right)
        return [m10, m01], [(m00, left), (m00, right), (m01, left), (m10, right)]

    def _input(self, mask: np.ndarray) -> str:
        return str(np.asarray(self.masker(mask.copy(), self.text)[0]).reshape(-1)[0])

    # --- evaluation --------------------------------------------------------------------------
    def _evaluate(self, inputs: Sequence[str]) -> None:
        todo = list(dict.fromkeys(s for s in inputs if s not in self.cache))
        if not todo:
            return
        outputs = np.asarray(self.fn(todo))
        self.evaluated += len(todo)
        for s, out in zip(todo, outputs, strict=True):
            self.cache[s] = out
            self.pending.pop(s, None)

    def _collect(self, start: list[Visit], levels: int | None, limit: int | None) -> list[str]:
        """Inputs of the visits from ``start`` downwards (breadth-first, at most ``levels`` below
        it and about ``limit`` inputs); the visits left in the queue are registered as pending so
        a later call can find them."""
        inputs: list[str] = []
        queue = deque((visit, 0) for visit in start)
        while queue:
            visit, depth = queue[0]
            if (levels is not None and depth > levels) or (limit is not None and len(inputs) >= limit):
                break
            queue.popleft()
            masks, children = self._expand(visit)
            inputs += [self._input(mask) for mask in masks]
            queue.extend((child, depth + 1) for child in children)
        for visit, _ in queue:
            for mask in self._expand(visit)[0]:
                key = self._input(mask)
                if key not in self.cache:
                    self.pending.setdefault(key, visit)
        return inputs

    def warm(self) -> None:
        """Evaluate the all-masked and unmasked inputs and the first ``budget`` tree inputs."""
        empty = np.zeros(self.m, dtype=bool)
        root: Visit = (empty, 2 * self.m - 2)
        inputs = [self._input(empty), self._input(~empty)]
        inputs += self._collect([root], None, self.budget)
        self._evaluate(inputs)

    def __call__(self, texts: Any) -> np.ndarray:
        keys = [str(t) for t in np.asarray(texts, dtype=object).reshape(-1)]
        self.requested += len(keys)
        missing = [k for k in keys if k not in self.cache]
        if missing:
            visits = list({id(v): v for v in (self.pending.get(k) for k in missing) if v is not None}
                          .values())
            self.lookaheads += 1
            self._evaluate(missing + self._collect(visits, self.depth, None))
        return np.stack([self.cache[k] for k in keys])
