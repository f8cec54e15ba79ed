"""Fix my data, step three: a run retrained on a reviewed version against the run before it.

    compare_versions(before_id, after_id) -> VersionComparison

Both runs split the same source the same way (a reviewed version keeps the original split), so
their held-out examples can be matched by where they live in the source (``PreparedData.refs``):
the comparison gives the test metrics side by side with the change, and the held-out examples
whose prediction changed (classification) or moved most (regression), masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import LoupeError

SAME_SPLIT = ("source", "val_fraction", "test_fraction", "seed", "max_rows", "target", "text_column",
              "label_column", "negative_source")
MAX_MOVED = 25  # regression: the examples whose prediction moved most


@dataclass
class VersionComparison:
    metrics: pd.DataFrame  # metric, before, after, change
    changed: pd.DataFrame  # row, example, label, before, after (masked)
    split: str
    common: int  # held-out examples in both runs
    left_out: int  # held-out examples of the first run that the second left out
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        what = "changed prediction" if "change" not in self.changed.columns else "moved most"
        return (f"{self.common:,} {self.split} examples in both runs; {len(self.changed):,} "
                f"{what}; {self.left_out:,} left out by the second run's data.")


def _split_predictions(run: dict[str, Any], store: Any, split: str) -> tuple[pd.DataFrame, Any]:
    from core.split_slices import predict_split
    from core.tasks import get_task

    task = get_task(run["task"])
    data = task.load_data(store.config(run["id"]))
    inputs, truth, predicted = predict_split(task, data, store, run["id"], split)
    frame = pd.DataFrame({"ref": data.refs[split], "truth": truth,
                          "prediction": predicted["prediction"].to_numpy()})
    frame["example"] = _previews(inputs, data, split)
    return frame, data


def _previews(inputs: Any, data: Any, split: str) -> list[str]:
    """What a person reads for each example: masked text, a masked row, or a masked file name."""
    from core.datacheck.inputs import row_previews
    from core.privacy import mask_shortened

    if isinstance(inputs, pd.DataFrame):
        return row_previews(inputs)
    if inputs and isinstance(inputs[0], str):
        return [mask_shortened(t, 120) for t in inputs]
    from core.datasets.image_dataset import masked

    return [masked(ref) for ref in data.refs[split]]


def compare_versions(before_id: str, after_id: str, store: Any = None,
                     split: str = "test") -> VersionComparison:
    from core.store import RunStore

    store = store or RunStore()
    before, after = store.get_run(before_id), store.get_run(after_id)
    if before["task"] != after["task"]:
        raise LoupeError("These runs are of different kinds.", "compare two runs of the same data.")
    a, b = store.config(before["id"]).data, store.config(after["id"]).data
    differ = [name for name in SAME_SPLIT if getattr(a, name) != getattr(b, name)]
    if differ:
        raise LoupeError(f"These runs did not split the same data the same way ({', '.join(differ)} "
                         "differ).", "compare a run with its retrained, reviewed version.")
    for run in (before, after):
        if run["status"] != "completed":
            raise LoupeError(f"Run {run['id']} has not completed ({run['status']}).",
                             "wait for it to finish, or pick a completed run.")
    first, _ = _split_predictions(before, store, split)
    second, data = _split_predictions(after, store, split)
    both = first.merge(second, on="ref", suffixes=("_before", "_after"))
    regression = not data.meta.get("labels")
    if regression:
        both["change"] = both["prediction_after"].astype(float) - both["prediction_before"].astype(float)
        changed = both.reindex(both["change"].abs().sort_values(ascending=False).index).head(MAX_MOVED)
    else:
        changed = both[both["prediction_before"] != both["prediction_after"]]
    rows = pd.DataFrame({
        "row": [_row_label(r) for r in changed["ref"]],
        "example": changed["example_after"].to_numpy(),
        "label": changed["truth_after"].to_numpy(),
        "before": changed["prediction_before"].to_numpy(),
        "after": changed["prediction_after"].to_numpy()})
    if regression:
        rows["change"] = changed["change"].to_numpy()
    notes = []
    relabelled = both[both["truth_before"].astype(str) != both["truth_after"].astype(str)]
    if len(relabelled):
        notes.append(f"{len(relabelled):,} {split} examples carry a corrected label in the second run: "
                     "its metrics are measured against the corrected labels.")
    left_out = int((~first["ref"].isin(second["ref"])).sum())
    if left_out:
        notes.append(f"The second run's {split} metrics are over {left_out:,} fewer examples (its "
                     "data left them out): part of the metric change is those examples, not the model; "
                     f"on the {len(both):,} examples in both runs, the changed predictions below are the "
                     "model's own difference.")
    return VersionComparison(_metric_table(before, after, split), rows.reset_index(drop=True), split,
                             len(both), left_out, notes)


def _row_label(ref: str) -> str:
    if ref.isdigit():
        return f"row {ref}"
    from core.datasets.image_dataset import masked

    return masked(ref)


def _metric_table(before: dict[str, Any], after: dict[str, Any], split: str) -> pd.DataFrame:
    m1, m2 = before.get("metrics") or {}, after.get("metrics") or {}
    names = [k for k in m1 if k.startswith(f"{split}_") and k in m2
             and isinstance(m1[k], (int, float)) and isinstance(m2[k], (int, float))]
    return pd.DataFrame({"metric": names, "before": [float(m1[k]) for k in names],
                         "after": [float(m2[k]) for k in names],
                         "change": [float(m2[k]) - float(m1[k]) for k in names]}).replace({np.nan: None})
