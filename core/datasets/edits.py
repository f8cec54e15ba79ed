"""A dataset version: the user's data as it is on disk plus reviewed edits (issue 19 item 2).

The original file or folder is never modified. An edits file (JSON, written by
``core.datacheck.versions``) lists the examples to leave out and the labels (or, for regression,
target values) to correct, each by a ``ref``: where the example lives in the source (a text file's
1-based row, a table's 1-based data row, an image's path inside the folder). ``DataConfig.edits``
names the file; each kind's loader splits the data exactly as without edits (so the held-out
examples stay the same and runs compare fairly), then applies the edits inside every split.

The version's fingerprint is the source's fingerprint and the edits, hashed together: a run on
an edited version never shares a fingerprint (or a cache entry) with one on the original.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import LoupeError

EDITS_FORMAT = "loupe-data-edits/1"


@dataclass(frozen=True)
class DataEdits:
    """``exclude``: refs left out; ``relabel``: ref -> new class name (classification) or value
    (regression); ``base_fingerprint``: the source the refs point into; ``log``: one entry per
    edit with who/why, kept for the history (not used to load)."""

    base_fingerprint: str
    exclude: frozenset[str] = frozenset()
    relabel: dict[str, Any] = field(default_factory=dict)
    from_run: str | None = None
    log: list[dict[str, Any]] = field(default_factory=list)

    def fingerprint(self) -> str:
        raw = json.dumps({"base": self.base_fingerprint, "exclude": sorted(self.exclude),
                          "relabel": sorted((k, str(v)) for k, v in self.relabel.items())})
        return hashlib.sha256(raw.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {"format": EDITS_FORMAT, "base_fingerprint": self.base_fingerprint,
                "from_run": self.from_run, "exclude": sorted(self.exclude),
                "relabel": dict(sorted(self.relabel.items())), "log": self.log}

    def summary(self) -> str:
        return f"{len(self.exclude):,} left out, {len(self.relabel):,} relabelled"

    # --- applying ---------------------------------------------------------------------------
    def check_base(self, fingerprint: str, source: str) -> None:
        if fingerprint != self.base_fingerprint:
            raise LoupeError(f"{source} changed since these edits were made: they point into a "
                             "different version of the data.",
                             "run the data check again on a run of the data as it is now.")

    def keep(self, refs: Sequence[str]) -> np.ndarray:
        """Boolean mask: which of ``refs`` stay."""
        return np.array([str(r) not in self.exclude for r in refs], dtype=bool)

    def class_labels(self, refs: Sequence[str], labels: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """``labels`` (class ids, aligned with ``refs``) with the relabels applied."""
        out = np.array(labels, copy=True)
        index = {name: i for i, name in enumerate(names)}
        for i, ref in enumerate(refs):
            new = self.relabel.get(str(ref))
            if new is not None:
                if str(new) not in index:
                    raise LoupeError(f"The edits relabel {ref} as '{new}', which is not a class of "
                                     "this data.", f"use one of: {', '.join(map(str, names))}.")
                out[i] = index[str(new)]
        return out

    def values(self, refs: Sequence[str], values: np.ndarray) -> np.ndarray:
        """Regression targets (aligned with ``refs``) with the corrected values applied."""
        out = np.array(values, dtype=float, copy=True)
        for i, ref in enumerate(refs):
            if str(ref) in self.relabel:
                out[i] = float(self.relabel[str(ref)])
        return out


def read_edits(path: str | Path | None) -> DataEdits | None:
    """The edits a ``DataConfig.edits`` names, or None; a missing or damaged file is a clear error."""
    if not path:
        return None
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format") != EDITS_FORMAT:
            raise ValueError(f"format {raw.get('format')!r}")
        return DataEdits(base_fingerprint=str(raw["base_fingerprint"]),
                         exclude=frozenset(map(str, raw.get("exclude", []))),
                         relabel={str(k): v for k, v in dict(raw.get("relabel", {})).items()},
                         from_run=raw.get("from_run"), log=list(raw.get("log", [])))
    except FileNotFoundError:
        raise LoupeError(f"The data edits file {path.name} does not exist.",
                         "train on the original data, or save the review again.") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LoupeError(f"The data edits file {path.name} is not readable ({exc}).",
                         "save the review again.") from None


def edited_fingerprint(fingerprint: str, edits: DataEdits | None) -> str:
    return fingerprint if edits is None else edits.fingerprint()


def edits_notice(edits: DataEdits) -> str:
    origin = f" (from the data check of run {edits.from_run})" if edits.from_run else ""
    return f"A reviewed version of the data{origin}: {edits.summary()}; the split is the original's."
