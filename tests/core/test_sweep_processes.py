"""Sweeps through `loupe` in child processes: kill -9 of the sweep (and its running trial) mid-way,
then `loupe sweep resume` finishes the budget with no duplicate trial; show/sweeps/delete --json."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from optuna.trial import TrialState

from core.sweeps.records import SweepRecords
from core.sweeps.summary import load_study

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 2


def loupe(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOUPE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "core.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_kill9_then_resume_finishes_the_budget_without_duplicates(loupe_home: Path, store) -> None:
    env = {**os.environ, "LOUPE_HOME": str(loupe_home), "PYTHONPATH": str(ROOT)}
    driver = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "sweep", "tabular", "--data", "sample:house_prices",
         "--max-rows", "200", "--epochs", "30", "--patience", "0", "--device", "cpu",
         "--trials", str(TRIALS), "--pruner", "none", "--quiet"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    records = SweepRecords(store)
    deadline = time.monotonic() + 300
    running = None
    while running is None:  # wait until trial 0 trains in its own process
        assert driver.poll() is None, driver.stdout.read()
        assert time.monotonic() < deadline, "trial 0 never started"
        time.sleep(0.5)
        sweeps = records.list()
        if not sweeps.empty:
            runs = records.runs(sweeps["id"].iloc[0])
            active = runs[runs["status"] == "running"]
            running = None if active.empty else active["id"].iloc[0]
    sweep_id = sweeps["id"].iloc[0]
    trial_pid = store.get_run(running)["pid"]
    os.kill(driver.pid, signal.SIGKILL)  # the sweep process ...
    os.kill(int(trial_pid), signal.SIGKILL)  # ... and the trial it was waiting for
    driver.wait()
    driver.stdout.close()

    done = loupe(loupe_home, "sweep", "resume", sweep_id[:6], "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["status"] == "completed" and shown["trials_done"] == TRIALS

    study = load_study(records, sweep_id)
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == TRIALS  # the budget, exactly
    assert [t.state for t in study.trials if t.number == 0] == [TrialState.FAIL]  # the killed one
    runs = records.runs(sweep_id)
    completed = runs[runs["status"] == "completed"]
    assert len(completed) == TRIALS and completed["trial_number"].is_unique
    assert store.get_run(running)["status"] in ("interrupted", "failed")

    listed = json.loads(loupe(loupe_home, "sweeps", "--json").stdout)
    assert [s["id"] for s in listed] == [sweep_id]
    refused = loupe(loupe_home, "sweep", "delete", sweep_id)
    assert refused.returncode == 2 and "--keep-runs" in refused.stderr
    kept = loupe(loupe_home, "sweep", "delete", sweep_id, "--keep-runs", "--json")
    assert kept.returncode == 0, kept.stderr
    assert records.list().empty and store.count_runs() == len(runs)  # runs kept, unlinked
    assert records.runs(sweep_id).empty
