"""How long a run has left: measured step, evaluation and saving times times what remains.

An ETA from the first step or two is noise (the first step allocates, warms caches, compiles);
one read from the wall clock since the run started counts data loading as training (the
"3 h 54 min" a 76-second run once showed). So the clock here only times the work itself, skips
the first optimizer step, and says nothing (None: "estimating…") until ``MIN_STEPS`` steps were
timed. The estimate covers everything after training too: the validation after each remaining
epoch, the saves, and the final evaluation of every split — before a validation has been timed,
an evaluation batch is taken to cost ``EVAL_SHARE`` of a training step (a forward pass without the
backward pass and the optimizer update).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_STEPS = 3  # timed optimizer steps (after the first) before any ETA is shown
EVAL_SHARE = 0.4  # an evaluation batch / a training step, until evaluation was timed


@dataclass
class Remaining:
    """Work left, in units the clock has a time for."""

    steps: int = 0  # optimizer steps
    eval_batches: int = 0  # validation and final-evaluation batches
    saves: int = 0  # end-of-epoch saves (best model and checkpoint)


class RunClock:
    """Accumulates measured seconds per kind of work and turns ``Remaining`` into seconds."""

    def __init__(self) -> None:
        self.step_seconds = 0.0
        self.steps = 0
        self._skipped_first = False
        self.eval_seconds = 0.0
        self.eval_batches = 0
        self.save_seconds = 0.0
        self.saves = 0

    def step(self, seconds: float) -> None:
        if not self._skipped_first:
            self._skipped_first = True
            return
        self.step_seconds += seconds
        self.steps += 1

    def evaluated(self, batches: int, seconds: float) -> None:
        self.eval_batches += batches
        self.eval_seconds += seconds

    def saved(self, seconds: float) -> None:
        self.saves += 1
        self.save_seconds += seconds

    @property
    def ready(self) -> bool:
        return self.steps >= MIN_STEPS or self.eval_batches >= MIN_STEPS

    def per_step(self) -> float | None:
        return self.step_seconds / self.steps if self.steps else None

    def per_eval_batch(self) -> float | None:
        if self.eval_batches:
            return self.eval_seconds / self.eval_batches
        step = self.per_step()
        return step * EVAL_SHARE if step is not None else None

    def eta(self, left: Remaining) -> float | None:
        """Seconds for ``left``, or None while the measurements are too few to mean anything."""
        if not self.ready:
            return None
        step, batch = self.per_step(), self.per_eval_batch()
        if (left.steps and step is None) or (left.eval_batches and batch is None):
            return None
        save = self.save_seconds / self.saves if self.saves else 0.0
        return left.steps * (step or 0.0) + left.eval_batches * (batch or 0.0) + left.saves * save


def format_seconds(seconds: float) -> str:
    """'42 s', '2 min 05 s', '3 h 01 min': how long a run took or has left, for people."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
