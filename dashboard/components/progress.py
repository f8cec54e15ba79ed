"""Live training progress read from the store: progress bar, ETA, throughput, curves, cancel.

Everything comes from the run store (run row, metric curves, system figures), never from the
session, so a reloaded browser or a second tab shows the same runs. The training loop logs the
train loss at every optimizer step with a fractional epoch (``step / steps_per_epoch``), so the
total step count follows from the latest point; throughput is steps over the time between the
run's start and its latest heartbeat (written with each metric flush). What the process does right
now (reading data, decoding N of M, training, validating, final evaluation, saving) and the ETA
come from the run folder's ``phase.json`` (``core.phases``), written by the training process.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from core.eta import format_seconds
from core.jobs import cancel_job, read_log
from core.output import md
from core.phases import Phase, read_phase, reporting
from core.plots import curves_figure, format_number
from core.store import RunStore
from dashboard.components.feedback import show_errors
from dashboard.resources import run_curves, run_system

FINISHED_ICON = {"completed": ":green[:material/check_circle:]", "failed": ":red[:material/cancel:]",
                 "cancelled": ":gray[:material/stop_circle:]", "interrupted": ":orange[:material/warning:]"}


def _seconds(a: Any, b: Any) -> float | None:
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return None
    return (pd.Timestamp(b) - pd.Timestamp(a)).total_seconds()


def estimate(run: dict[str, Any], curves: pd.DataFrame, system: dict[str, float] | None = None,
             now: datetime | None = None) -> dict[str, Any]:
    """Progress figures of a run: step, total, fraction, epoch, steps/s, samples/s, eta_s, loss."""
    train_cfg = (run.get("config") or {}).get("train", {})
    epochs = int(train_cfg.get("epochs") or 1)
    max_steps = train_cfg.get("max_steps")
    loss = curves[(curves["split"] == "train") & (curves["name"] == "loss")] if not curves.empty else curves
    step = int(loss["step"].max()) if len(loss) else 0
    epoch = float(loss["epoch"].max()) if len(loss) else 0.0
    total = None
    if step and epoch > 0:
        total = max(step, round(step / epoch * epochs))
    if max_steps:
        total = min(total, int(max_steps)) if total else int(max_steps)
    out: dict[str, Any] = {"step": step, "total": total, "epoch": epoch, "epochs": epochs,
                           "fraction": min(1.0, step / total) if total else 0.0,
                           "steps_per_s": None, "samples_per_s": None, "eta_s": None,
                           "loss": float(loss.sort_values("step")["value"].iloc[-1]) if len(loss) else None}
    if run.get("status") == "completed":
        out["fraction"], out["eta_s"] = 1.0, 0.0
        if system and system.get("samples_per_s"):
            out["samples_per_s"] = float(system["samples_per_s"])
        return out
    rate = _step_rate(loss, run, now)
    if rate:
        out["steps_per_s"] = rate
        per_step = int(train_cfg.get("batch_size") or 1) * int(train_cfg.get("grad_accum") or 1)
        out["samples_per_s"] = rate * per_step
        if total:
            out["eta_s"] = max(0.0, (total - step) / rate)
    return out


def _step_rate(loss: pd.DataFrame, run: dict[str, Any], now: datetime | None) -> float | None:
    """Optimizer steps per second: from the points' own timestamps when the curves carry them,
    else the steps done over the wall time since the run started (a slight underestimate)."""
    if len(loss) >= 2 and "time" in loss.columns:
        first, last = loss.sort_values("step").iloc[[0, -1]].itertuples(index=False)
        seconds = _seconds(first.time, last.time)
        if seconds and seconds > 0.5:
            return (last.step - first.step) / seconds
    step = int(loss["step"].max()) if len(loss) else 0
    elapsed = _seconds(run.get("started_at"), now or datetime.now())
    return step / elapsed if step and elapsed and elapsed > 1.0 else None


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    return format_seconds(seconds)


def eta_text(current: Phase | None) -> str:
    """The ETA the training process wrote, as of now; 'estimating…' until it means something."""
    eta = current.remaining_eta() if current is not None else None
    return "estimating…" if eta is None else format_duration(eta)


@contextmanager
def phase_bar(text: str) -> Iterator[None]:
    """Show the phases of work done in this script run (e.g. the data check decoding images) as a
    progress bar with the phase's name and N of M, instead of a bare spinner."""
    bar = st.progress(0.0, text=text)
    last = {"name": "", "at": 0.0}

    def show(current: Phase) -> None:
        now = time.monotonic()
        if current.name == last["name"] and now - last["at"] < 0.1:
            return
        last.update(name=current.name, at=now)
        bar.progress(current.fraction or 0.0, text=md(f"{text} {current.label()}", mask=False))

    with reporting(show):
        yield
    bar.empty()


