"""Sweeps (issue 18): spaces validated like single runs, a tiny sweep per kind, pruning, the report
block. Trials train in this process here (``executor="inline"``, the same hooks as the child
processes); tests/core/test_sweep_processes.py covers the child processes, kill -9 and resume."""

from __future__ import annotations

import socket

import pytest
from optuna.trial import TrialState

from core.errors import LoupeError
from core.sweeps import create_sweep, default_space, run_sweep
from core.sweeps.records import SweepRecords
from core.sweeps.space import validate_space
from core.sweeps.summary import load_study, summary
from core.tasks import all_tasks, get_task


def tiny(kind: str):
    """A few seconds of training per trial on each kind's bundled sample."""
    task = get_task(kind)
    if kind == "tabular":
        return task.default_config("house_prices").replace(
            data={"max_rows": 240}, train={"epochs": 3, "patience": 0, "device": "cpu"})
    if kind == "text":
        return task.default_config("reviews").replace(
            data={"max_rows": 120, "val_fraction": 0.2, "test_fraction": 0.2},
            model={"max_length": 24}, train={"batch_size": 16, "max_steps": 3, "device": "cpu"})
    return task.default_config("digits").replace(
        data={"max_rows": 160}, train={"epochs": 1, "batch_size": 32, "device": "cpu"})


BAD_SPACES = [
    ({"train.lrr": {"low": 1e-4, "high": 1e-2}}, "not a run setting"),
    ({"data.source": {"choices": ["a.csv"]}}, "fixed for every trial"),
    ({"train.lr": {"low": 1e-2, "high": 1e-4}}, "above high"),
    ({"train.lr": {"low": 0.0, "high": 1e-2}}, "train.lr' must be above 0"),
    ({"model.dropout": {"low": 0.0, "high": 0.5, "log": True}}, "log-scaled but low is 0"),
    ({"model.dropout": {"low": 0.0, "high": 1.0}}, "model.dropout' must be a fraction"),
    ({"train.batch_size": {"choices": []}}, "non-empty list"),
    ({"train.batch_size": {"choices": [32, 0]}}, "train.batch_size' must be at least 1"),
    ({"train.epochs": {"low": 1, "high": 2.5}}, "whole number"),
    ({"model.hidden_sizes": {"choices": ["64,x"]}}, "not a list of whole numbers"),
    ({"model.hidden_sizes": {"low": 1, "high": 3}}, "needs a list of choices"),
    ({"train.lr": {"low": 1e-4}}, "needs both low and high"),
    ({"train.lr": [1e-4, 1e-2]}, "must be an object"),
    ({}, "non-empty JSON object"),
]


@pytest.mark.parametrize(("space", "message"), BAD_SPACES)
def test_bad_spaces_are_refused_before_anything_is_recorded(space, message, store) -> None:
    cfg = tiny("tabular")
    with pytest.raises(LoupeError, match=message):
        create_sweep(cfg, space, n_trials=2, store=store, check_data=False)
    assert SweepRecords(store).list().empty


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_trials": None, "minutes": None}, "needs a budget"),
    ({"n_trials": 0}, "at least 1"),
    ({"sampler": "cmaes"}, "Unknown sampler"),
    ({"metric": "test_rmse"}, "not a validation metric"),
    ({"parallel": 0}, "at least 1"),
])
def test_bad_budget_sampler_or_objective_is_refused(kwargs, message, store) -> None:
    with pytest.raises(LoupeError, match=message):
        create_sweep(tiny("tabular"), {"train.lr": {"low": 1e-4, "high": 1e-2}},
                     **{"n_trials": 2, **kwargs}, store=store, check_data=False)
    assert SweepRecords(store).list().empty


def test_bad_data_is_refused_before_the_sweep_exists(store, tmp_path) -> None:
    cfg = tiny("tabular").replace(data={"source": str(tmp_path / "missing.csv")})
    with pytest.raises(LoupeError, match="not found"):
        create_sweep(cfg, None, n_trials=2, store=store)
    assert SweepRecords(store).list().empty


