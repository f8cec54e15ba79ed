"""Deleting a run while it trains (real child processes started by ``core.jobs``).

Documented outcome: ``loupe delete`` refuses a queued or running run and names the fix
(``loupe cancel`` first); once cancelled, the delete goes through and nothing comes back. When a
run's rows vanish under a live trainer anyway (another client, an older Loupe), the trainer
notices, stops and writes nothing more: no ``runs/<id>`` folder, metric, artifact or system row
reappears. ``loupe doctor --remove-orphans`` cleans up what such a delete left before this fix.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.jobs import start_job
from core.store import RunStore
from core.store.health import pid_alive
from core.tasks import get_task
from tests.hostile.conftest import assert_clear, cli

ROW_TABLES = ("metrics", "artifacts", "system_metrics")


def _wait(what: str, done: Callable[[], bool], limit: float = 600) -> None:
    """Poll until ``done()`` (the limit only guards against a hang; nothing is timed)."""
    deadline = time.monotonic() + limit
    while not done():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def _rows(store: RunStore, run_id: str) -> dict[str, int]:
    with store.connect() as con:
        return {t: con.execute(f"SELECT count(*) FROM {t} WHERE run_id=?", [run_id]).fetchone()[0]
                for t in ROW_TABLES}


def _long_config():
    return get_task("tabular").default_config("diabetes").replace(
        train={"epochs": 100_000, "patience": 0, "batch_size": 32})


def test_delete_refuses_active_runs_and_a_trainer_never_recreates_a_deleted_run(
        store: RunStore, loupe_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOUPE_MAX_PARALLEL", "1")
    running = start_job(_long_config(), store)
    queued = start_job(_long_config(), store)  # waits for its turn behind the first
    _wait("the first run to train", lambda: store.get_run(running)["status"] == "running"
          and store.metric_count(running) > 0)
    assert store.get_run(queued)["status"] == "queued"

    for run_id, status in ((running, "running"), (queued, "queued")):
        proc = cli(loupe_home, "delete", run_id)
        assert proc.returncode == 2, proc.stdout
        assert_clear(proc.stderr, f"is {status}", f"loupe cancel {run_id}")
    assert store.count_runs() == 2

    # Cancel, then delete: allowed, and nothing of the queued run remains.
    assert cli(loupe_home, "cancel", queued).returncode == 0
    _wait("the cancel", lambda: store.get_run(queued)["status"] == "cancelled")
    proc = cli(loupe_home, "delete", queued[:6])
    assert proc.returncode == 0, proc.stderr
    assert not (loupe_home / "runs" / queued).exists()

    # The rows vanish under the live trainer (what `loupe delete` did before this fix).
    pid = int(store.get_run(running)["pid"])
    with store.connect() as con:
        for table in (*ROW_TABLES, "explanations"):
            con.execute(f"DELETE FROM {table} WHERE run_id=?", [running])
        con.execute("DELETE FROM runs WHERE id=?", [running])
    # The live trainer may write or clean up in its folder while it goes: remove until it is gone.
    _wait("the run folder to go", lambda: shutil.rmtree(loupe_home / "runs" / running, ignore_errors=True)
          or not (loupe_home / "runs" / running).exists())
    _wait("the trainer to stop", lambda: not pid_alive(pid))

    assert not (loupe_home / "runs" / running).exists()
    assert _rows(store, running) == dict.fromkeys(ROW_TABLES, 0)
    assert _rows(store, queued) == dict.fromkeys(ROW_TABLES, 0)
    assert store.count_runs() == 0
    doctor = cli(loupe_home, "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr


def test_doctor_removes_what_an_unsafe_delete_left_behind(store: RunStore,
                                                          loupe_home: Path) -> None:
    from core.train import train

    cfg = get_task("tabular").default_config("diabetes").replace(train={"epochs": 2, "patience": 0})
    kept, orphan = train(cfg, store).run_id, train(cfg, store).run_id
    with store.connect() as con:  # the run row alone removed: the state issue 13 found
        con.execute("DELETE FROM runs WHERE id=?", [orphan])
    assert sum(_rows(store, orphan).values()) > 0
    found = cli(loupe_home, "doctor")
    assert found.returncode == 1
    assert "1 run folder" in found.stdout and "--remove-orphans" in found.stdout, found.stdout
    fixed = cli(loupe_home, "doctor", "--remove-orphans")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert not (loupe_home / "runs" / orphan).exists()
    assert _rows(store, orphan) == dict.fromkeys(ROW_TABLES, 0)
    assert (loupe_home / "runs" / kept / "model").is_dir() and sum(_rows(store, kept).values()) > 0
    assert cli(loupe_home, "doctor").returncode == 0
