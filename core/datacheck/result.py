"""The data check's result: flagged examples with a score and a reason, and the counts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.datacheck.duplicates import EXACT, LEAK, NEAR, NEAR_THRESHOLD, duplicate_issues
from core.datacheck.inputs import SPLITS, CheckInputs
from core.datacheck.labels import LABEL_ISSUE, label_issues
from core.datacheck.regression import OUTLIER, RESIDUAL, feature_outliers, residual_issues

ISSUES = (LABEL_ISSUE, RESIDUAL, OUTLIER, LEAK, EXACT, NEAR)
COLUMNS = ["issue", "score", "split", "row", "preview", "reason", "given", "suggested", "duplicate_of",
           "thumbnail", "ref"]
INTERNAL = ["thumbnail", "ref"]  # for the dashboard's review only: not in files or the terminal


@dataclass
class DataCheck:
    """``flags``: one row per (example, issue), highest score first within each issue kind, in
    ``ISSUES`` order; every text in it is masked. ``counts``: issue -> rows flagged;
    ``leakage``: held-out split -> examples repeating a training example."""

    flags: pd.DataFrame
    counts: dict[str, int]
    leakage: dict[str, int]
    examples: dict[str, int]
    feature_note: str
    settings: dict[str, Any]
    seconds: float
    notices: list[str] = field(default_factory=list)
    classes: list[str] | None = None  # classification: the class names a review can relabel to

    def summary(self) -> list[str]:
        total = sum(self.examples.values())
        lines = [f"Checked {total:,} examples ({', '.join(f'{s} {n:,}' for s, n in self.examples.items())}) "
                 f"in {self.seconds:.1f} s; features: {self.feature_note}."]
        for issue in ISSUES:
            if issue in self.counts:
                lines.append(f"{issue}: {self.counts[issue]:,}")
        if any(self.leakage.values()):
            said = {True: "example repeats a training example", False: "examples repeat training examples"}
            lines.append("Leakage: " + ", ".join(f"{n:,} {split} {said[n == 1]}"
                                                 for split, n in self.leakage.items() if n))
        return lines

    def table(self) -> pd.DataFrame:
        """The flags for a file or a terminal: without the image thumbnails (data URLs) and the
        unmasked source references."""
        return self.flags.drop(columns=INTERNAL, errors="ignore")

    def to_dict(self) -> dict[str, Any]:
        flags = self.flags.replace({np.nan: None}).to_dict("records")
        return {"counts": self.counts, "leakage": self.leakage, "examples": self.examples,
                "feature_note": self.feature_note, "settings": self.settings,
                "seconds": self.seconds, "notices": self.notices, "classes": self.classes,
                "flags": flags}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DataCheck:
        return cls(pd.DataFrame(raw["flags"], columns=COLUMNS), raw["counts"], raw["leakage"],
                   raw["examples"], raw["feature_note"], raw["settings"], raw["seconds"],
                   list(raw.get("notices", [])), raw.get("classes"))


def run_check(inputs: CheckInputs, folds: int = 5, seed: int = 0,
              near_threshold: float = NEAR_THRESHOLD, probs: np.ndarray | None = None) -> DataCheck:
    """Every check the inputs allow: label issues (classification) or residuals and outliers
    (regression), then duplicates and leakage. ``probs``: out-of-fold class probabilities from
    elsewhere (``core.datacheck.finetune``) instead of the cheap model's."""
    start = time.perf_counter()
    parts: list[tuple[str, pd.DataFrame]] = []
    if inputs.is_classification:
        parts.append((LABEL_ISSUE, label_issues(inputs, folds, seed, probs)))
    elif inputs.targets is not None:
        parts.append((RESIDUAL, residual_issues(inputs, folds, seed)))
        parts.append((OUTLIER, feature_outliers(inputs)))
    dupes = duplicate_issues(inputs, near_threshold)
    frames = []
    for issue, found in parts:
        frames.append(found.assign(issue=issue))
    frames.append(dupes)
    flags = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) \
        else pd.DataFrame(columns=["index", "issue", "score", "reason"])
    for column in ("split", "row", "preview", "thumbnail", "ref"):
        if column in inputs.frame.columns:
            flags[column] = inputs.frame[column].to_numpy()[flags["index"].astype(int)] if len(flags) else []
    flags["rank"] = flags["issue"].map({issue: i for i, issue in enumerate(ISSUES)})
    flags = flags.sort_values(["rank", "score"], ascending=[True, False], kind="stable")
    flags = flags.reindex(columns=COLUMNS).reset_index(drop=True)
    counts = {issue: int((flags["issue"] == issue).sum()) for issue, _ in parts}
    counts.update({issue: int((dupes["issue"] == issue).sum()) for issue in (LEAK, EXACT, NEAR)})
    held = dupes[dupes["issue"] == LEAK]
    leakage = {split: int((inputs.frame["split"].to_numpy()[held["index"].astype(int)] == split).sum())
               for split in SPLITS if split != "train"}
    examples = {split: int((inputs.frame["split"] == split).sum()) for split in SPLITS
                if (inputs.frame["split"] == split).any()}
    settings = {"folds": folds, "seed": seed, "near_threshold": near_threshold,
                "finetune": probs is not None}
    return DataCheck(flags, counts, leakage, examples, inputs.feature_note, settings,
                     time.perf_counter() - start, list(inputs.notices),
                     list(inputs.label_names) if inputs.label_names else None)
