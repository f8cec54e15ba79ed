"""Crashes lose nothing: kill -9 mid-training, resume to the same state; an unwritable or full disk
is a clear error that leaves nothing half-written.

- A training child killed with SIGKILL leaves its run 'running'; ``recover_interrupted`` marks it
  'interrupted'. The DuckDB file opens, the metrics flushed before the kill are there as a gap-free
  prefix, and ``loupe resume`` finishes from the last epoch checkpoint to the same final metrics as an
  uninterrupted run with the same seed. Steps replayed after the checkpoint are logged once, not twice.
- LOUPE_HOME that cannot be created or written, a run history that is not a DuckDB file, and a disk
  that fills up mid-training are LoupeErrors naming the path and the fix; the previous checkpoint
  stays intact and no temporary folder is left in the run directory.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from core.errors import LoupeError
from core.store import RunStore
from core.tasks import get_task
from core.train import train
from tests.hostile.conftest import ROOT, cli, cli_env

TASK = get_task("tabular")
EPOCHS = 60  # long enough that the victim is still training when the test sees its checkpoint
STEPS_PER_EPOCH = 5  # diabetes: 310 training rows, batch 64


def _spawn(home: Path, name: str, *extra: str) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "core.cli", "train", "tabular", "--data", "sample:diabetes",
            "--epochs", str(EPOCHS), "--patience", "0", "--checkpoint-every", "0", "--name", name,
            "--json", *extra]
    return subprocess.Popen(args, cwd=ROOT, env=cli_env(home), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, what: str, timeout: float = 300, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the child exited ({proc.returncode}) before {what}: "
                                 f"{proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _plain_connection(path: Path, timeout: float = 60) -> duckdb.DuckDBPyConnection:
    """A plain DuckDB connection, retried while the reference trainer (still running beside)
    holds the file's lock for one of its short writes — as RunStore itself retries."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _run_named(store: RunStore, name: str) -> str | None:
    runs = store.list_runs(text=name)
    runs = runs[runs["name"] == name]
    return None if runs.empty else str(runs["id"].iloc[0])


def _checkpoint_epoch(home: Path, run_id: str) -> int:
    state = home / "runs" / run_id / "checkpoint" / "state.json"
    try:
        return int(json.loads(state.read_text())["epoch"])
    except (OSError, ValueError, KeyError):
        return 0


def _duplicates(store: RunStore, run_id: str) -> int:
    with store.connect() as con:
        return con.execute(
            "SELECT count(*) - count(DISTINCT (split, name, step)) FROM metrics WHERE run_id=?",
            [run_id]).fetchone()[0]


