"""Home: the pitch, the device, one 'try' button per sample of every registered kind, recent runs."""

from __future__ import annotations

from core.tasks import all_tasks
from tests.dashboard.conftest import no_exception, open_page, seed_runs


def test_home_loads_with_a_try_button_per_sample() -> None:
    at = open_page("home")
    no_exception(at)
    assert at.title[0].value == "Loupe"
    labels = {b.label for b in at.button}
    for task in all_tasks():
        for sample in task.samples():
            assert f"Try {sample}" in labels
    assert any("CPU" in i.value or "GPU" in i.value for i in [*at.info, *at.success])
    assert any("No runs yet" in c.value for c in at.caption)


def test_try_a_sample_opens_train_with_it_preselected() -> None:
    task = all_tasks()[0]
    sample = next(iter(task.samples()))
    at = open_page("home")
    at.button(key=f"try_{task.kind}_{sample}").click().run()
    no_exception(at)
    assert at.title[0].value == "Train"
    assert at.selectbox(key="train_kind").value == task.kind
    assert at.selectbox(key=f"train_source_{task.kind}").value == f"sample:{sample}"


def test_recent_runs_come_from_the_store(store) -> None:
    seed_runs(store, 3)
    at = open_page("home")
    no_exception(at)
    shown = at.dataframe[0].value
    assert len(shown) == 3 and set(shown["name"]) == {"seed-0", "seed-1", "seed-2"}
