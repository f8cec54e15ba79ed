"""The Sweeps page (AppTest): a finished sweep's table, figures and "promote best"; a bad range in
the form is an error message and starts nothing."""

from __future__ import annotations

import hashlib

from core.sweeps import create_sweep, run_sweep
from core.sweeps.records import SweepRecords
from core.tasks import get_task
from tests.dashboard.conftest import no_exception, open_page


def finished_sweep(store) -> dict:
    cfg = get_task("tabular").default_config("house_prices").replace(
        data={"max_rows": 200}, train={"epochs": 2, "patience": 0, "device": "cpu"})
    sweep_id = create_sweep(cfg, {"train.lr": {"low": 1e-3, "high": 1e-2, "log": True},
                                  "model.hidden_sizes": {"choices": ["64", "32,16"]}},
                            n_trials=2, pruner="none", name="price <b>search</b>", store=store)
    return run_sweep(sweep_id, store, executor="inline")


def test_sweeps_page_shows_a_finished_sweep_and_promotes_its_best(store) -> None:
    row = finished_sweep(store)
    at = open_page("sweeps")
    no_exception(at)
    assert at.selectbox(key="sweep_pick").value == row["id"]
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 2
    assert "status **completed**" in " ".join(m.value for m in at.markdown)
    assert "<b>" not in " ".join(m.value for m in at.markdown)  # the name is escaped
    assert len(at.get("plotly_chart")) >= 2  # objective by trial, parallel coordinates
    at.button(key="sweep_promote").click().run()
    no_exception(at)
    assert "best" in store.get_run(row["best_run_id"])["tags"]
    assert at.session_state["selected_run"] == row["best_run_id"]


def test_a_bad_range_is_an_error_and_starts_nothing(store) -> None:
    at = open_page("sweeps")
    no_exception(at)
    kind, source = at.selectbox(key="sweep_kind").value, "sample:house_prices"
    at.selectbox(key=f"sweep_src_{kind}").set_value(source).run()
    key = hashlib.sha1(f"{kind}|{source}".encode()).hexdigest()[:10]
    at.number_input(key=f"{key}_train.epochs_low").set_value(50)
    at.number_input(key=f"{key}_train.epochs_high").set_value(5)
    next(b for b in at.button if b.label == "Start sweep").click().run()
    no_exception(at)
    assert any("above high" in e.value for e in at.error)
    assert SweepRecords(store).list().empty
