"""What may be done to an existing run: train into it, resume it, delete it.

A completed run's model is never replaced and an active run is never deleted under its trainer.
"""

from __future__ import annotations

from typing import Any

from core.errors import LoupeError
from core.store.ids import check_run_id

ACTIVE = ("queued", "running")


def check_deletable(store: Any, run_id: str) -> None:
    """Refuse to delete a queued or running run: its trainer would go on writing into it."""
    check_run_id(run_id)
    store.recover_interrupted()  # a 'running' run whose process died is not active
    with store.connect() as con:
        row = con.execute("SELECT status FROM runs WHERE id=?", [run_id]).fetchone()
    if row is not None and row[0] in ACTIVE:
        raise LoupeError(
            f"Run {run_id} is {row[0]}: deleting it now would leave its trainer writing into a "
            "deleted run.",
            f"stop it first with `loupe cancel {run_id}` (or Cancel on the Train page), wait "
            "until its status is 'cancelled', then delete it.",
        )


REUSABLE = {False: ("queued",), True: ("interrupted", "cancelled", "failed")}


def check_reuse(store: Any, run_id: str, resume: bool) -> None:
    """Training into an existing run: only a queued run (the job runner's), or a resume of a run
    that stopped early. Never a completed or still-active run: that would replace its model."""
    check_run_id(run_id)
    run = store.get_run(run_id)
    status = run["status"]
    if status in REUSABLE[resume]:
        return
    if resume and status == "completed":
        raise LoupeError(
            f"Run {run_id} has already completed: resuming it would train again and replace its "
            "model.",
            f"start a new training instead (its settings are in `loupe show {run_id}`).",
        )
    if resume:
        raise LoupeError(f"Run {run_id} is {status}: only an interrupted, cancelled or failed run "
                         "can be resumed.",
                         f"wait for it to finish, or `loupe cancel {run_id}` first.")
    raise LoupeError(
        f"Run {run_id} is {status}: --run-id only starts a run queued by the job runner; it never "
        "trains into another run.",
        "start a new training without --run-id.",
    )
