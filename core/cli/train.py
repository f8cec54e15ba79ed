"""`loupe train KIND …` and `loupe resume RUN_ID`: build the run config, train, print the summary."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from core.cli.output import emit, json_flag, progress_printer
from core.errors import LoupeError
from core.settings import BY_KEY, SETTINGS, parse_int_list


def add_parsers(sub: Any) -> None:
    t = sub.add_parser("train", help="train a model (tabular, text or image)")
    t.add_argument("kind", help="the task kind, e.g. tabular (`loupe samples` lists every kind)")
    add_setting_flags(t)
    t.add_argument("--config", help="a RunConfig JSON file (flags override it)")
    t.add_argument("--run-id", help=argparse.SUPPRESS)  # a queued run created by core.jobs
    t.add_argument("--wait-turn", action="store_true", help=argparse.SUPPRESS)
    t.add_argument("--sweep-trial", help=argparse.SUPPRESS)  # SWEEP_ID:N, set by core.sweeps
    t.add_argument("--quiet", action="store_true", help="no progress bar; one line per epoch")
    json_flag(t)
    t.set_defaults(func=cmd_train)

    r = sub.add_parser("resume", help="continue an interrupted run from its last checkpoint")
    r.add_argument("run_id")
    r.add_argument("--quiet", action="store_true")
    json_flag(r)
    r.set_defaults(func=cmd_resume)


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per run setting (``core.settings.SETTINGS``); None when not given, so the kind's
    defaults (or a --config file) show through."""
    order = ("data", "model", "train", "run")
    for s in sorted(SETTINGS, key=lambda s: order.index(s.section)):
        hint = s.help.rstrip(".") + (f" ({s.expected()})." if s.expected() else ".")
        if s.type is bool:
            parser.add_argument(s.cli_flag, dest=s.dest, action=argparse.BooleanOptionalAction,
                                default=None, help=hint)
        elif s.type is tuple and s.item_type is str:  # tags: repeat the flag
            parser.add_argument(s.cli_flag, dest=s.dest, action="append", help=hint,
                                metavar=s.cli_flag[2:].upper())
        elif s.type is tuple:  # widths: one comma-separated value
            parser.add_argument(s.cli_flag, dest=s.dest, metavar="N,N", help=hint)
        else:
            parser.add_argument(s.cli_flag, dest=s.dest, type=s.type, help=hint,
                                metavar=s.cli_flag[2:].replace("-", "_").upper())


def setting_values(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as flags, as RunConfig.replace takes them: {"train": {"epochs": 3}, …}."""
    given: dict[str, Any] = {"data": {}, "model": {}, "train": {}}
    for s in SETTINGS:
        value = getattr(args, s.dest)
        if value is None:
            continue
        if s.type is tuple and s.item_type is int:
            value = parse_int_list(value, s.cli_flag)
        if s.section == "run":
            given[s.name] = value
        else:
            given[s.section][s.name] = value
    return given


def config_from_args(args: argparse.Namespace) -> Any:
    """Defaults of the kind (or a --config file), then every flag the user gave on top."""
    from core.config import RunConfig
    from core.datasets.samples import parse_sample
    from core.tasks import get_task

    task = get_task(args.kind)
    data = getattr(args, BY_KEY["data.source"].dest)
    if args.config:
        cfg = RunConfig.from_dict({"task": args.kind, **read_config_file(args.config)})
    else:
        sample = parse_sample(data)
        if sample and sample not in task.samples():
            raise LoupeError(f"Unknown {args.kind} sample '{sample}'.",
                             f"use one of {', '.join(task.samples())}.")
        cfg = task.default_config(sample)
        if data and not sample:
            cfg = cfg.replace(data={"source": data, "target": None, "text_column": None,
                                    "label_column": None})
    return cfg.replace(**setting_values(args))


def cmd_train(args: argparse.Namespace) -> int:
    from core.store import RunStore
    from core.train import train

    cfg = config_from_args(args)
    store = RunStore() if int(os.environ.get("RANK", "0")) == 0 else None
    if args.wait_turn and args.run_id and store is not None and not wait_for_turn(store, args.run_id):
        print(f"run {args.run_id} was cancelled before it started")
        return 0
    flag = {"stop": False}
    install_sigterm(flag)
    printer = progress_printer(args.quiet or args.json, sys.stderr if args.json else None,
                               phases=not args.json)
    hooks = trial_hooks(args.sweep_trial, args.run_id, store) if args.sweep_trial else None
    callbacks = [printer, hooks] if hooks else [printer]
    try:
        result = train(cfg, store, callbacks, run_id=args.run_id,
                       should_stop=lambda: flag["stop"] or bool(hooks and hooks.should_stop()),
                       on_phase=printer.phase)
    finally:
        printer.close()
    if hooks:
        from core.sweeps.records import SweepRecords
        from core.sweeps.runner import mark_pruned

        mark_pruned(SweepRecords(store), result.run_id, hooks)
    if int(os.environ.get("RANK", "0")) != 0:
        return 0
    emit(args, {"run_id": result.run_id, "status": result.status, "metrics": result.metrics},
         _train_summary(result))
    return 0


def trial_hooks(ref: str, run_id: str | None, store: Any) -> Any:
    """The Optuna reporter of a sweep trial (``--sweep-trial SWEEP_ID:N``)."""
    from core.sweeps.records import SweepRecords
    from core.sweeps.study import TrialReporter

    sweep_id, _, number = ref.partition(":")
    records = SweepRecords(store)
    row = records.get(sweep_id)
    if run_id:
        records.link_run(run_id, row["id"], int(number))
    return TrialReporter(records.folder(row["id"]), row["id"], int(number), row["metric"],
                         row["pruner"], store)


def _train_summary(result: Any) -> str:
    from core.output import mask_label, mask_message

    lines = [f"run {result.run_id}: {result.status}"]
    headline = tuple(f"{s}_{m}" for s in ("test", "val")
                     for m in ("rmse", "mae", "r2", "accuracy", "macro_f1", "roc_auc", "top"))
    for key in sorted(result.metrics):
        if key.startswith(headline):
            lines.append(f"  {mask_label(key):28s} {result.metrics[key]:.4f}")
    for notice in result.report.get("notices", []):
        lines.append(f"  note: {mask_message(notice)}")
    return "\n".join(lines)


def cmd_resume(args: argparse.Namespace) -> int:
    from core.train import resume

    printer = progress_printer(args.quiet or args.json, sys.stderr if args.json else None,
                               phases=not args.json)
    try:
        result = resume(args.run_id, callbacks=[printer], on_phase=printer.phase)
    finally:
        printer.close()
    emit(args, {"run_id": result.run_id, "status": result.status, "metrics": result.metrics},
         _train_summary(result))
    return 0


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
