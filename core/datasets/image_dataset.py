"""Torch side of image data: the decoded-pixel pool shared by all splits, the split datasets
(training augmentation or deterministic eval), the batch collation and stratified splitting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from core.datasets.image_transforms import (
    Preprocess,
    decode_image,
    eval_tensor,
    thumbnail_data_uri,
    train_tensor,
)


@dataclass
class ImageRecord:
    """One usable image: where it came from and its class id."""

    name: str  # display name: path relative to the dataset root, or "digits/17"
    label: int
    path: str | None = None  # absolute file path; None for in-memory samples


@dataclass
class ImagePool:
    """Decoded pixels shared by all splits: cached arrays, or None to decode from ``path``."""

    records: list[ImageRecord]
    arrays: list[np.ndarray | None]
    short_side: int | None

    def pixels(self, index: int) -> np.ndarray:
        array = self.arrays[index]
        if array is not None:
            return array
        path = self.records[index].path
        assert path is not None
        return decode_image(path, self.short_side)


class ImageDataset(Dataset):
    """A split: indices into the pool, with training augmentation or deterministic eval."""

    def __init__(self, pool: ImagePool, indices: list[int], prep: Preprocess, train: bool):
        self.pool = pool
        self.indices = list(indices)
        self.prep = prep
        self.train = train
        self.labels = np.array([pool.records[i].label for i in self.indices], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, item: int) -> tuple[torch.Tensor, int]:
        array = self.pool.pixels(self.indices[item])
        tensor = train_tensor(array, self.prep) if self.train else eval_tensor(array, self.prep)
        return tensor, int(self.labels[item])

    def record(self, item: int) -> ImageRecord:
        return self.pool.records[self.indices[item]]

    def pixels(self, item: int) -> np.ndarray:
        return self.pool.pixels(self.indices[item])


def collate_images(items: list[tuple[torch.Tensor, int]]) -> dict[str, torch.Tensor]:
    """Stack samples into the batch dict every task uses."""
    return {
        "pixel_values": torch.stack([x for x, _ in items]),
        "labels": torch.tensor([y for _, y in items], dtype=torch.long),
    }


def split_counts(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """(val, test) counts for a class of n images: at least one each once there are three,
    and always at least one left to train on."""
    n_val = round(n * val_fraction)
    n_test = round(n * test_fraction)
    if n >= 3:
        n_val = max(n_val, 1 if val_fraction > 0 else 0)
        n_test = max(n_test, 1 if test_fraction > 0 else 0)
    while n - n_val - n_test < 1 and (n_val or n_test):
        if n_test >= n_val:
            n_test -= 1
        else:
            n_val -= 1
    return n_val, n_test


def stratified_split(
    labels: list[int], indices: list[int], val_fraction: float, test_fraction: float, seed: int
) -> dict[str, list[int]]:
    """Per-class shuffled split, so every class appears in every split it can."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    by_class: dict[int, list[int]] = {}
    for index in indices:
        by_class.setdefault(labels[index], []).append(index)
    for label in sorted(by_class):
        members = list(by_class[label])
        rng.shuffle(members)
        n_val, n_test = split_counts(len(members), val_fraction, test_fraction)
        out["test"] += members[:n_test]
        out["val"] += members[n_test : n_test + n_val]
        out["train"] += members[n_test + n_val :]
    return {k: sorted(v) for k, v in out.items()}


def assign_splits(
    labels: list[int],
    by_split: dict[str, list[int]],
    val_fraction: float,
    test_fraction: float,
    seed: int,
) -> dict[str, list[int]]:
    """Honour train/val/test folders; carve whatever is missing from train (or from all)."""
    if "all" in by_split:
        return stratified_split(labels, by_split["all"], val_fraction, test_fraction, seed)
    train = by_split.get("train", [])
    carve_val = 0.0 if "val" in by_split else val_fraction
    carve_test = 0.0 if "test" in by_split else test_fraction
    out = stratified_split(labels, train, carve_val, carve_test, seed)
    for split in ("val", "test"):
        if split in by_split:
            out[split] = sorted(by_split[split])
    return out


def masked(name: str) -> str:
    from core.privacy import mask_text

    return mask_text(name)


def worst_images(dataset: Any, logits: np.ndarray | None, true: np.ndarray | None,
                 labels: list[str], limit: int = 16) -> list[dict[str, Any]]:
    """The most confidently wrong validation images, with a thumbnail each for the gallery."""
    if logits is None or true is None or not len(true):
        return []
    shifted = np.asarray(logits, dtype=float)
    shifted = np.exp(shifted - shifted.max(axis=1, keepdims=True))
    probs = shifted / shifted.sum(axis=1, keepdims=True)
    true = np.asarray(true, dtype=int)
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != true)
    wrong = wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")][:limit]
    out = []
    for i in wrong:
        record = dataset.record(int(i))
        out.append({
            "index": int(i), "name": masked(record.name),
            "path": masked(record.path) if record.path else None,
            "true": labels[true[i]], "predicted": labels[pred[i]],
            "confidence": float(probs[i, pred[i]]), "p_true": float(probs[i, true[i]]),
            "thumbnail": thumbnail_data_uri(dataset.pixels(int(i))),
        })
    return out
