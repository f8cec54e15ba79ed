from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path

import pandas as pd
import pytest

from core.config import RunConfig
from core.errors import LoupeError
from core.store import MetricLogger, RunStore

WRITER_POINTS = 4000


def test_lifecycle_filter_tag_delete(store: RunStore) -> None:
    a = store.create_run(RunConfig(task="tabular", name="first", tags=("x",)))
    b = store.create_run(RunConfig(task="text", name="second"))
    store.start_run(a, "cpu", "fp32")
    store.finish_run(a, {"test_r2": 0.5})
    store.fail_run(b, "boom")
    assert store.get_run(a)["status"] == "completed"
    assert store.get_run(a)["metrics"] == {"test_r2": 0.5}
    assert store.get_run(b)["error"] == "boom"
    assert list(store.list_runs(task="text")["id"]) == [b]
    assert list(store.list_runs(status="completed")["id"]) == [a]
    assert list(store.list_runs(tag="x")["id"]) == [a]
    assert list(store.list_runs(text="seco")["id"]) == [b]
    assert list(store.list_runs(order_by="name", descending=False)["name"]) == ["first", "second"]
    store.tag_run(b, ["y", "z"])
    store.rename_run(b, "renamed")
    assert store.get_run(b)["tags"] == ["y", "z"] and store.get_run(b)["name"] == "renamed"
    folder = store.run_dir(a)
    (folder / "file.bin").write_bytes(b"abc")
    store.add_artifact(a, "model", folder)
    assert store.artifacts(a)["bytes"][0] == 3
    store.delete_run(a)
    assert not folder.exists()
    assert store.count_runs() == 1
    with pytest.raises(LoupeError, match="No run"):
        store.get_run(a)


def test_migrations_are_recorded_once(store: RunStore) -> None:
    with store.connect() as con:
        versions = [r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()]
    assert versions == sorted(set(versions)) and versions[0] == 1
    RunStore(store.path)  # reopening applies nothing twice
    with store.connect() as con:
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(versions)


def test_logger_buffers_and_curves_downsample(store: RunStore) -> None:
    run = store.create_run(RunConfig(task="tabular"))
    logger = MetricLogger(store, run, flush_every=3600)
    for step in range(5000):
        logger.log(step, step / 100, "train", {"loss": 1.0, "lr": 0.1})
    assert store.metric_count(run) == 0 < logger.pending  # nothing written row by row
    logger.flush()
    assert store.metric_count(run) == 10_000
    curves = store.curves(run, max_points=100)
    assert curves.groupby("name").size().max() <= 100
    assert set(curves["name"]) == {"loss", "lr"}
    assert curves["step"].max() == 4999
    assert len(store.curves(run, names=["loss"], max_points=10_000)) == 5000


def test_flush_if_run_writes_for_a_live_run_and_drops_points_of_a_deleted_one(store: RunStore) -> None:
    """The checkpoint path's one connection: points written while the run exists; once it is
    deleted, False and nothing written (no orphan points), and the buffer is emptied."""
    live, gone = store.create_run(RunConfig(task="tabular")), store.create_run(RunConfig(task="tabular"))
    for run in (live, gone):
        logger = MetricLogger(store, run, flush_every=3600)
        logger.log(1, 1.0, "val", {"loss": 0.5, "r2": 0.9})
        if run == gone:
            store.fail_run(run, "stopped")  # a finished run may be deleted
            store.delete_run(run)
            assert logger.flush_if_run() is False and logger.pending == 0
        else:
            assert logger.flush_if_run() is True and logger.rows_written == 2
    assert store.metric_count(live) == 2 and store.metric_count(gone) == 0
    assert MetricLogger(None, live).flush_if_run() is True  # a non-main process writes nothing


def test_recover_marks_dead_running_runs_interrupted(store: RunStore) -> None:
    run = store.create_run(RunConfig(task="tabular"))
    store.start_run(run, "cpu", "fp32")
    with store.connect() as con:
        con.execute("UPDATE runs SET pid=? WHERE id=?", [2**22 + 12345, run])
    assert store.recover_interrupted() == [run]
    assert store.get_run(run)["status"] == "interrupted"