@pytest.mark.slow
def test_kill_9_mid_training_then_resume_reaches_the_uninterrupted_state(tmp_path: Path) -> None:
    home = tmp_path / "home"
    reference = _spawn(home, "reference")  # same seed, never interrupted; runs beside the victim
    victim = _spawn(home, "victim")
    try:
        _wait_for(lambda: (home / "loupe.duckdb").exists(), "the store", proc=victim)
        store = RunStore(home / "loupe.duckdb")
        run_id = _wait_for(lambda: _run_named(store, "victim"), "the victim's run", proc=victim)
        _wait_for(lambda: _checkpoint_epoch(home, run_id) >= 2 and store.metric_count(run_id) > 0,
                  "a checkpoint and flushed metrics", proc=victim)
        os.kill(victim.pid, signal.SIGKILL)
        assert victim.wait(timeout=60) == -signal.SIGKILL
    finally:
        if victim.poll() is None:
            victim.kill()
    killed_at = _checkpoint_epoch(home, run_id)
    assert killed_at < EPOCHS, "the victim finished before it could be killed"

    # The run is still 'running' until someone notices the process is gone.
    assert store.get_run(run_id)["status"] == "running"
    assert run_id in store.recover_interrupted()
    run = store.get_run(run_id)
    assert run["status"] == "interrupted" and "stopped unexpectedly" in run["error"]

    # The file opens with a plain DuckDB connection; flushed train steps form a gap-free prefix.
    con = _plain_connection(home / "loupe.duckdb")
    try:
        steps = [r[0] for r in con.execute(
            "SELECT step FROM metrics WHERE run_id=? AND split='train' AND name='loss' ORDER BY step",
            [run_id]).fetchall()]
    finally:
        con.close()
    assert steps and steps == list(range(1, len(steps) + 1))

    resumed = cli(home, "resume", run_id, "--json", timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["status"] == "completed"
    out, err = reference.communicate(timeout=600)
    assert reference.returncode == 0, err
    expected = json.loads(out)["metrics"]
    assert result["metrics"]["test_rmse"] == pytest.approx(expected["test_rmse"], rel=1e-3)
    assert result["metrics"]["val_rmse"] == pytest.approx(expected["val_rmse"], rel=1e-3)

    # Every step and every epoch is in the history exactly once.
    assert store.get_run(run_id)["status"] == "completed"
    assert _duplicates(store, run_id) == 0
    curves = store.curves(run_id, max_points=10_000)
    logged = set(curves[(curves["split"] == "train") & (curves["name"] == "loss")]["step"])
    missing = sorted(set(range(1, EPOCHS * STEPS_PER_EPOCH + 1)) - logged)
    epochs = curves[curves["split"] == "val"]["epoch"].nunique()
    # The loop flushes before each checkpoint, so points the checkpoint covers survive a kill -9.
    assert not missing, f"steps {missing[:3]}…{missing[-1:]} ({len(missing)}) were lost"
    assert epochs == EPOCHS
    assert len(curves[curves["split"] == "train"]) == 2 * EPOCHS * STEPS_PER_EPOCH  # loss and lr


def test_cancel_mid_epoch_then_resume_logs_each_step_once(store: RunStore) -> None:
    """In-process and deterministic: a stop inside epoch 4 flushes steps the epoch-3 checkpoint does
    not cover; resume replays them, and the history must hold each step once."""
    cfg = TASK.default_config("diabetes").replace(train={"epochs": 6, "patience": 0,
                                                         "checkpoint_every": 0})
    cancelled = train(cfg, store, should_stop=_stop_after(3 * STEPS_PER_EPOCH + 2))
    assert cancelled.status == "cancelled"
    assert store.metric_count(cancelled.run_id) > 0
    assert (store.run_dir(cancelled.run_id) / "checkpoint").is_dir()
    from core.train import resume

    assert resume(cancelled.run_id, store).status == "completed"
    assert _duplicates(store, cancelled.run_id) == 0
    curves = store.curves(cancelled.run_id, max_points=10_000)
    assert len(curves[curves["split"] == "train"]) == 2 * 6 * STEPS_PER_EPOCH


def _stop_after(calls_allowed: int):
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > calls_allowed

    return stop


def test_no_checkpoint_due_yet_then_resume_starts_over_and_ends_where_an_uninterrupted_run_does(
        store: RunStore) -> None:
    """With checkpoints every hour, a stop in epoch 4 leaves no checkpoint (and no model folder)
    behind; the resume trains from the start, logs each step once, and reaches the same model
    as a run that was never stopped."""
    cfg = TASK.default_config("diabetes").replace(train={"epochs": 6, "patience": 0,
                                                         "checkpoint_every": 3600})
    reference = train(cfg, store)
    cancelled = train(cfg, store, should_stop=_stop_after(3 * STEPS_PER_EPOCH + 2))
    assert cancelled.status == "cancelled"
    run_dir = store.run_dir(cancelled.run_id)
    assert not (run_dir / "checkpoint").exists() and not (run_dir / "model").exists()
    from core.train import resume

    resumed = resume(cancelled.run_id, store)
    assert resumed.status == "completed"
    assert _duplicates(store, cancelled.run_id) == 0
    curves = store.curves(cancelled.run_id, max_points=10_000)
    assert len(curves[curves["split"] == "train"]) == 2 * 6 * STEPS_PER_EPOCH  # loss and lr
    assert resumed.metrics["test_rmse"] == pytest.approx(reference.metrics["test_rmse"], rel=1e-9)
    assert (run_dir / "checkpoint").is_dir()  # the last epoch always writes one (complete)


# --- unwritable and full disks ----------------------------------------------------------------
def test_loupe_home_that_cannot_be_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LOUPE_HOME", str(blocker / "home"))
    with pytest.raises(LoupeError) as err:
        RunStore()
    assert "Cannot create the Loupe state folder" in str(err.value)
    assert "LOUPE_HOME" in err.value.fix
    from core.cli import main

    assert main(["runs"]) == 2
    assert "error: Cannot create the Loupe state folder" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only permissions")
def test_read_only_loupe_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "ro"
    home.mkdir()
    home.chmod(0o500)
    monkeypatch.setenv("LOUPE_HOME", str(home))
    try:
        with pytest.raises(LoupeError, match="not writable"):
            train(TASK.default_config("diabetes").replace(train={"epochs": 1}))
        assert list(home.iterdir()) == []
    finally:
        home.chmod(0o700)


@pytest.mark.parametrize("damage", ["garbage bytes", "a folder"])
def test_run_history_that_is_not_a_duckdb_file(loupe_home: Path, damage: str) -> None:
    loupe_home.mkdir(parents=True, exist_ok=True)
    db = loupe_home / "loupe.duckdb"
    if damage == "a folder":
        db.mkdir()
    else:
        db.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(LoupeError) as err:
        RunStore()
    assert "Cannot open the run history" in str(err.value) and err.value.fix


def _fail_checkpoint_on_call(monkeypatch: pytest.MonkeyPatch, failing_call: int) -> None:
    """Make the ``failing_call``-th checkpoint write die half-way with ENOSPC."""
    import core.checkpoint

    real = core.checkpoint.save_model
    calls = {"n": 0}

    def save_model(model, filename: str, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == failing_call:
            Path(filename).write_bytes(b"half a file")  # what a full disk leaves behind
            raise OSError(errno.ENOSPC, "No space left on device", filename)
        return real(model, filename, *args, **kwargs)

    monkeypatch.setattr(core.checkpoint, "save_model", save_model)


def test_disk_full_mid_training_is_a_clear_error(store: RunStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_checkpoint_on_call(monkeypatch, failing_call=3)
    cfg = TASK.default_config("diabetes").replace(train={"epochs": 5, "patience": 0,
                                                         "checkpoint_every": 0})
    with pytest.raises(LoupeError) as err:
        train(cfg, store)
    message = str(err.value)
    assert "No space left on device" in message and "Fix:" in message
    run = store.list_runs().iloc[0]
    assert run["status"] == "failed" and "No space left on device" in run["error"]
    assert "Traceback" not in run["error"]
    run_dir = store.run_dir(run["id"], create=False)
    assert sorted(p.name for p in run_dir.iterdir() if p.name.endswith((".tmp", ".old"))) == []
    assert _checkpoint_epoch(store.home, run["id"]) == 2  # the last complete checkpoint survives


def test_disk_full_through_the_cli_exits_2(loupe_home: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main

    saved = signal.getsignal(signal.SIGTERM)
    _fail_checkpoint_on_call(monkeypatch, failing_call=1)
    try:
        code = main(["train", "tabular", "--data", "sample:diabetes", "--epochs", "2",
                     "--checkpoint-every", "0", "--quiet"])
    finally:
        signal.signal(signal.SIGTERM, saved)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error:") and "No space left on device" in err and "Fix:" in err


def test_disk_full_while_writing_the_history_is_a_clear_error(store: RunStore,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB reports a full disk as duckdb.IOException inside an open connection."""
    real_connect = duckdb.connect
    state = {"armed": False}

    class Full:
        def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
            self.con = con

        def execute(self, sql: str, *args, **kwargs):
            if state["armed"] and sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
                raise duckdb.IOException('Could not write file "loupe.duckdb.wal": No space left on device')
            return self.con.execute(sql, *args, **kwargs)

        def __getattr__(self, name: str):
            return getattr(self.con, name)

    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: Full(real_connect(*a, **k)))
    state["armed"] = True
    with pytest.raises(LoupeError) as err:
        store.create_run(TASK.default_config("diabetes"))
    assert "No space left on device" in str(err.value) and "Fix:" in str(err.value)
