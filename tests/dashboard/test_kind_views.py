"""Kind views: every built-in kind has its own dashboard module; a kind registered only in core
is shown on every page through the fallback (no page compares or tabulates kind names:
tests/core/test_kind_boundaries.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from core.config import DataConfig, RunConfig
from core.errors import LoupeError
from core.tasks import Predictor, Task, get_task, register, task_kinds, unregister
from dashboard.kinds import FALLBACK, KindView, has_view, register_view, unregister_view, view_for
from tests.dashboard.conftest import no_exception, open_page

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
FAKE = "fake_kind_i14"  # no dashboard/kinds/fake_kind_i14.py: the fallback shows it


class _FakePredictor(Predictor):
    task = FAKE

    def __init__(self) -> None:
        self.meta = {}

    def predict(self, inputs: Any, batch_size: int = 64) -> pd.DataFrame:
        return pd.DataFrame({"prediction": [float(len(str(x))) for x in inputs]})

    def load_inputs(self, path: Path) -> Any:
        return pd.read_csv(path)["value"].tolist()


class _FakeTask(Task):
    """A kind that exists only in core: it has samples, a config and a predictor, nothing more."""

    kind = FAKE
    title = "Fake kind"

    def samples(self) -> dict[str, str]:
        return {"tiny": "A tiny made-up sample"}

    def default_config(self, sample: str | None = None) -> RunConfig:
        return RunConfig(task=self.kind, data=DataConfig(source=f"sample:{sample or 'tiny'}"))

    def load_data(self, cfg: RunConfig) -> Any:
        raise LoupeError("The fake kind has no data.", "use another kind.")

    def build_model(self, cfg, data):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def forward(self, model, batch):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def metrics(self, outputs, targets, data):  # type: ignore[no-untyped-def]
        return {}

    def save_artifact(self, model, cfg, data, out_dir):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def load_predictor(self, artifact_dir: Path, device: str = "auto") -> Predictor:
        return _FakePredictor()

    def load_weights(self, model, artifact_dir):  # type: ignore[no-untyped-def]
        raise NotImplementedError


@pytest.fixture
def fake_kind() -> Iterator[str]:
    """The fake kind registered in core for one test, removed after."""
    task_kinds()  # built-ins first, so the fake kind is listed after them
    register(_FakeTask())
    try:
        yield FAKE
    finally:
        unregister(FAKE)
        unregister_view(FAKE)


@pytest.fixture
def fake_run(fake_kind: str, store) -> str:
    """A finished run of the fake kind with a model folder (the fake predictor reads nothing)."""
    run_id = store.create_run(get_task(fake_kind).default_config())
    store.finish_run(run_id, {"test_loss": 0.5})
    model_dir = store.run_dir(run_id) / "model"
    model_dir.mkdir(parents=True)
    store.add_artifact(run_id, "model", model_dir)
    return run_id


def test_every_registered_kind_has_its_own_view() -> None:
    for kind in task_kinds():
        assert has_view(kind), f"dashboard/kinds/{kind}.py is missing or has no VIEW"
        view = view_for(kind)
        assert view.input_form is not None and view.upload_help
        assert view.examples({}) == []  # a report without examples is no error


def test_views_follow_the_kind_not_a_table() -> None:
    assert view_for("text").column_roles[0].field == "text_column"
    assert [r.field for r in view_for("tabular").column_roles] == ["target"]
    assert view_for("image").input_image and not view_for("text").input_image
    assert "png" in view_for("image").batch_upload_types
    assert view_for("text").batch_upload_types == list(view_for("text").upload_types)
    assert view_for("base") is FALLBACK and view_for("no such kind") is FALLBACK
    with pytest.raises(TypeError):
        register_view("x", {"upload_types": ("csv",)})  # type: ignore[arg-type]


def test_sample_frames_come_from_the_task() -> None:
    assert "price" in get_task("tabular").sample_frame("house_prices").columns
    assert len(get_task("text").sample_frame("reviews")) > 0
    assert get_task("image").sample_frame("digits") is None


def test_a_core_only_kind_gets_the_fallback(fake_kind: str) -> None:
    assert not has_view(fake_kind) and view_for(fake_kind) is FALLBACK
    from dashboard.components.explain_view import methods_for

    assert methods_for(fake_kind) == {}  # core.explain offers nothing for it
    assert methods_for("text") == {"shap": "SHAP token strip", "attention": "Attention heads + rollout"}


def test_a_core_only_kind_on_data_and_train(fake_kind: str) -> None:
    at = open_page("data")
    at.selectbox(key="data_kind").set_value(fake_kind).run()
    no_exception(at)
    assert at.file_uploader(key=f"data_upload_{fake_kind}")
    at.radio(key="data_mode").set_value("Use a sample").run()
    no_exception(at)
    assert any("needs no column choices" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Check data").click().run()
    no_exception(at)
    assert any("The fake kind has no data" in e.value for e in at.error)

    at = open_page("train", {"train_request": {"task": fake_kind, "sample": "tiny"}})
    no_exception(at)
    assert at.selectbox(key="train_kind").value == fake_kind


def test_a_core_only_kind_on_predict_and_explain(fake_run: str) -> None:
    at = open_page("predict")
    no_exception(at)
    assert at.selectbox(key="predict_run").value == fake_run
    assert any("no single-input form" in i.value for i in at.info)
    at.file_uploader(key=f"predict_file_{FAKE}").set_value(("in.csv", b"value\nab\nabcd\n", "text/csv")).run()
    no_exception(at)
    assert at.success and "2 predictions" in at.success[0].value
    assert at.dataframe[0].value["prediction"].tolist() == [2.0, 4.0]

    at = open_page("explain")
    no_exception(at)
    assert any(f"no explanations for '{FAKE}'" in i.value for i in at.info)


def _constant_form(predictor: Any, key: str, submit: str = "Predict") -> str:
    import streamlit as st

    st.caption("A fixed input.")
    return "four"


def _image_form(predictor: Any, key: str, submit: str = "Predict") -> Any:
    from PIL import Image

    return Image.new("RGB", (8, 8), (200, 30, 30))


def test_a_registered_view_is_used_by_the_pages(fake_run: str) -> None:
    register_view(FAKE, KindView(input_form=_constant_form))
    at = open_page("predict")
    no_exception(at)
    assert at.metric[0].label == "Prediction" and at.metric[0].value == "4"
    assert not at.get("image")
    register_view(FAKE, KindView(input_form=_image_form, input_image=True))  # shown beside it
    at = open_page("predict")
    no_exception(at)
    assert at.get("image") and at.metric[0].label == "Prediction"
