"""`loupe` command line: train, predict, runs, show, resume, cancel, inspect, explain, export, serve.

Output is for people by default; ``--json`` prints machine-readable JSON. A LoupeError prints its
message and exits with status 2; nothing else is left half-done. Everything printed passes the
output boundary (``core.output``): JSON payloads through ``mask_data`` (ids and fingerprints kept),
human text built from masked fields and stripped of terminal control characters, errors masked.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.errors import LoupeError

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}  # filled by core.cli_commands


Handler = Callable[[argparse.Namespace], int]


def command(name: str) -> Callable[[Handler], Handler]:
    def wrap(fn: Handler) -> Handler:
        COMMANDS[name] = fn
        return fn

    return wrap


def build_parser() -> argparse.ArgumentParser:
    from core.cli_args import add_all

    parser = argparse.ArgumentParser(prog="loupe", description="Train, compare, predict and explain.")
    sub = parser.add_subparsers(dest="command", required=True)
    add_all(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import core.cli_commands  # noqa: F401  (registers the commands)

    args = build_parser().parse_args(argv)
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe shows up here, inside the handler below
        return code
    except LoupeError as exc:
        from core.output import term

        print(f"error: {term(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `loupe show … | head`: the reader left; stop quietly
        _silence_stdout()
        return 141  # 128 + SIGPIPE, as a shell tool killed by the closed pipe reports


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (captured output)
        pass


# --- shared helpers used by the commands ----------------------------------------------------
def emit(args: argparse.Namespace, payload: Any, human: str) -> None:
    """Print the payload (--json, masked with machine fields kept) or the human text (built by the
    command from masked fields; control characters shown, not obeyed)."""
    from core.output import mask_data, term

    if getattr(args, "json", False):
        print(json.dumps(mask_data(json.loads(json.dumps(payload, default=str))), indent=2))
    else:
        print(term(human, mask=False))


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


def install_sigterm(flag: dict[str, bool]) -> None:
    """SIGTERM (from `loupe cancel` or the dashboard) asks the loop to stop at the next step."""

    def handler(signum: int, frame: Any) -> None:
        flag["stop"] = True

    signal.signal(signal.SIGTERM, handler)


def wait_for_turn(store: Any, run_id: str, poll: float = 1.0) -> bool:
    """Block until this queued run may start (FIFO, LOUPE_MAX_PARALLEL at a time).

    Returns False when the run was cancelled while waiting.
    """
    limit = int(os.environ.get("LOUPE_MAX_PARALLEL", "1"))
    while True:
        store.recover_interrupted()
        runs = store.list_runs(order_by="created_at", descending=False)
        me = runs[runs["id"] == run_id]
        if me.empty or me["status"].iloc[0] != "queued":
            return False
        running = int((runs["status"] == "running").sum())
        queued = runs[runs["status"] == "queued"]["id"].tolist()
        if running < limit and queued and queued[0] == run_id:
            return True
        time.sleep(poll)


def read_config_file(path: str) -> dict[str, Any]:
    file = Path(path)
    if not file.exists():
        raise LoupeError(f"Config file not found: {file}.", "check the path.")
    try:
        raw = json.loads(file.read_text())
    except json.JSONDecodeError as exc:
        raise LoupeError(f"{file.name} is not valid JSON (line {exc.lineno}: {exc.msg}).",
                         "fix the JSON syntax.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise LoupeError(f"Cannot read the config file {file} ({exc}).",
                         "pass a UTF-8 JSON file you can read.") from exc
    if not isinstance(raw, dict):
        raise LoupeError(f"{file.name} holds a JSON {type(raw).__name__}, not an object of settings.",
                         'write an object, e.g. {"data": {"source": "data.csv", "target": "price"}}.')
    return raw


if __name__ == "__main__":
    # `python -m core.cli` runs this file as __main__; dispatch through the importable module so
    # the commands registered by core.cli_commands are the ones looked up.
    from core.cli import main as _main

    sys.exit(_main())
