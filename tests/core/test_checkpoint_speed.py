"""Checkpoints written beside training (``core.checkpoint_writer``) and one validation pass reused
by the final evaluation (issue 17), with the old guarantees kept:

- a resume after a cancel, after a failed background write, or after training ended (the state-only
  complete checkpoint) reaches the metrics of an uninterrupted run;
- an error in the background write is raised (at the next wait) and leaves no half-written folder;
- the final validation metrics, reused from the best epoch, equal a fresh evaluation of the saved
  model; a reload that changes the model (tabular auto keeping the trees) is not reused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import core.checkpoint
from core.checkpoint_writer import BackgroundWriter, CheckpointSchedule, cpu_copy, cpu_state
from core.store import RunStore
from core.tasks import get_task
from core.train import resume, train
from core.train_loop import Cancelled, TrainingLoop

TASK = get_task("tabular")
EPOCHS = 3
STEPS_PER_EPOCH = 5  # diabetes: 310 training rows, batch 64


def _cfg(model: str = "mlp"):  # noqa: ANN202
    return TASK.default_config("diabetes").replace(
        train={"epochs": EPOCHS, "patience": 0, "checkpoint_every": 0}, model={"name": model})


def _final(metrics: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in metrics.items() if k.startswith(("val_", "test_"))}


def _checkpoint(store: RunStore, run_id: str) -> dict[str, Any]:
    path = store.run_dir(run_id, create=False) / "checkpoint" / "state.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _leftovers(store: RunStore, run_id: str) -> list[str]:
    run_dir = store.run_dir(run_id, create=False)
    return sorted(p.name for p in run_dir.iterdir() if p.name.endswith((".tmp", ".old")))


@pytest.fixture
def reuse_spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, per run, whether ``_finish`` reused the best epoch's validation."""
    seen: list[bool] = []
    real = TrainingLoop._reusable_val

    def spy(self: TrainingLoop, model: nn.Module) -> Any:
        found = real(self, model)
        seen.append(found is not None)
        return found

    monkeypatch.setattr(TrainingLoop, "_reusable_val", spy)
    return seen


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    """An uninterrupted run's final metrics (the mlp config), trained once for the module."""
    store = RunStore(tmp_path_factory.mktemp("reference") / "loupe.duckdb")
    result = train(_cfg(), store)
    assert result.status == "completed"
    return _final(result.metrics)


def test_cancel_then_resume_reaches_the_uninterrupted_metrics(store: RunStore,
                                                               reference: dict[str, float]) -> None:
    calls = {"n": 0}

    def stop_in_epoch_three() -> bool:
        calls["n"] += 1
        return calls["n"] > 2 * STEPS_PER_EPOCH + 2

    cancelled = train(_cfg(), store, should_stop=stop_in_epoch_three)
    assert cancelled.status == "cancelled"
    state = _checkpoint(store, cancelled.run_id)
    assert state["epoch"] == 2 and not state["complete"]  # the cancel waited for epoch 2's write
    assert _leftovers(store, cancelled.run_id) == []
    resumed = resume(cancelled.run_id, store)
    assert resumed.status == "completed"
    assert _final(resumed.metrics) == pytest.approx(reference, rel=1e-9)


def test_the_last_epoch_writes_the_state_only_and_a_resume_trains_nothing(
        store: RunStore, reference: dict[str, float], monkeypatch: pytest.MonkeyPatch) -> None:
    """A kill after the last epoch (here: a cancel at the start of the final evaluation) resumes
    from the complete checkpoint: no epoch again, the best model evaluated, the same metrics."""
    real_finish = TrainingLoop._finish
    calls = {"finish": 0, "epochs": 0}

    def cancel_once(self: TrainingLoop) -> Any:
        calls["finish"] += 1
        if calls["finish"] == 1:
            self.saver.wait()
            raise Cancelled()
        return real_finish(self)

    monkeypatch.setattr(TrainingLoop, "_finish", cancel_once)
    first = train(_cfg(), store)
    assert first.status == "cancelled"
    folder = store.run_dir(first.run_id, create=False) / "checkpoint"
    assert sorted(p.name for p in folder.iterdir()) == ["state.json"]
    assert _checkpoint(store, first.run_id)["complete"] is True

    real_epoch = TrainingLoop._train_epoch

    def count_epochs(self: TrainingLoop, epoch: int) -> bool:
        calls["epochs"] += 1
        return real_epoch(self, epoch)

    monkeypatch.setattr(TrainingLoop, "_train_epoch", count_epochs)
    resumed = resume(first.run_id, store)
    assert resumed.status == "completed" and calls["epochs"] == 0
    assert _final(resumed.metrics) == pytest.approx(reference, rel=1e-9)


