"""Sentence embeddings from a frozen pretrained encoder (mean of the last hidden states over
real tokens), for the data check's out-of-fold model and near-duplicate search."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from core.models import text_models as tm


def mean_pooled(name: str | None, input_ids: Sequence[Sequence[int]], pad_id: int,
                batch_size: int = 64, on_batch: Callable[[int], None] | None = None) -> np.ndarray:
    """(texts, hidden) float32 embeddings of already tokenised texts, from the pretrained
    ``name`` (not a fine-tuned run: its head learned the very labels being checked)."""
    encoder = tm.build_classifier(name, ["a", "b"]).base_model.eval()
    collate = tm.PadCollator(int(pad_id))
    order = np.argsort([-len(row) for row in input_ids], kind="stable")  # little padding
    out: np.ndarray | None = None
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            batch = collate([{"input_ids": input_ids[i]} for i in idx])
            hidden = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])[0]
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).float().numpy()
            if out is None:
                out = np.zeros((len(input_ids), pooled.shape[1]), dtype=np.float32)
            out[idx] = pooled
            if on_batch is not None:
                on_batch(min(start + batch_size, len(order)))
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)