def test_every_kind_proposes_a_valid_default_space() -> None:
    for task in all_tasks():
        for sample in list(task.samples())[:1]:
            cfg = task.default_config(sample)
            space = default_space(cfg)
            assert "train.lr" in space and space["train.lr"]["log"]
            assert validate_space(space) == space


@pytest.mark.parametrize("kind", ["tabular", "text", "image"])
def test_a_tiny_sweep_on_every_kind(kind, store) -> None:
    cfg = tiny(kind)
    space = {"train.lr": {"low": cfg.train.lr / 3, "high": cfg.train.lr * 3, "log": True}}
    sweep_id = create_sweep(cfg, space, n_trials=2, pruner="none", store=store)
    row = run_sweep(sweep_id, store, executor="inline")
    assert row["status"] == "completed" and row["trials_done"] == 2
    found = summary(sweep_id, store)
    trials = found["trials"]
    assert list(trials["state"]) == ["complete", "complete"]
    assert trials["train.lr"].iloc[0] == pytest.approx(cfg.train.lr)  # trial 0: the defaults
    runs = SweepRecords(store).runs(sweep_id)
    assert sorted(runs["trial_number"]) == [0, 1] and set(runs["status"]) == {"completed"}
    best = store.get_run(row["best_run_id"])
    values = trials["value"].tolist()
    want = min(values) if row["direction"] == "minimize" else max(values)
    assert best["metrics"][row["metric"]] == pytest.approx(want) == row["best_value"]
    if kind == "tabular":  # the best run's HTML report carries the sweep's summary
        from core.export.report_html import build_html_report

        page = build_html_report(row["best_run_id"], store)
        assert 'id="sweep"' in page and "the best trial" in page and "train.lr" in page


def test_pruning_stops_a_bad_trial_early(store) -> None:
    cfg = tiny("tabular").replace(train={"epochs": 4})
    sweep_id = create_sweep(cfg, {"train.lr": {"low": 1e-7, "high": 1e-2, "log": True}},
                            n_trials=3, pruner="median", store=store)
    records = SweepRecords(store)
    study = load_study(records, sweep_id)
    study.enqueue_trial({"train.lr": 2e-3})  # trial 0 is the default (3e-3), trial 1 close to it,
    study.enqueue_trial({"train.lr": 1e-7})  # trial 2 barely learns: worse at epoch 1 -> pruned
    row = run_sweep(sweep_id, store, executor="inline")
    states = {t.number: t for t in load_study(records, sweep_id).trials}
    pruned = [t for t in states.values() if t.state == TrialState.PRUNED]
    assert len(pruned) == 1 and pruned[0].params["train.lr"] == pytest.approx(1e-7)
    assert len(pruned[0].intermediate_values) < cfg.train.epochs  # stopped before its last epoch
    runs = records.runs(sweep_id).set_index("trial_number")
    run = store.get_run(runs.loc[pruned[0].number, "id"])
    assert run["status"] == "cancelled" and "pruned" in run["tags"] and "Pruned" in run["error"]
    assert row["trials_done"] == 3 and row["status"] == "completed"


def test_a_sweep_that_completed_after_recovery_saw_it_running_stays_completed(store) -> None:
    """The race that failed CI: the page's recovery read the sweep 'running', the driver wrote
    'completed' and exited, then recovery found its pid dead and wrote 'interrupted' over it."""
    records = SweepRecords(store)
    sweep_id = create_sweep(tiny("tabular"), {"train.lr": {"low": 1e-4, "high": 1e-2}},
                            n_trials=1, store=store, check_data=False)
    dead_pid = 2**22 + 4321
    records.update(sweep_id, status="running", pid=dead_pid, host=socket.gethostname())
    records.update(sweep_id, status="completed", pid=None)  # the driver's last write
    assert not records.mark_interrupted(sweep_id, dead_pid)
    assert records.recover() == []
    assert records.get(sweep_id)["status"] == "completed"
    records.update(sweep_id, status="running", pid=dead_pid)  # truly dead this time
    assert records.recover() == [sweep_id]
    assert records.get(sweep_id)["status"] == "interrupted"
