"""Train: defaults from the registry, validation before launch, runs read from the store."""

from __future__ import annotations

import pytest

from core.tasks import all_tasks, get_task
from tests.dashboard.conftest import no_exception, open_page


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


@pytest.mark.parametrize("kind", [t.kind for t in all_tasks()])
def test_train_page_shows_the_form_for_every_kind(kind: str) -> None:
    at = open_page("train", {"train_kind": kind})
    no_exception(at)
    assert at.selectbox(key="train_kind").value == kind
    sources = at.selectbox(key=f"train_source_{kind}").options
    assert len(sources) == len(get_task(kind).samples())
    labels = {n.label for n in at.number_input}
    assert {"Epochs", "Batch size", "Learning rate", "Patience", "Seed", "Max steps"} <= labels
    assert {"Check data", "Start training"} <= {b.label for b in at.button}
    assert any("Runs in progress" in s.value for s in at.subheader)


def test_check_data_on_a_sample_succeeds() -> None:
    at = open_page("train", {"train_request": {"task": "tabular", "sample": "diabetes"}})
    assert at.selectbox(key="train_source_tabular").value == "sample:diabetes"
    _button(at, "Check data").click().run()
    no_exception(at)
    assert at.success and "ready" in at.success[0].value


def test_a_missing_data_file_is_an_error_before_anything_is_queued(store) -> None:
    choice = {"data": {"source": "/nonexistent/file.csv", "target": "y"}, "label": "file.csv"}
    at = open_page("train", {"data_choices": {"tabular": choice},
                             "train_request": {"task": "tabular", "data": choice["data"]}})
    _button(at, "Start training").click().run()
    no_exception(at)
    assert at.error and "not found" in at.error[0].value.lower()
    assert store.count_runs() == 0


def test_a_bad_setting_is_an_error() -> None:
    at = open_page("train", {"train_kind": "tabular"})
    hidden = next(t for t in at.text_input if t.label == "Hidden sizes")
    hidden.set_value("128,abc")
    _button(at, "Check data").click().run()
    no_exception(at)
    assert at.error and "whole numbers" in at.error[0].value


def test_start_queues_a_run_and_shows_it_live(store, monkeypatch: pytest.MonkeyPatch) -> None:
    started = []

    def fake_start(cfg, store=None, fingerprint="", launcher=None):
        started.append(cfg)
        return store.create_run(cfg, fingerprint)

    monkeypatch.setattr("core.jobs.start_job", fake_start)
    at = open_page("train", {"train_request": {"task": "tabular", "sample": "diabetes"}})
    next(n for n in at.number_input if n.label == "Epochs").set_value(3)
    _button(at, "Start training").click().run()
    no_exception(at)
    assert started and started[0].train.epochs == 3
    assert any("Started run" in s.value for s in at.success)
    assert any(s.value == "Runs in progress (1)" for s in at.subheader)
    _button(at, "Cancel").click().run()
    no_exception(at)
    assert store.get_run(store.list_runs()["id"][0])["status"] == "cancelled"


def test_active_runs_survive_a_reload_and_failures_show_their_error(store) -> None:
    from core.config import RunConfig

    cfg = RunConfig(task="tabular", name="crashy")
    failed = store.create_run(cfg)
    store.fail_run(failed, "LoupeError: the target column 'price' is gone. Fix: pick another.")
    queued = store.create_run(cfg.replace(name="waiting"))
    at = open_page("train")  # a fresh session: nothing in session state
    no_exception(at)
    assert any(s.value == "Runs in progress (1)" for s in at.subheader)
    assert any(queued in m.value for m in at.markdown)
    assert any("Training failed" in e.value and "price" in e.value for e in at.error)