def test_a_failing_background_write_is_raised_and_leaves_nothing_half_written(
        store: RunStore, reference: dict[str, float], monkeypatch: pytest.MonkeyPatch) -> None:
    real = core.checkpoint.save_model
    calls = {"n": 0}

    def save_model(model: nn.Module, filename: str, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # epoch 2's checkpoint, written in the background
            Path(filename).write_bytes(b"half a file")
            raise RuntimeError("the disk went away")
        real(model, filename, *args, **kwargs)

    monkeypatch.setattr(core.checkpoint, "save_model", save_model)
    with pytest.raises(RuntimeError, match="the disk went away"):
        train(_cfg(), store)
    run = store.list_runs().iloc[0]
    assert run["status"] == "failed" and "the disk went away" in run["error"]
    assert _leftovers(store, run["id"]) == []
    assert _checkpoint(store, run["id"])["epoch"] == 1  # the last complete checkpoint survives

    monkeypatch.setattr(core.checkpoint, "save_model", real)
    resumed = resume(run["id"], store)
    assert resumed.status == "completed"
    assert _final(resumed.metrics) == pytest.approx(reference, rel=1e-9)


def test_final_validation_is_reused_and_equals_a_fresh_evaluation(
        store: RunStore, reference: dict[str, float], reuse_spy: list[bool],
        monkeypatch: pytest.MonkeyPatch) -> None:
    reused = train(_cfg(), store)
    assert reuse_spy == [True]
    monkeypatch.setattr(TrainingLoop, "_reusable_val", lambda self, model: None)
    fresh = train(_cfg(), store)  # the same seed; _finish predicts the val split again
    weights = [(store.run_dir(r.run_id, create=False) / "model" / "model.safetensors").read_bytes()
               for r in (reused, fresh)]
    assert weights[0] == weights[1]  # the same saved model
    assert _final(reused.metrics) == _final(fresh.metrics)  # to the last bit
    assert _final(reused.metrics) == pytest.approx(reference, rel=1e-12)


def test_a_reload_that_changes_the_model_is_evaluated_again(
        store: RunStore, reuse_spy: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    """Tabular auto on diabetes keeps the trees: the best epoch's network outputs do not apply."""
    auto = train(_cfg("auto"), store)
    assert json.loads((auto.artifact_dir / "config.json").read_text())["architecture"] == "trees"
    assert reuse_spy == [False]
    monkeypatch.setattr(TrainingLoop, "_reusable_val", lambda self, model: None)
    fresh = train(_cfg("auto"), store)
    assert _final(auto.metrics) == _final(fresh.metrics)


# --- the writer's parts ----------------------------------------------------------------------
def test_writer_raises_a_jobs_error_at_the_next_wait_and_runs_one_job_at_a_time() -> None:
    writer, order = BackgroundWriter(), []

    def fail() -> None:
        order.append("fail")
        raise OSError("no space")

    writer.submit(fail)
    with pytest.raises(OSError, match="no space"):
        writer.submit(lambda: order.append("next"))  # waits for the failed job first
    assert order == ["fail"]
    writer.submit(lambda: order.append("next"))
    writer.close()
    assert order == ["fail", "next"]
    assert writer.drain() is None


def test_settle_on_a_failure_keeps_the_first_error_and_notes_the_write_error() -> None:
    """The failure path on every Python (3.10 has no ``BaseException.add_note``); a plain cancel
    gives way to the write error."""

    def fail() -> None:
        raise OSError("no space")

    writer = BackgroundWriter()
    writer.submit(fail)
    first = RuntimeError("the model diverged")
    assert writer.settle(first, plain_cancel=False) is first
    assert any("no space" in note for note in first.__notes__)
    writer.submit(fail)
    cancel = KeyboardInterrupt()
    raised = writer.settle(cancel, plain_cancel=True)
    assert isinstance(raised, OSError) and raised.__context__ is cancel
    writer.close()


def test_snapshots_do_not_follow_the_live_model_and_keep_tied_weights() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3), nn.BatchNorm1d(3))
    model[1].weight = model[0].weight
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    copy, states = cpu_copy(model), cpu_state(optimizer.state_dict())
    before = {k: v.clone() for k, v in copy.state_dict().items()}
    moments = states["state"][0]["exp_avg"].clone()
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()  # in place, on the live tensors
    assert all(torch.equal(before[k], v) for k, v in copy.state_dict().items())
    assert torch.equal(states["state"][0]["exp_avg"], moments)
    assert copy[1].weight is copy[0].weight and copy[0].weight is not model[0].weight
    assert not np.array_equal(model[0].weight.detach().numpy(), copy[0].weight.detach().numpy())


def test_checkpoint_schedule_every_epoch_at_zero_and_always_at_the_end() -> None:
    every_epoch, hourly = CheckpointSchedule(0), CheckpointSchedule(3600)
    assert every_epoch.due(complete=False) and every_epoch.due(complete=True)
    assert not hourly.due(complete=False)
    assert hourly.due(complete=True)
    hourly.taken()
    assert not hourly.due(complete=False)
    assert CheckpointSchedule(-5).every == 0  # never a negative interval


def test_snapshots_share_the_parts_a_module_declares_unchanging() -> None:
    class WithFrozenPart(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(2, 2)
            self.table, self.notes = {"fitted": [1, 2, 3]}, {"copied": [4]}

        def unchanging_parts(self) -> list[Any]:
            return [self.table]

    model = WithFrozenPart()
    copy = cpu_copy(model)
    assert copy.table is model.table
    assert copy.notes is not model.notes and copy.notes == model.notes
    assert copy.linear.weight is not model.linear.weight


def test_an_hourly_schedule_writes_the_best_model_and_one_checkpoint_at_the_end(
        store: RunStore) -> None:
    """Auto (trees + network): nothing is written mid-run, the end writes the best model and the
    complete checkpoint."""
    cfg = TASK.default_config("diabetes").replace(
        train={"epochs": EPOCHS, "patience": 0, "checkpoint_every": 3600}, model={"name": "auto"})
    seen: list[bool] = []

    def during(progress: Any) -> None:
        if progress.phase == "eval" and progress.epoch < EPOCHS:
            run_dir = store.run_dir(progress.run_id)
            seen.append((run_dir / "checkpoint").exists() or (run_dir / "model").exists())

    result = train(cfg, store, callbacks=[during])
    assert result.status == "completed" and seen == [False] * (EPOCHS - 1)
    state = json.loads((store.run_dir(result.run_id) / "checkpoint" / "state.json").read_text())
    assert state["complete"] and state["epoch"] == EPOCHS
    assert (result.artifact_dir / "config.json").is_file()
