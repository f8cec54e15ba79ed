"""The training form is built from core/settings.py: every setting has its widget (or is chosen
elsewhere, as its description says), each kind shows its own model settings, and what is typed
comes back in the config."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.settings import SETTINGS
from core.tasks import all_tasks
from tests.dashboard.conftest import no_exception, open_page


def _plain_form() -> None:
    """The form for a kind that sets nothing of its own (Task's defaults: every model setting)."""
    import streamlit as st

    from core.config import RunConfig
    from core.tasks.base import Task
    from dashboard.components.config_form import config_form

    class Plain:  # only what the form reads from a task
        model_settings = Task.model_settings
        model_name_help = Task.model_name_help

    cfg, action = config_form(RunConfig(task="plain", tags=("a",)), "k", Plain())  # type: ignore[arg-type]
    if cfg is not None:
        st.session_state["submitted"] = (cfg.to_dict(), action)


def _keys(at: AppTest) -> set[str]:
    widgets = [*at.number_input, *at.text_input, *at.selectbox, *at.checkbox]
    return {w.key for w in widgets if w.key}


def test_every_setting_is_in_the_form_or_chosen_elsewhere() -> None:
    at = AppTest.from_function(_plain_form, default_timeout=60).run()
    no_exception(at)
    shown = {k.removeprefix("k_") for k in _keys(at)}
    in_form = {s.key for s in SETTINGS if s.form}
    assert shown == in_form
    follows = {s.key: s.form_follows for s in SETTINGS if s.form_follows}
    assert all(leader in shown for leader in follows.values())
    elsewhere = {s.key for s in SETTINGS if not s.form and not s.form_follows}
    # Chosen on the Data page / the data picker above the form, by CLI and config files only, or
    # (data.edits) by saving a review on the Runs page's Data check.
    assert elsewhere == {"data.source", "data.target", "data.text_column", "data.label_column",
                         "data.negative_source", "data.encoding", "data.edits"}
    labels = {w.label for w in [*at.number_input, *at.text_input, *at.selectbox, *at.checkbox]}
    assert {s.title for s in SETTINGS if s.form} == labels


def test_the_form_returns_what_was_typed() -> None:
    at = AppTest.from_function(_plain_form, default_timeout=60).run()
    at.number_input(key="k_train.epochs").set_value(7)
    at.number_input(key="k_train.seed").set_value(11)
    at.number_input(key="k_train.max_steps").set_value(0)
    at.number_input(key="k_data.max_rows").set_value(500)
    at.selectbox(key="k_train.precision").set_value("fp32")
    at.checkbox(key="k_model.pretrained").uncheck()
    at.text_input(key="k_model.hidden_sizes").set_value("32, 16")
    at.text_input(key="k_run.tags").set_value(" x , y,")
    at.text_input(key="k_run.name").set_value("  named  ")
    next(b for b in at.button if b.label == "Check data").click().run()
    no_exception(at)
    raw, action = at.session_state["submitted"]
    assert action == "check"
    assert raw["train"]["epochs"] == 7 and raw["train"]["precision"] == "fp32"
    assert raw["train"]["seed"] == 11 and raw["data"]["seed"] == 11  # the split follows the seed
    assert raw["train"]["max_steps"] is None and raw["data"]["max_rows"] == 500
    assert raw["model"]["pretrained"] is False and raw["model"]["hidden_sizes"] == [32, 16]
    assert raw["tags"] == ["x", "y"] and raw["name"] == "named"


@pytest.mark.parametrize("kind", [t.kind for t in all_tasks()])
def test_each_kind_shows_its_own_model_settings(kind: str) -> None:
    from core.tasks import get_task

    task = get_task(kind)
    at = open_page("train", {"train_kind": kind})
    no_exception(at)
    shown = {k.split("_", 1)[1] for k in _keys(at) if "_model." in k}  # "<form key>_model.x"
    assert shown == {f"model.{name}" for name in task.model_settings} | {"model.name"}
    model = next(t for t in at.text_input if t.label == "Model")
    assert model.help == task.model_name_help
