"""Label issues, the costly option: out-of-fold probabilities from the run's own model, fine-tuned
K times (issue 19: "a full K-fold fine-tune as an option when the user wants it").

The default check fits a logistic regression on frozen embeddings (``labels``), which takes
seconds. Here every fold is a real training of the run's config (same model, settings and
split) on a dataset version that leaves the fold's examples out (``core.datasets.edits``); the
fold's model then scores the examples it never saw. The fold runs live in a temporary history
that is deleted afterwards: the user's history shows only the check.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.datacheck.inputs import SPLITS
from core.datasets.edits import DataEdits, read_edits
from core.phases import phase, prefixed


def fold_indices(labels: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """The held-out example indices of each fold, stratified by label (as the cheap check)."""
    from sklearn.model_selection import StratifiedKFold

    counts = np.bincount(labels)
    k = int(max(2, min(folds, counts[counts > 0].min())))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [held for _, held in splitter.split(np.zeros(len(labels)), labels)]


def finetuned_out_of_fold(task: Any, cfg: Any, data: Any, folds: int = 5, seed: int = 0
                          ) -> np.ndarray:
    """(examples, classes) probabilities over every split's examples in ``SPLITS`` order (the
    order of ``Task.check_inputs``), each from the run's model fine-tuned without that example."""
    from core.errors import LoupeError
    from core.store import RunStore
    from core.train import train

    refs = [ref for split in SPLITS for ref in data.refs.get(split, [])]
    items = [(split, i) for split in SPLITS for i in range(len(getattr(data, split)))]
    if len(refs) != len(items):
        raise LoupeError("This kind of data cannot be fine-tuned fold by fold (its examples have "
                         "no references).", "use the default check (without --finetune).")
    labels = np.concatenate([np.asarray(getattr(data, s).labels) for s in SPLITS]).astype(int)
    names = list(data.meta["labels"])
    previous = read_edits(cfg.data.edits)
    base = previous.base_fingerprint if previous is not None else data.fingerprint
    probs = np.full((len(items), len(names)), 1.0 / len(names), dtype=np.float64)
    held_folds = fold_indices(labels, folds, seed)
    with tempfile.TemporaryDirectory(prefix="loupe-folds-") as tmp:
        store = RunStore(Path(tmp) / "loupe.duckdb")
        for k, held in enumerate(held_folds, start=1):
            edits = DataEdits(base, frozenset(previous.exclude if previous else ()) | {refs[i] for i in held},
                              dict(previous.relabel) if previous else {})
            path = Path(tmp) / f"fold-{k}.json"
            path.write_text(json.dumps(edits.to_dict()))
            with prefixed(f"Fine-tuning fold {k} of {len(held_folds)}"):
                result = train(cfg.replace(data={"edits": str(path)}, name=f"fold {k}"), store=store)
            if result.status != "completed" or result.artifact_dir is None:
                raise LoupeError(f"Fold {k} of the fine-tuned check did not finish ({result.status}).",
                                 "run the check again, or use the default check.")
            tracker = phase(f"Scoring fold {k}'s held-out examples", total=len(held), unit="examples")
            probs[held] = _score(task, data, result.artifact_dir, [items[i] for i in held], tracker)
    return probs


def _score(task: Any, data: Any, artifact_dir: Path, items: list[tuple[str, int]], tracker: Any,
           batch_size: int = 32) -> np.ndarray:
    """Softmax of the fold model's logits on ``items`` (split, index), as evaluation sees them."""
    predictor = task.load_predictor(artifact_dir)
    device = next(predictor.model.parameters()).device
    views = {s: task.evaluation_view(getattr(data, s)) for s in SPLITS}
    out = []
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            chunk = items[start:start + batch_size]
            batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v
                     for k, v in data.collate_fn([views[s][i] for s, i in chunk]).items()}
            _, logits = task.forward(predictor.model, batch)
            out.append(torch.softmax(logits.float(), dim=-1).cpu().numpy())
            tracker.update(start + len(chunk))
    return np.concatenate(out)
