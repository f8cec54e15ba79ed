"""Issue 15 on the pages: the live panel names the phase with N of M and hides an ETA that means
nothing yet; the runs table says on what data and for how long; Home's words match the defaults."""

from __future__ import annotations

import time

from core.config import RunConfig
from core.phases import PhaseFile, phase, reporting
from core.tasks import all_tasks
from tests.dashboard.conftest import no_exception, open_page


def _progress_texts(at) -> list[str]:
    return [p.proto.text for p in at.get("progress")]


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_live_panel_shows_the_phase_n_of_m_and_an_eta_only_once_meaningful(store) -> None:
    run_id = store.create_run(RunConfig(task="image", name="photos"), status="queued")
    with reporting(PhaseFile(store.run_dir(run_id), every=0)):
        phase("Decoding images", total=245, unit="images").update(37)
    at = open_page("train")
    no_exception(at)
    assert "Decoding images · 37 of 245 images" in _progress_texts(at)
    assert _metric(at, "ETA") == "–" and any(c.value == "ETA estimating…" for c in at.caption)
    assert any("preparing" in m.value for m in at.markdown)  # not "queued" while it loads data

    store.start_run(run_id, "cpu", "fp32")
    with reporting(PhaseFile(store.run_dir(run_id), every=0)):
        phase("Training · epoch 1 of 8", total=80, unit="steps").update(12, eta_s=3600 + 120)
    at.run()
    no_exception(at)
    assert "Training · epoch 1 of 8 · 12 of 80 steps" in _progress_texts(at)
    assert _metric(at, "ETA").startswith("1 h 0")  # written by the training process, counted down
    assert any(c.value.startswith("ETA 1 h 0") for c in at.caption)


def test_runs_table_has_dataset_and_duration(store) -> None:
    cfg = RunConfig.from_dict({"task": "tabular", "name": "timed",
                               "data": {"source": "/home/someone/data/houses.csv", "target": "price"}})
    run_id = store.create_run(cfg)
    store.start_run(run_id, "cpu", "fp32")
    time.sleep(0.01)
    store.finish_run(run_id, {"test_rmse": 1.0})
    sample = store.create_run(RunConfig(task="tabular", name="sampled",
                                        data={"source": "sample:diabetes"}))
    at = open_page("runs")
    no_exception(at)
    table = at.dataframe[0].value.set_index("id")
    assert {"dataset", "duration"} <= set(table.columns)
    assert table.loc[run_id, "dataset"] == "houses.csv"  # the name, never the full path
    assert table.loc[run_id, "duration"] == "0 s"
    assert table.loc[sample, "dataset"] == "diabetes (sample)"
    assert table.loc[sample, "duration"] == ""  # never started


def test_home_states_each_samples_time_from_its_task() -> None:
    at = open_page("home")
    no_exception(at)
    captions = " ".join(c.value for c in at.caption)
    for task in all_tasks():
        for sample, took in task.sample_cpu_time.items():
            assert f"{took} on a 2-core CPU" in captions, (task.kind, sample)
    assert "under a minute" not in " ".join(i.value for i in at.info)
