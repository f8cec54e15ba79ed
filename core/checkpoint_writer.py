"""End-of-epoch saves that do not hold up training, and only as often as they are worth.

At an epoch end the loop keeps a CPU snapshot of the model when the epoch is the best so far
(``cpu_copy``). A resume checkpoint is written only when ``CheckpointSchedule`` says one is due:
``train.checkpoint_every`` seconds after the last one (0: every epoch), and always for the epoch
that ends training. The best model's folder is written with the checkpoint that first follows it,
so a checkpoint never names a best epoch whose model is not on disk, and a crash loses at most
``checkpoint_every`` seconds plus one epoch (the resume replays them exactly).

The writing itself runs in ``BackgroundWriter``: one thread, one job at a time. Every later save,
``_finish`` and every failure or cancel path calls ``wait`` first, so jobs never overlap, the best
model is on disk before the final evaluation loads it, and an error raised in the thread is raised
there (not lost). The atomic folder swaps of ``core.checkpoint`` are unchanged: a job killed
mid-write leaves the previous folder intact.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.checkpoint import LoopState, save_checkpoint, write_atomically


def cpu_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` whose parameters and buffers are CPU clones (tied weights stay
    tied), for saving while training goes on.

    ``copy.deepcopy`` is handed a memo that already maps every parameter and buffer to its CPU
    clone, so those tensors are never duplicated on a GPU; the rest (configs, preprocessing,
    a tree booster) is deep-copied as usual, and later changes to the live model never reach
    the copy. Parts the module lists in ``unchanging_parts()`` (e.g. a fitted booster that
    training never touches) are shared with the copy instead of copied."""
    shared = getattr(module, "unchanging_parts", None)
    memo: dict[int, Any] = {id(part): part for part in (shared() if shared else ())}
    for tensor in [*module.parameters(), *module.buffers()]:
        if id(tensor) not in memo:
            data = tensor.detach().to("cpu", copy=True)
            memo[id(tensor)] = (nn.Parameter(data, requires_grad=tensor.requires_grad)
                                if isinstance(tensor, nn.Parameter) else data)
    return copy.deepcopy(module, memo)


def same_weights(model: nn.Module, snapshot: nn.Module) -> bool:
    """True when every tensor of ``model``'s state dict equals ``snapshot``'s, bit for bit."""
    live, saved = model.state_dict(), snapshot.state_dict()
    return live.keys() == saved.keys() and all(
        live[k].dtype == saved[k].dtype and torch.equal(live[k].cpu(), saved[k]) for k in live)


def cpu_state(value: Any) -> Any:
    """A deep copy of a state dict with every tensor cloned to the CPU (an optimizer's state dict
    refers to the live moment tensors, which the next step changes in place)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: cpu_state(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(cpu_state(v) for v in value)
    return copy.deepcopy(value)


class BackgroundWriter:
    """Runs save jobs one at a time in one thread; ``wait`` raises the last job's error."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def submit(self, job: Callable[[], None]) -> None:
        self.wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loupe-checkpoint")
        self._pending = self._pool.submit(job)

    def wait(self) -> None:
        """Block until the job in flight is written; raise its error, if any."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def drain(self) -> BaseException | None:
        """On a failure or cancel path: wait, and return the job's error instead of raising it."""
        try:
            self.wait()
        except BaseException as exc:  # noqa: BLE001  # the caller decides which error wins
            return exc
        return None

    def settle(self, exc: BaseException, plain_cancel: bool) -> BaseException:
        """On a failure or cancel path: wait for the job in flight; return what to raise. A
        write error wins over a plain cancel (the user must learn the save failed); otherwise
        the first error stays and the write error is added to it as a note."""
        error = self.drain()
        if error is None:
            return exc
        if plain_cancel:
            error.__context__ = exc
            return error
        note = f"Writing the last checkpoint failed as well: {error!r}"
        if hasattr(exc, "add_note"):  # Python 3.11+
            exc.add_note(note)
        else:  # 3.10: the same attribute add_note fills (PEP 678)
            exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]
        return exc

    def close(self) -> None:
        error = self.drain()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if error is not None:
            raise error


class CheckpointSchedule:
    """When a resume checkpoint is due: ``every`` seconds (wall clock) after the last one was
    taken, at every epoch end when ``every`` is 0, and always when training ends."""

    def __init__(self, every: float) -> None:
        self.every = max(0.0, float(every))
        self.last = time.monotonic()

    def due(self, complete: bool) -> bool:
        return complete or self.every == 0 or time.monotonic() - self.last >= self.every

    def taken(self) -> None:
        self.last = time.monotonic()


def save_job(run_dir: Path, save_artifact: Callable[[nn.Module, Path], None] | None,
             best: nn.Module | None, model: nn.Module | None, states: dict[str, Any] | None,
             state: LoopState | None) -> Callable[[], None]:
    """The files of one save, from snapshots taken earlier: the best model (``save_artifact`` of
    ``best``, when it changed since the last save) first, then the resume checkpoint (``state``
    with ``model``'s weights; None: none), so a checkpoint never names a best epoch whose model
    is not on disk yet."""

    def job() -> None:
        if save_artifact is not None and best is not None:
            write_atomically(run_dir / "model", lambda tmp: save_artifact(best, tmp))
        if state is not None:
            save_checkpoint(run_dir / "checkpoint", None if state.complete else model, states, state)

    return job
