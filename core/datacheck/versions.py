"""Fix my data, step two: the reviewed flags become a new version of the run's data.

    save_version(run_id, decisions) -> DataVersion

A decision is ``keep`` (the flag was wrong: nothing changes, the review is recorded), ``exclude``
(leave the example out) or ``relabel`` (a corrected class, or value for regression). The edits go
to ``LOUPE_HOME/datasets/<fingerprint>/edits.json``; the user's file is never touched. A run's
``data.edits`` names that file, and each kind's loader applies it after the original split
(``core.datasets.edits``), so a retrained run is tested on the same held-out examples.
Edits of a run that already trained on a reviewed version add to that version's edits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core.datacheck.inputs import SPLITS
from core.datasets.edits import DataEdits, read_edits
from core.errors import LoupeError

ACTIONS = ("keep", "exclude", "relabel")
VERSIONS_DIR = "datasets"


@dataclass(frozen=True)
class Decision:
    ref: str  # where the example lives in the source (``PreparedData.refs``)
    action: str  # one of ACTIONS
    label: Any = None  # relabel: the class name, or the value for regression
    issue: str = ""  # what the check flagged (recorded with the decision)


@dataclass(frozen=True)
class DataVersion:
    path: Path  # the edits file
    edits: DataEdits
    config: Any  # the run's config on this version: train it to compare

    @property
    def fingerprint(self) -> str:
        return self.edits.fingerprint()


def save_version(run_id: str, decisions: list[Decision], store: Any = None,
                 name: str | None = None) -> DataVersion:
    """Check the decisions against the run's data, write the edits file, return the version and
    the config to retrain on it (same settings; ``name`` or '<run name> · reviewed')."""
    from core.output import atomic_write
    from core.paths import loupe_home
    from core.store import RunStore
    from core.tasks import get_task

    if not decisions:
        raise LoupeError("No decisions to save.", "mark flagged rows keep, exclude or relabel first.")
    store = store or RunStore()
    run = store.get_run(run_id)
    cfg = store.config(run["id"])
    previous = read_edits(cfg.data.edits)
    task = get_task(run["task"])
    data = task.load_data(cfg.replace(data={"edits": None}))  # the source as it is, unedited
    if previous is not None:
        previous.check_base(data.fingerprint, Path(cfg.data.source).name)
    known = {ref for split in SPLITS for ref in data.refs.get(split, [])}
    classes = data.meta.get("labels")
    exclude = set(previous.exclude if previous else ())
    relabel = dict(previous.relabel if previous else {})
    log = list(previous.log if previous else [])
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for d in decisions:
        _validate(d, known, classes)
        exclude.discard(d.ref)
        relabel.pop(d.ref, None)
        if d.action == "exclude":
            exclude.add(d.ref)
        elif d.action == "relabel":
            relabel[d.ref] = str(d.label) if classes else float(d.label)
        log.append({"ref": d.ref, "action": d.action, "label": d.label, "issue": d.issue,
                    "run": run["id"], "at": when})
    edits = DataEdits(data.fingerprint, frozenset(exclude), relabel, from_run=run["id"], log=log)
    folder = Path(loupe_home()) / VERSIONS_DIR / edits.fingerprint()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "edits.json"
    atomic_write(path, json.dumps(edits.to_dict(), indent=1, default=str))
    new_name = name or f"{run['name']} · reviewed"
    return DataVersion(path, edits, cfg.replace(data={"edits": str(path)}, name=new_name))


def _validate(d: Decision, known: set[str], classes: list[str] | None) -> None:
    if d.action not in ACTIONS:
        raise LoupeError(f"'{d.action}' is not a review action.", f"use one of {', '.join(ACTIONS)}.")
    if d.ref not in known:
        raise LoupeError(f"There is no example '{d.ref}' in this run's data.",
                         "run the data check again: the data may have changed.")
    if d.action != "relabel":
        return
    if classes:
        if str(d.label) not in classes:
            raise LoupeError(f"'{d.label}' is not a class of this data.",
                             f"relabel as one of: {', '.join(classes)}.")
        return
    try:
        value = float(d.label)
    except (TypeError, ValueError):
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise LoupeError(f"'{d.label}' is not a number: a corrected target must be one.",
                         "type the value, e.g. 1250.")
