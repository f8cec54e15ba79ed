"""The sweep form: the kind's default search space as ranges and choices the user narrows or widens,
plus the budget (trials, minutes), sampler, pruner and parallel trials.

Widgets come from the settings' descriptions (``core.settings.BY_KEY``: label, help, widget
bounds); the space they produce is validated by ``core.sweeps.create_sweep`` with the same range
rules as a single run, so a bad range is an error message before anything starts.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.errors import LoupeError
from core.settings import BY_KEY


def sweep_form(space: dict[str, dict[str, Any]], key: str) -> dict[str, Any] | None:
    """Render the form; on submit returns {"space", "n_trials", "minutes", "sampler", "pruner",
    "parallel"} (the space still to be validated), else None."""
    out: dict[str, Any] = {}
    with st.form(f"sweep_{key}", border=True):
        st.markdown("**Search space** — untick a setting to keep its default value.")
        chosen: dict[str, Any] = {}
        for name, spec in space.items():
            chosen[name] = _row(name, spec, key)
        st.markdown("**Budget and search**")
        c = st.columns(5)
        out["n_trials"] = int(c[0].number_input("Trials", 1, 1000, 20, key=f"{key}_trials",
                                                help="How many trials to finish (pruned ones count)."))
        minutes = c[1].number_input("Minutes (0 = no limit)", 0.0, 10_000.0, 0.0, key=f"{key}_min",
                                    help="No new trial starts after this time.")
        out["minutes"] = float(minutes) or None
        out["sampler"] = c[2].selectbox("Sampler", ["tpe", "random", "grid"], key=f"{key}_sampler",
                                        help="tpe learns from earlier trials; grid tries every "
                                        "combination (ranges become 4 points).")
        out["pruner"] = c[3].selectbox("Pruner", ["median", "halving", "none"], key=f"{key}_pruner",
                                       help="Stop a trial early when its validation score is worse "
                                       "than earlier trials at the same epoch.")
        out["parallel"] = int(c[4].number_input("Parallel trials", 1, 64, 1, key=f"{key}_par",
                                                help="Trials at once: 1 on a CPU, one per GPU."))
        out["name"] = st.text_input("Sweep name", "", key=f"{key}_name", placeholder="(automatic)")
        start = st.form_submit_button("Start sweep", type="primary")
    if not start:
        return None
    out["space"] = {k: v for k, v in chosen.items() if v is not None}
    if not out["space"]:
        raise LoupeError("No setting is ticked for the search.", "tick at least one setting.")
    return out


def _row(name: str, spec: dict[str, Any], key: str) -> dict[str, Any] | None:
    s = BY_KEY[name]
    cols = st.columns([2, 2, 2, 1])
    on = cols[0].checkbox(s.title, True, key=f"{key}_{name}_on", help=s.help)
    if "choices" in spec:
        sep = "; " if s.type is tuple else ", "
        text = cols[1].text_input("Choices", sep.join(_fmt(v) for v in spec["choices"]),
                                  key=f"{key}_{name}_choices", label_visibility="collapsed",
                                  help="Values separated by commas (hidden sizes: separated by ';').")
        return {"choices": _parse_choices(s, text)} if on else None
    number = s.type
    step = {"format": "%.2e"} if spec.get("log") else {}
    low = cols[1].number_input("Low", value=number(spec["low"]), key=f"{key}_{name}_low",
                               label_visibility="collapsed", **step)
    high = cols[2].number_input("High", value=number(spec["high"]), key=f"{key}_{name}_high",
                                label_visibility="collapsed", **step)
    log = cols[3].checkbox("log", bool(spec.get("log")), key=f"{key}_{name}_log",
                           help="Sample on a log scale (low must be above 0).")
    return {"low": low, "high": high, "log": log} if on else None


def _fmt(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _parse_choices(s: Any, text: str) -> list[Any]:
    parts = [p.strip() for p in text.split(";" if s.type is tuple else ",") if p.strip()]
    if s.type is tuple:
        return parts
    values: list[Any] = []
    for p in parts:
        if s.type is bool:
            if p.lower() not in ("true", "false"):
                raise LoupeError(f"{s.title}: {p!r} is not true or false.", "write true, false.")
            values.append(p.lower() == "true")
        elif s.type in (int, float):
            try:
                values.append(s.type(p))
            except ValueError:
                raise LoupeError(f"{s.title}: {p!r} is not a {'whole ' if s.type is int else ''}"
                                 "number.", "write numbers separated by commas.") from None
        else:
            values.append(p)
    return values