def test_a_run_that_finished_after_it_was_seen_running_keeps_its_status(store: RunStore) -> None:
    """The check-then-write race: recovery saw the run 'running' under a pid that then exited
    because the run completed; the late write must not turn 'completed' into 'interrupted'."""
    run = store.create_run(RunConfig(task="tabular"))
    store.start_run(run, "cpu", "fp32")
    dead_pid = 2**22 + 12345
    with store.connect() as con:
        con.execute("UPDATE runs SET pid=? WHERE id=?", [dead_pid, run])
    store.set_status(run, "completed")  # lands between recovery's read and its write
    assert not store.mark_interrupted(run, dead_pid)
    assert store.get_run(run)["status"] == "completed"
    store.set_status(run, "running")
    assert not store.mark_interrupted(run, dead_pid + 1)  # a new process claimed it meanwhile
    assert store.mark_interrupted(run, dead_pid)
    assert store.get_run(run)["status"] == "interrupted"


def _writer(home: str, index: int, queue: mp.Queue) -> None:
    os.environ["LOUPE_HOME"] = home
    try:
        store = RunStore()
        run = store.create_run(RunConfig(task="tabular", name=f"writer-{index}"))
        store.start_run(run, "cpu", "fp32")
        logger = MetricLogger(store, run, flush_every=3600, max_buffer=100)  # 40 flushes
        for step in range(WRITER_POINTS):
            logger.log(step, 0.0, "train", {"loss": float(step)})
        logger.flush()
        store.finish_run(run, {"done": 1.0})
        queue.put(("ok", run, store.lock_retries))
    except Exception as exc:  # reported to the test, which fails on it
        queue.put(("error", repr(exc), 0))


def _reader(home: str, queue: mp.Queue, stop: mp.Event) -> None:
    os.environ["LOUPE_HOME"] = home
    reads = 0
    try:
        store = RunStore()
        while not stop.is_set():
            runs = store.list_runs()
            for run_id in runs["id"]:
                store.curves(run_id, max_points=50)
            reads += 1
        queue.put(("ok", reads, store.lock_retries))
    except Exception as exc:
        queue.put(("error", repr(exc), 0))


def test_two_writers_and_a_reader_at_once(loupe_home: Path) -> None:
    RunStore()  # migrate before the processes race
    ctx = mp.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    writers = [ctx.Process(target=_writer, args=(str(loupe_home), i, queue)) for i in range(2)]
    reader = ctx.Process(target=_reader, args=(str(loupe_home), queue, stop))
    reader.start()
    for w in writers:
        w.start()
    results = [queue.get(timeout=240) for _ in writers]
    stop.set()
    results.append(queue.get(timeout=60))
    for p in [*writers, reader]:
        p.join(timeout=60)
    assert all(r[0] == "ok" for r in results), results
    assert results[-1][1] > 0  # the reader really read while writers wrote
    store = RunStore()
    for _, run_id, _ in results[:2]:
        assert store.metric_count(run_id) == WRITER_POINTS  # no lost rows
        assert store.get_run(run_id)["status"] == "completed"


def test_append_metrics_frame(store: RunStore) -> None:
    run = store.create_run(RunConfig(task="tabular"))
    frame = pd.DataFrame({"run_id": run, "step": range(10), "epoch": 0.0, "split": "val",
                          "name": "rmse", "value": 1.0, "time": pd.Timestamp.now()})
    assert store.append_metrics(frame) == 10


def test_a_run_that_never_finished_is_listed_shown_and_compared(
        store: RunStore, capsys: pytest.CaptureFixture[str]) -> None:
    """A cancelled run has no metrics (NULL): pandas 3 gives the cell as NaN, and `loupe runs`
    once crashed on it with a TypeError."""
    from core.cli import main
    from core.plots import metrics_table

    done = store.create_run(RunConfig(task="tabular", name="done"))
    store.finish_run(done, {"test_r2": 0.5})
    stopped = store.create_run(RunConfig(task="text", name="stopped"))
    store.set_status(stopped, "cancelled")
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert "stopped" in out and "cancelled" in out and "test_r2=0.5" in out
    assert store.get_run(stopped)["metrics"] == {}
    records = store.list_runs().to_dict(orient="records")
    table = metrics_table(records)
    assert set(table["run"]) == {"done", "stopped"}