def _rate(value: float | None) -> str:
    return "–" if not value else f"{value:,.0f}" if value >= 10 else f"{value:.2f}"


def run_panel(store: RunStore, run: dict[str, Any], monitor: str, key: str) -> None:
    """One run's live (or final) state; ``key`` keeps widget ids unique per panel."""
    run_id, status = run["id"], run["status"]
    names = sorted({"loss", "lr", monitor})
    curves = run_curves(run, names, max_points=300)
    system = run_system(run) if status == "completed" else None
    est = estimate(run, curves, system)
    head, button = st.columns([5, 1])
    icon = FINISHED_ICON.get(status, ":blue[:material/hourglass_top:]")
    active = status in ("queued", "running")
    current = read_phase(store.run_dir(run_id, create=False)) if active else None
    shown = "preparing" if status == "queued" and current is not None else status  # loading data
    head.markdown(f"**{md(run['name'])}** · `{run_id}` · {icon} {shown}")
    if active and button.button("Cancel", key=f"cancel_{key}_{run_id}",
                                help="Stop this run (its best model so far is kept)."):
        with show_errors("Cancel"):
            cancel_job(run_id, store)
            st.toast(f"Asked run {run_id} to stop.")
    if current is not None:  # what the training process is doing now, N of M (core.phases)
        st.progress(current.fraction or 0.0, text=md(current.label(), mask=False))
        overall = (f"step {est['step']:,} / {est['total'] or '?'} · epoch "
                   f"{min(est['epoch'], est['epochs']):.1f} / {est['epochs']} · " if est["step"] else "")
        st.caption(f"{overall}ETA {eta_text(current)}")
    elif status == "queued":
        st.progress(0.0, text="Queued: the training process is starting, or waiting for a free slot…")
    else:
        total = est["total"] or "?"
        st.progress(est["fraction"], text=f"step {est['step']:,} / {total} · "
                                            f"epoch {min(est['epoch'], est['epochs']):.1f} / {est['epochs']}")
    c1, c2, c3, c4 = st.columns(4)
    eta = current.remaining_eta() if current is not None else None
    c1.metric("ETA", format_duration(eta) if eta is not None else "–",
              help="Time left, training and the evaluation after it; shown once enough steps "
                   "were timed to mean something (until then: estimating…).")
    c2.metric("Samples / s", _rate(est["samples_per_s"]))
    c3.metric("Train loss", format_number(est["loss"]))
    val = curves[(curves["split"] == "val") & (curves["name"] == monitor)] if not curves.empty else curves
    c4.metric(f"Val {monitor}", format_number(val.sort_values("step")["value"].iloc[-1]) if len(val) else "–")
    if status == "failed":
        st.error(f"Training failed: {md(run.get('error') or 'no message')}", icon=":material/cancel:")
        with st.expander("Training log (last lines)"):
            st.code(read_log(run_id, store) or "(empty)", language=None)
    elif status in ("cancelled", "interrupted"):
        st.warning(run.get("error") or f"The run was {status}.")
    if not curves.empty:
        left, right = st.columns(2)
        left.plotly_chart(curves_figure(curves, "loss", "Loss", height=280), key=f"loss_{key}_{run_id}")
        second = monitor if monitor != "loss" else "lr"
        right.plotly_chart(curves_figure(curves, second, second, height=280), key=f"m_{key}_{run_id}")
