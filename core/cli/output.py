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
from collections.abc import Callable, Sequence
from typing import Any


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
    """Rows of already-masked cells as an aligned plain-text table (no index column)."""
    import pandas as pd

    return pd.DataFrame(list(rows), columns=list(columns)).to_string(index=False)


def progress_printer(quiet: bool, stream: Any = None) -> Callable[[Any], None]:
    """A one-line progress bar on stderr (train loss, samples/s, ETA) refreshed in place.

    ``quiet`` prints one line per epoch instead, to ``stream`` (stdout unless given: ``--json``
    passes stderr so that stdout holds nothing but the JSON document).
    """
    state = {"last": 0.0}

    def show(p: Any) -> None:
        if quiet:
            if p.phase == "eval":
                print(f"epoch {p.epoch}: " + _metric_line(p.metrics), flush=True,
                      file=stream or sys.stdout)
            return
        now = time.monotonic()
        if p.phase == "train" and now - state["last"] < 0.2 and p.step != p.total_steps:
            return
        state["last"] = now
        width = 28
        filled = int(width * p.step / max(1, p.total_steps))
        bar = "█" * filled + "░" * (width - filled)
        eta = f"{p.eta_s:5.0f}s" if p.eta_s is not None else "   ?s"
        loss = f"{p.loss:.4f}" if p.loss is not None else "-"
        line = (f"\r{bar} {p.step}/{p.total_steps} epoch {p.epoch + 1}/{p.epochs} "
                f"loss {loss} {p.samples_per_s:7.0f} samples/s ETA {eta}")
        if p.phase == "eval":
            line = f"\r  epoch {p.epoch}: {_metric_line(p.metrics)}".ljust(100) + "\n"
        print(line, end="", file=sys.stderr, flush=True)
        if p.phase == "done":
            print(file=sys.stderr)

    return show


def _metric_line(metrics: dict[str, float]) -> str:
    keys = [k for k in ("loss", "rmse", "mae", "r2", "accuracy", "macro_f1") if k in metrics]
    return "  ".join(f"val {k} {metrics[k]:.4g}" for k in keys)
