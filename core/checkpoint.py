"""Resume checkpoints: model weights (safetensors), optimizer/scheduler state and loop counters.

Written at each epoch end into ``runs/<id>/checkpoint`` by swapping in a finished temporary folder,
so a process killed mid-write leaves the previous checkpoint intact. The optimizer state is a file
this project wrote itself and is read back with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import shutil
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


def save_checkpoint(
    folder: Path, model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any, state: LoopState
) -> None:
    tmp = atomic_dir(folder)
    save_model(model, str(tmp / "model.safetensors"))
    torch.save(
        {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
        tmp / "optimizer.pt",
    )
    (tmp / "state.json").write_text(json.dumps(asdict(state)))
    commit_dir(tmp, folder)


def load_checkpoint(
    folder: Path, model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any
) -> LoopState | None:
    """Restore from ``folder``; None when there is no complete checkpoint."""
    if not (folder / "state.json").exists():
        return None
    load_model(model, str(folder / "model.safetensors"))
    states = torch.load(folder / "optimizer.pt", map_location="cpu", weights_only=True)
    optimizer.load_state_dict(states["optimizer"])
    scheduler.load_state_dict(states["scheduler"])
    return LoopState(**json.loads((folder / "state.json").read_text()))
