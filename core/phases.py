"""What a run is doing right now: one named phase with its own progress (N of M) and an ETA.

The training process reports phases (reading data, decoding images N of M, building the model,
training, validating, final evaluation of each split, saving); the Train page and the CLI show
them. A phase is one small record:

- ``name``: what a person reads ("Decoding images"), ``unit`` what is counted ("images");
- ``done`` / ``total``: progress inside the phase (``total`` None when unknown);
- ``started``: when the phase began (seconds since the epoch), ``updated``: when last written;
- ``eta_s``: the whole run's remaining time, only once it is meaningful (see
  ``core.train_loop``); None means "estimating…".

Code deep inside data loading reports without new parameters: ``reporting(sink)`` installs a
receiver for this thread (a ``ContextVar``) and ``phase(...)`` sends to it; with no receiver the
calls cost next to nothing. ``PhaseFile`` is the receiver the training process installs: it writes
``phase.json`` in the run folder (atomically, at most a few times a second) so that any other
process can read it with ``read_phase`` — no database write per update, no schema change.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

PHASE_FILE = "phase.json"

Sink = Callable[["Phase"], None]
_sinks: ContextVar[tuple[Sink, ...]] = ContextVar("loupe_phase_sinks", default=())


@dataclass(frozen=True)
class Phase:
    name: str
    done: int = 0
    total: int | None = None
    unit: str = ""
    started: float = 0.0
    updated: float = 0.0
    eta_s: float | None = None

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, max(0.0, self.done / self.total))

    def counts(self) -> str:
        """'37 of 245 images', '37 images' (total unknown) or '' (nothing counted)."""
        if self.total:
            return f"{self.done:,} of {self.total:,} {self.unit}".rstrip()
        return f"{self.done:,} {self.unit}".rstrip() if self.done else ""

    def label(self) -> str:
        """The line a person reads: 'Decoding images · 37 of 245 images'."""
        counts = self.counts()
        return f"{self.name} · {counts}" if counts else self.name

    def remaining_eta(self, now: float | None = None) -> float | None:
        """The ETA as of ``now``: the written one less the time since it was written."""
        if self.eta_s is None:
            return None
        elapsed = max(0.0, (now if now is not None else time.time()) - (self.updated or self.started))
        return max(0.0, self.eta_s - elapsed)


class Tracker:
    """One phase in progress: ``advance``/``update`` send the new count to the sinks."""

    def __init__(self, name: str, total: int | None, unit: str, eta_s: float | None = None) -> None:
        now = time.time()
        self.phase = Phase(name, 0, total, unit, now, now, eta_s)
        _send(self.phase)

    def update(self, done: int, total: int | None = None, eta_s: float | None = None) -> None:
        self.phase = replace(self.phase, done=int(done), total=self.phase.total if total is None
                             else int(total), updated=time.time(), eta_s=eta_s)
        _send(self.phase)

    def advance(self, n: int = 1) -> None:
        self.update(self.phase.done + n, eta_s=self.phase.eta_s)


def phase(name: str, total: int | None = None, unit: str = "", eta_s: float | None = None) -> Tracker:
    """Start a phase now (it replaces the previous one) and return its tracker."""
    return Tracker(name, total, unit, eta_s)


def active() -> bool:
    """Whether anything listens (so a caller may skip work that only feeds progress)."""
    return bool(_sinks.get())


@contextlib.contextmanager
def reporting(*sinks: Sink) -> Iterator[None]:
    """Send the phases started inside the block to ``sinks`` too (this thread and its context)."""
    token = _sinks.set(_sinks.get() + sinks)
    try:
        yield
    finally:
        _sinks.reset(token)


@contextlib.contextmanager
def prefixed(prefix: str) -> Iterator[None]:
    """Phases started inside the block reach the current receivers named '<prefix> · <name>'
    (e.g. each fold's training inside the fine-tuned data check: "Fold 2 of 5 · Training …")."""
    outer = _sinks.get()

    def relay(current: Phase) -> None:
        renamed = replace(current, name=f"{prefix} · {current.name}")
        for sink in outer:
            sink(renamed)

    token = _sinks.set((relay,) if outer else ())
    try:
        yield
    finally:
        _sinks.reset(token)


def _send(current: Phase) -> None:
    for sink in _sinks.get():
        sink(current)


class PhaseFile:
    """A sink writing the current phase to ``<run_dir>/phase.json`` for other processes.

    A new phase is written at once; updates inside a phase at most every ``every`` seconds (the
    last one of a phase may be skipped: the next phase replaces it anyway). A folder that is gone
    (the run was deleted) is never re-created. Write failures are ignored: progress display must
    never break a training."""

    def __init__(self, run_dir: Path, every: float = 0.5) -> None:
        self.path = Path(run_dir) / PHASE_FILE
        self.every = every
        self._last: tuple[str, float] = ("", 0.0)

    def __call__(self, current: Phase) -> None:
        now = time.monotonic()
        name, last = self._last
        done = current.total is not None and current.done >= current.total
        if name == current.name and now - last < self.every and not done:
            return
        self._last = (current.name, now)
        if not self.path.parent.is_dir():
            return
        tmp = self.path.with_name(f".{PHASE_FILE}.{os.getpid()}.tmp")
        with contextlib.suppress(OSError):
            tmp.write_text(json.dumps(asdict(current)))
            os.replace(tmp, self.path)


def read_phase(run_dir: Path) -> Phase | None:
    """The phase last written for a run, or None (not started, or an unreadable file)."""
    path = Path(run_dir) / PHASE_FILE
    try:
        raw: Any = json.loads(path.read_text())
        fields = {k: raw[k] for k in Phase.__dataclass_fields__ if k in raw}
        return Phase(**fields)
    except (OSError, ValueError, TypeError, KeyError):
        return None
