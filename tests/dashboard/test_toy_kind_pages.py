"""The "add a task kind" walkthrough on the pages: the test-only toy kind (tests/toy_kind/: task,
explainer and dashboard modules, nothing else) is registered here, trained, and then shown on the
Data, Train, Predict, Explain and Export pages through AppTest like a built-in kind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.tasks import get_task, register, task_kinds, unregister
from dashboard.kinds import has_view, register_view, unregister_view
from tests.dashboard.conftest import no_exception, open_page
from tests.toy_kind.dashboard import VIEW
from tests.toy_kind.task import ToyTask


@pytest.fixture
def toy_run(store) -> Iterator[str]:
    from core.train import train

    register(ToyTask())
    register_view("toy", VIEW)
    try:
        result = train(get_task("toy").default_config("blobs"), store)
        assert result.status == "completed"
        yield result.run_id
    finally:
        unregister("toy")
        unregister_view("toy")
    assert "toy" not in task_kinds() and not has_view("toy")


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_the_toy_kind_on_every_page(toy_run: str) -> None:
    at = open_page("data")
    at.selectbox(key="data_kind").set_value("toy").run()
    at.radio(key="data_mode").set_value("Use a sample").run()
    no_exception(at)
    assert at.selectbox(key="data_sample_toy").value == "blobs"
    assert any(s.label == "Label column" for s in at.selectbox)  # the view's column role

    at = open_page("train", {"train_request": {"task": "toy", "sample": "blobs"}})
    no_exception(at)
    assert at.selectbox(key="train_kind").value == "toy"

    at = open_page("predict")
    assert at.selectbox(key="predict_run").value == toy_run
    at.number_input(key=f"predict_{toy_run}_toy_x0").set_value(2.0)
    at.number_input(key=f"predict_{toy_run}_toy_x1").set_value(-1.5)
    _button(at, "Predict").click().run()
    no_exception(at)
    assert at.metric[0].value == "yes"  # the blob centred at (2, -1.5)

    at = open_page("explain")
    assert at.radio(key="explain_method_toy").options == ["SHAP for one row (toy waterfall)"]
    at.number_input(key=f"explain_{toy_run}_toy_x0").set_value(-2.0)
    _button(at, "Explain").click().run(timeout=300)  # one click: the form's own button explains
    no_exception(at)
    assert not at.error and at.get("plotly_chart")  # the toy explainer's waterfall

    at = open_page("export")
    no_exception(at)
    _button(at, "Prepare model zip").click().run()
    no_exception(at)
    assert at.get("download_button")
