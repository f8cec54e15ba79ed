"""Resume checkpoints: model weights (safetensors), optimizer/scheduler state and loop counters.

Written at each epoch end into ``runs/<id>/checkpoint`` by swapping in a finished temporary folder,
so a process killed mid-write leaves the previous checkpoint intact. The optimizer state is a file
this project wrote itself and is read back with ``torch.load(weights_only=True)``.

The epoch that ends training writes a *complete* checkpoint: ``state.json`` alone (``LoopState.
complete``). A resume from it trains nothing — it evaluates the best model in ``runs/<id>/model`` —
so the last weights and optimizer moments (the largest files) are never needed and not written.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model, save_model
from torch import nn


@dataclass
class LoopState:
    epoch: int = 0  # epochs completed
    global_step: int = 0
    best: float | None = None
    best_loss: float | None = None  # validation loss at ``best``: breaks ties of the monitor
    bad_epochs: int = 0
    samples_seen: int = 0
    best_epoch: int | None = None  # epoch of ``best``; 0 = the untrained start candidate
    start_score: float | None = None  # the start candidate's validation monitor (see Task)
    best_trained: float | None = None  # the best monitor of a trained epoch
    complete: bool = False  # training is over: the checkpoint holds this state only, no weights


def atomic_dir(final: Path) -> Path:
    """A fresh temporary sibling folder; call ``commit_dir`` to swap it in."""
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def commit_dir(tmp: Path, final: Path) -> None:
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def remove_partial_dirs(run_dir: Path) -> None:
    """Undo what an interrupted atomic folder swap (core.checkpoint.commit_dir) left behind:
    ``X.tmp`` is half-written and goes; ``X.old`` is the last good copy and goes back to ``X``
    when the swap stopped before ``X`` was replaced."""
    if not run_dir.is_dir():
        return
    for old in run_dir.glob("*.old"):
        final = old.with_suffix("")
        if final.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.rename(final)
    for tmp in run_dir.glob("*.tmp"):
        shutil.rmtree(tmp, ignore_errors=True)


def write_atomically(folder: Path, write: Callable[[Path], None]) -> None:
    """``write`` fills a temporary sibling folder that then replaces ``folder``; on an error the
    temporary folder is removed (nothing half-written stays) and the error is raised."""
    tmp = atomic_dir(folder)
    try:
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    commit_dir(tmp, folder)


def save_checkpoint(folder: Path, model: nn.Module | None, states: dict[str, Any] | None,
                    state: LoopState) -> None:
    """``model``: the weights to resume from; ``states``: ``{"optimizer": ..., "scheduler": ...}``
    state dicts. Both None for a complete checkpoint (``state.complete``): the state alone."""

    def write(tmp: Path) -> None:
        if not state.complete:
            assert model is not None and states is not None
            save_model(model, str(tmp / "model.safetensors"))
            torch.save(states, tmp / "optimizer.pt")
        (tmp / "state.json").write_text(json.dumps(asdict(state)))

    write_atomically(folder, write)


def load_checkpoint(
    folder: Path, model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any
) -> LoopState | None:
    """Restore from ``folder``; None when there is no checkpoint. A complete one (training is
    over) restores the state only: the loop then goes straight to the final evaluation."""
    if not (folder / "state.json").exists():
        return None
    state = LoopState(**json.loads((folder / "state.json").read_text()))
    if state.complete:
        return state
    load_model(model, str(folder / "model.safetensors"))
    states = torch.load(folder / "optimizer.pt", map_location="cpu", weights_only=True)
    optimizer.load_state_dict(states["optimizer"])
    scheduler.load_state_dict(states["scheduler"])
    return state
