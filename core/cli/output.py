"""What the `loupe` commands print: JSON or human text, tables, progress lines.

Everything printed passes the output boundary (``core.output``): JSON payloads through
``mask_data`` (ids and fingerprints kept), human text built from masked fields and stripped of
terminal control characters, errors masked (``core.cli.main``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from core.eta import format_seconds


def json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def emit(args: argparse.Namespace, payload: Any, human: str) -> None:
    """Print the payload (--json, masked with machine fields kept) or the human text (built by the
    command from masked fields; control characters shown, not obeyed)."""
    from core.output import mask_data, term

    if getattr(args, "json", False):
        print(json.dumps(mask_data(json.loads(json.dumps(payload, default=str))), indent=2))
    else:
        print(term(human, mask=False))


def table(rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> str:
    """Rows of already-masked cells as an aligned plain-text table (columns left-aligned, two
    spaces apart; None shows as an empty cell)."""
    cells = [[str(c) for c in columns]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
                     for line in cells)


def progress_printer(quiet: bool, stream: Any = None, phases: bool = True) -> TrainPrinter:
    """What ``loupe train`` shows while it works (see ``TrainPrinter``)."""
    return TrainPrinter(quiet, stream, phases)


def format_eta(seconds: float | None) -> str:
    """'estimating…' until the run's ETA means something (``core.eta``), else '1 min 05 s'."""
    return "estimating…" if seconds is None else format_seconds(seconds)


class TrainPrinter:
    """Every phase of a training named with its own progress, on stderr.

    Called with a ``core.train_loop.Progress`` after each step and validation, and (``phase``)
    with each ``core.phases.Phase``. Interactive: one line refreshed in place, e.g.
    ``Decoding images ███░░ 37 of 245 images`` or ``Training · epoch 2 of 8 ███░░ 40 of 80 steps
    · loss 0.41 · 120 samples/s · ETA 1 min 05 s``; a new phase starts a new line. ``quiet``
    (the dashboard's job log, ``--json``) prints each kind of phase once when it starts and one
    line per epoch with the validation metrics, to ``stream`` (stdout unless given); so does a
    stderr that is no terminal (phase lines to stdout: stderr stays for the error, if any).
    ``phases=False`` (``--json``) names no phases: the run folder's phase.json has them.
    """

    width = 24

    def __init__(self, quiet: bool, stream: Any = None, phases: bool = True) -> None:
        self.quiet, self.stream, self.phases = quiet, stream, phases
        self.current: Any = None
        self.loss: float | None = None
        self.rate = 0.0
        self.seen: set[str] = set()
        self.last = 0.0

    def __call__(self, p: Any) -> None:
        if p.phase == "eval":
            line = f"epoch {p.epoch}: {_metric_line(p.metrics)}"
            if self.quiet:
                print(line, flush=True, file=self.stream or sys.stdout)
            else:
                print(("\n" if self.current else "") + f"  {line}", file=sys.stderr, flush=True)
                self.current = None
            return
        if p.phase == "train":
            self.loss, self.rate = p.loss, p.samples_per_s

    def phase(self, ph: Any) -> None:
        from core.output import term

        stem = ph.name.split(" · ")[0]
        if not self.phases:
            return
        if self.quiet or not sys.stderr.isatty():
            if stem not in self.seen:
                self.seen.add(stem)
                size = f" ({ph.total:,} {ph.unit})".replace(" )", ")") if ph.total else ""
                print(term(f"{ph.name}{size}…", mask=False), flush=True, file=self.stream or sys.stdout)
            return
        now = time.monotonic()
        new = self.current is None or ph.name != self.current.name
        finished = ph.total is not None and ph.done >= ph.total
        if not new and not finished and now - self.last < 0.2:
            return
        had, self.current, self.last = self.current is not None, ph, now
        parts = [ph.name]
        if ph.fraction is not None:
            filled = int(self.width * ph.fraction)
            parts.append("█" * filled + "░" * (self.width - filled) + " " + ph.counts())
        elif ph.counts():
            parts.append(ph.counts())
        if stem == "Training" and self.loss is not None:
            parts.append(f"loss {self.loss:.4f} · {self.rate:,.0f} samples/s")
        parts.append(f"ETA {format_eta(ph.remaining_eta())}")
        line = term(" · ".join(parts), mask=False)
        print(("\n" if new and had else "") + "\r" + line.ljust(100), end="", file=sys.stderr,
              flush=True)

    def close(self) -> None:
        if not self.quiet and self.current is not None:
            print(file=sys.stderr, flush=True)


def _metric_line(metrics: dict[str, float]) -> str:
    keys = [k for k in ("loss", "rmse", "mae", "r2", "accuracy", "macro_f1") if k in metrics]
    return "  ".join(f"val {k} {metrics[k]:.4g}" for k in keys)
