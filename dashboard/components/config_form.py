"""The training-config form: main hyperparameters up front, advanced ones folded away.

Every widget is built from the setting's description (``core.settings.SETTINGS``: label, help,
range, choices, where in the form); the model settings shown are the kind's
(``Task.model_settings``). Built inside ``st.form`` so typing in a field never reruns the page;
the values become a ``RunConfig`` through its strict ``from_dict`` (a bad value is a LoupeError
the page shows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from core.config import RunConfig
from core.settings import BY_KEY, Setting, form_settings, parse_int_list

if TYPE_CHECKING:
    from core.tasks.base import Task


def config_form(cfg: RunConfig, key: str, task: Task) -> tuple[RunConfig | None, str | None]:
    """Render the form for ``cfg`` (defaults); returns (edited config, "check"|"start") on submit."""
    values: dict[str, Any] = {}
    with st.form(f"config_{key}", border=True):
        head = form_settings("head")
        for col, s in zip(st.columns([2, 1]), head, strict=True):
            help_text = task.model_name_help if s.key == "model.name" else s.help
            values[s.key] = _widget(col, s, _current(cfg, s), key, help_text)
        for col, s in zip(st.columns(4), form_settings("main"), strict=True):
            values[s.key] = _widget(col, s, _current(cfg, s), key)
        with st.expander("Advanced settings"):
            cols = st.columns(4)
            for i, s in enumerate(form_settings("advanced")):
                values[s.key] = _widget(cols[i % 4], s, _current(cfg, s), key)
            model = [s for s in form_settings("model") if s.name in task.model_settings]
            for col, s in zip(st.columns(max(len(model), 1)), model, strict=False):
                values[s.key] = _widget(col, s, _current(cfg, s), key)
            for s in form_settings("foot"):
                values[s.key] = _widget(st, s, _current(cfg, s), key)
        b1, b2, _ = st.columns([1, 1, 3])
        check = b1.form_submit_button("Check data", help="Load and validate the data without training.")
        start = b2.form_submit_button("Start training", type="primary")
    if not (check or start):
        return None, None
    raw = cfg.to_dict()
    for setting_key, value in values.items():
        s = BY_KEY[setting_key]
        _place(raw, s, _read(s, value))
        if s.key == "train.seed":  # the split follows the training seed in the form
            for follower in (f for f in BY_KEY.values() if f.form_follows == s.key):
                _place(raw, follower, _read(s, value))
    return RunConfig.from_dict(raw), "start" if start else "check"


def _current(cfg: RunConfig, s: Setting) -> Any:
    return getattr(cfg if s.section == "run" else getattr(cfg, s.section), s.name)


def _place(raw: dict[str, Any], s: Setting, value: Any) -> None:
    (raw if s.section == "run" else raw[s.section])[s.name] = value


def _widget(col: Any, s: Setting, value: Any, key: str, help_text: str | None = None) -> Any:
    """The widget the setting's type asks for, keyed ``<form key>_<section>.<name>``."""
    wkey, help_text = f"{key}_{s.key}", help_text or s.help
    if s.type is bool:
        return col.checkbox(s.title, value, key=wkey, help=help_text)
    if s.type is tuple:  # typed as text, parsed after submit: a typo is an error message, not a crash
        return col.text_input(s.title, ", ".join(map(str, value)) if s.item_type is str
                              else ",".join(map(str, value)), key=wkey, help=help_text)
    if s.choices:
        options = list(s.choices)
        return col.selectbox(s.title, options, options.index(value) if value in options else 0,
                             key=wkey, help=help_text)
    if s.type is str:
        return col.text_input(s.title, value, key=wkey, help=help_text, placeholder=s.placeholder)
    number = s.type
    low = 0 if s.optional else (s.ui_low if s.ui_low is not None else s.low)
    high = s.ui_high if s.ui_high is not None else s.high
    extra = {k: v for k, v in (("step", s.step), ("format", s.fmt)) if v is not None}
    return col.number_input(s.title, _as(number, low), _as(number, high),
                            number(value if value is not None else 0), key=wkey, help=help_text, **extra)


def _as(number: type, bound: float | None) -> Any:
    return None if bound is None else number(bound)


def _read(s: Setting, value: Any) -> Any:
    """A widget's value as the config takes it (0 leaves an optional number unset)."""
    if s.type is tuple:
        if s.item_type is str:
            return [x.strip() for x in value.split(",") if x.strip()]
        return parse_int_list(value, s.title)
    if s.type is str:
        return value.strip()
    if s.type in (int, float):
        return (s.type(value) or None) if s.optional else s.type(value)
    return value
