"""`loupe` command line: train, resume, sweep, sweeps, predict, runs, show, cancel, delete, tag,
samples, inspect, check, slices, review, compare, serve, serve-model, export, explain, whatif,
doctor.

The parser is built here, in one place: each command group module (``core.cli.train``,
``sweep``, ``predict``, ``runs``, ``inspect``, ``check``, ``review``, ``serve``, ``export``, ``explain``,
``whatif``, ``doctor``) adds its subcommands in ``add_parsers(sub)`` and binds each to its handler with
``set_defaults(func=...)``; ``main`` calls ``args.func(args)``. Group modules import only light
modules at the top and the heavy ones (torch, pandas, the store) inside their handlers, so
``loupe --help`` stays fast.

Output is for people by default; ``--json`` prints machine-readable JSON (``core.cli.output``).
A LoupeError prints its message and exits with status 2; nothing else is left half-done.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from core.errors import LoupeError


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand of ``loupe``, in the order ``loupe --help`` lists them."""
    from core.cli import (
        check,
        deploy,
        doctor,
        explain,
        export,
        inspect,
        predict,
        review,
        runs,
        serve,
        sweep,
        train,
        whatif,
    )

    parser = argparse.ArgumentParser(prog="loupe", description="Train, compare, predict and explain.")
    sub = parser.add_subparsers(dest="command", required=True)
    groups = (train, sweep, predict, runs, inspect, check, review, serve, deploy, export, explain, whatif,
              doctor)
    for group in groups:
        group.add_parsers(sub)  # each binds its subcommands with set_defaults(func=...)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
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
