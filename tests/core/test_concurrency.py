"""Concurrent use loses nothing: two CLI trainings write to one store while two reader processes
(two dashboard sessions) and the Runs page (AppTest) poll it.

DuckDB lets one process hold the file at a time; RunStore opens a short-lived connection per
operation and retries with backoff while another process holds it (core/store/runs.py). The test
proves the design: no lock error reaches a trainer, a reader or the page, both runs complete, and
every metric point is in the history exactly once (2 per optimizer step: loss and lr; one row per
validation metric per epoch).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.store import RunStore
from tests.hostile.conftest import ROOT, cli_env, open_dashboard_page

EPOCHS = 4
BATCH = 32
STEPS = EPOCHS * 10  # diabetes: 310 training rows -> 10 batches of 32 per epoch

# What the dashboard pages read, in a loop (one process = one dashboard session).
READER = r"""
import json, os, sys, time
from core.store import RunStore

stop, out = sys.argv[1], sys.argv[2]
store = RunStore()
store.recover_interrupted()  # what dashboard.resources does once per home
stats = {"iterations": 0, "errors": [], "runs_seen": 0, "points_seen": 0}
while not os.path.exists(stop):
    try:
        runs = store.list_runs(order_by="created_at", limit=25)
        store.count_runs()
        for run_id in runs["id"]:
            store.get_run(run_id)
            stats["points_seen"] = max(stats["points_seen"], len(store.curves(run_id, max_points=400)))
            store.system(run_id)
        stats["runs_seen"] = max(stats["runs_seen"], len(runs))
        stats["iterations"] += 1
    except Exception as exc:  # any error here is a failure of the store's concurrency design
        stats["errors"].append(f"{type(exc).__name__}: {exc}")
    time.sleep(0.2)
stats["lock_retries"] = store.lock_retries
with open(out, "w") as fh:
    json.dump(stats, fh)
"""


def _train(home: Path, name: str) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "core.cli", "train", "tabular", "--data", "sample:diabetes",
            "--epochs", str(EPOCHS), "--patience", "0", "--batch-size", str(BATCH), "--name", name,
            "--json"]
    return subprocess.Popen(args, cwd=ROOT, env=cli_env(home), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _page_loop(trainers: list[subprocess.Popen[str]], deadline: float) -> int:
    """Re-run the Runs page while the trainings run; every run must render without an error."""
    at = open_dashboard_page("runs")
    renders = 0
    while any(t.poll() is None for t in trainers) and time.monotonic() < deadline:
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, [e.value for e in at.error]
        renders += 1
        time.sleep(0.5)
    return renders


@pytest.mark.slow
def test_two_trainings_two_readers_and_the_runs_page(loupe_home: Path, tmp_path: Path) -> None:
    stop = tmp_path / "stop"
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(stop), str(tmp_path / f"reader{i}.json")],
                                cwd=ROOT, env=cli_env(loupe_home), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for i in range(2)]
    trainers = [_train(loupe_home, "writer-a"), _train(loupe_home, "writer-b")]
    try:
        renders = _page_loop(trainers, time.monotonic() + 540)
        outputs = [t.communicate(timeout=540) for t in trainers]
    finally:
        stop.touch()
        for proc in trainers:
            if proc.poll() is None:
                proc.kill()
        reader_out = [r.communicate(timeout=120) for r in readers]

    for proc, (out, err) in zip(trainers, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "lock" not in err.lower(), err
        assert json.loads(out)["status"] == "completed"
    for i, (proc, (_, err)) in enumerate(zip(readers, reader_out, strict=True)):
        assert proc.returncode == 0, err
        stats = json.loads((tmp_path / f"reader{i}.json").read_text())
        assert stats["errors"] == [], stats["errors"][:3]
        assert stats["iterations"] > 0 and stats["runs_seen"] == 2
        print(f"reader {i}: {stats['iterations']} polls, {stats['lock_retries']} lock waits")
    print(f"runs page: {renders} renders")

    store = RunStore()
    runs = store.list_runs()
    assert sorted(runs["status"]) == ["completed", "completed"]
    for run_id in runs["id"]:
        assert store.system(run_id)["optimizer_steps"] == STEPS
        with store.connect() as con:
            rows = con.execute(
                "SELECT split, name, count(*) AS n, count(DISTINCT step) AS steps FROM metrics"
                " WHERE run_id=? GROUP BY split, name", [run_id]).df()
        train_rows = rows[rows["split"] == "train"]
        assert sorted(train_rows["name"]) == ["loss", "lr"]
        assert train_rows["n"].tolist() == [STEPS, STEPS]  # 2 per optimizer step, no gaps
        assert (train_rows["steps"] == train_rows["n"]).all()  # and no duplicates
        val_rows = rows[rows["split"] == "val"]
        assert len(val_rows) >= 2  # loss and the regression metrics
        assert val_rows["n"].tolist() == [EPOCHS] * len(val_rows)  # one per epoch each
