"""What a sweep found: its trials as a table, parameter importances, a short summary.

Read from the Optuna journal (params, states, values, per-epoch reports) and the run rows (which
run each trial is). Used by `loupe sweep show`, the Sweeps page and the best run's HTML report.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from core.store import RunStore
from core.sweeps.records import SweepRecords


def load_study(records: SweepRecords, sweep_id: str) -> Any:
    import optuna

    from core.sweeps.study import storage

    folder = records.folder(sweep_id)
    if not (folder / "study.journal").exists():
        return None
    try:
        return optuna.load_study(study_name=sweep_id, storage=storage(folder))
    except KeyError:
        return None


def trials_frame(sweep_id: str, store: RunStore | None = None) -> pd.DataFrame:
    """One row per trial: number, state, value, epochs reported, seconds, run id, then the params."""
    records = SweepRecords(store)
    row = records.get(sweep_id)
    study = load_study(records, row["id"])
    runs = records.runs(row["id"])
    run_of = {int(r.trial_number): r.id for r in runs.itertuples() if r.trial_number == r.trial_number}
    rows = []
    for t in study.get_trials(deepcopy=False) if study is not None else []:
        seconds = ((t.datetime_complete - t.datetime_start).total_seconds()
                   if t.datetime_complete and t.datetime_start else None)
        rows.append({"trial": t.number, "state": t.state.name.lower(), "value": t.value,
                     "epochs": len(t.intermediate_values), "seconds": seconds,
                     "run_id": run_of.get(t.number) or t.user_attrs.get("run_id"),
                     **{k: _plain(v) for k, v in t.params.items()}})
    columns = ["trial", "state", "value", "epochs", "seconds", "run_id", *row["space"]]
    return pd.DataFrame(rows, columns=columns)


def _plain(value: Any) -> Any:
    return float(value) if hasattr(value, "item") and not isinstance(value, (bool, str)) else value


def importances(sweep_id: str, store: RunStore | None = None) -> dict[str, float]:
    """Optuna's parameter importances (its default evaluator) over completed trials; {} until at
    least two completed trials differ."""
    import optuna

    records = SweepRecords(store)
    study = load_study(records, records.resolve(sweep_id))
    if study is None:
        return {}
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2:
        return {}
    try:
        found = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError, ZeroDivisionError):  # e.g. every trial had the same params
        return {}
    return {k: float(v) for k, v in found.items()}


def summary(sweep_id: str, store: RunStore | None = None) -> dict[str, Any]:
    """The sweep's row, its trials, importances and counts: what show/report/page need."""
    records = SweepRecords(store)
    row = records.get(sweep_id)
    trials = trials_frame(row["id"], records.store)
    counts = trials["state"].value_counts().to_dict() if not trials.empty else {}
    return {"sweep": {k: v for k, v in row.items() if k not in ("pid", "host", "cancel_requested")},
            "trials": trials, "importances": importances(row["id"], records.store),
            "counts": {str(k): int(v) for k, v in counts.items()}}


def sweep_of_run(run_id: str, store: RunStore) -> str | None:
    """The sweep a run belongs to, or None."""
    with store.connect() as con:
        row = con.execute("SELECT sweep_id FROM runs WHERE id=?", [run_id]).fetchone()
    return row[0] if row and row[0] else None
