"""`loupe sweep KIND …` (search hyperparameters), `loupe sweeps` (list), `loupe sweep
show|resume|cancel|delete ID`. Every command takes --json.

`loupe sweep KIND` takes the same data and setting flags as `loupe train` (the base config the
space does not vary), records the sweep and drives it in the foreground; Ctrl-C or a kill leaves it
resumable with `loupe sweep resume ID`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.cli.output import emit, json_flag, table
from core.cli.train import add_setting_flags, config_from_args

ACTIONS = ("show", "resume", "cancel", "delete")


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("sweep", help="search hyperparameters (Optuna) for a kind; or show, resume, "
                       "cancel, delete a sweep by id",
                       description="loupe sweep KIND --data … --trials N  |  loupe sweep "
                       "show|resume|cancel|delete ID")
    s.add_argument("kind", help="the task kind to search (e.g. tabular), or show/resume/cancel/delete")
    s.add_argument("sweep_id", nargs="?", help="the sweep id (with show/resume/cancel/delete)")
    s.add_argument("--trials", type=int, default=None, help="number of trials (default 20)")
    s.add_argument("--minutes", type=float, help="time budget; no new trial starts after it")
    s.add_argument("--space", help="a JSON file of the search space (default: the kind's)")
    s.add_argument("--sampler", default="tpe", choices=("tpe", "random", "grid"))
    s.add_argument("--pruner", default="median", choices=("median", "halving", "none"))
    s.add_argument("--parallel", type=int, help="trials at once (default: 1 on CPU, one per GPU)")
    s.add_argument("--metric", help="validation metric to optimise (default: the kind's, e.g. "
                   "val_loss)")
    s.add_argument("--direction", choices=("minimize", "maximize"))
    s.add_argument("--sweep-seed", type=int, default=0, help="seed of the sampler")
    s.add_argument("--sweep-name", default="", help="a readable name for the sweep")
    s.add_argument("--keep-runs", action=argparse.BooleanOptionalAction, default=None,
                   help="delete: keep the sweep's runs (unlinked) or delete them too (required)")
    s.add_argument("--inline", action="store_true",
                   help="train trials in this process instead of child processes")
    add_setting_flags(s)
    s.add_argument("--config", help="a RunConfig JSON file for the base run (flags override it)")
    s.add_argument("--quiet", action="store_true", help="fewer lines while it runs")
    json_flag(s)
    s.set_defaults(func=cmd_sweep)

    ls = sub.add_parser("sweeps", help="list sweeps")
    ls.add_argument("--limit", type=int, default=50)
    json_flag(ls)
    ls.set_defaults(func=cmd_sweeps)


def _printer(args: argparse.Namespace) -> Any:
    from core.output import term

    stream = sys.stderr if args.json else sys.stdout
    return lambda text: print(term(text), file=stream, flush=True)


def cmd_sweep(args: argparse.Namespace) -> int:
    if args.kind in ACTIONS:
        if not args.sweep_id:
            from core.errors import LoupeError

            raise LoupeError(f"`loupe sweep {args.kind}` needs a sweep id.",
                             "list them with `loupe sweeps`.")
        return {"show": _show, "resume": _resume, "cancel": _cancel,
                "delete": _delete}[args.kind](args)
    from core.sweeps import create_sweep, run_sweep
    from core.sweeps.space import read_space_file

    cfg = config_from_args(args)
    space = read_space_file(args.space) if args.space else None
    trials = args.trials if args.trials is not None or args.minutes else 20
    sweep_id = create_sweep(cfg, space, trials, args.minutes, args.sampler, args.pruner,
                            args.parallel, args.metric, args.direction, args.sweep_seed,
                            args.sweep_name)
    say = _printer(args)
    say(f"sweep {sweep_id} started (resume after a stop: loupe sweep resume {sweep_id})")
    row = run_sweep(sweep_id, executor="inline" if args.inline else "process", on_event=say)
    return _report(args, row["id"])


def _resume(args: argparse.Namespace) -> int:
    from core.sweeps import resume_sweep

    row = resume_sweep(args.sweep_id, on_event=_printer(args),
                       executor="inline" if args.inline else "process")
    return _report(args, row["id"])


def _cancel(args: argparse.Namespace) -> int:
    from core.sweeps import cancel_sweep

    sweep_id = cancel_sweep(args.sweep_id)
    emit(args, {"sweep_id": sweep_id, "cancel_requested": True},
         f"sweep {sweep_id}: cancel requested (its running trial stops too)")
    return 0


def _delete(args: argparse.Namespace) -> int:
    from core.errors import LoupeError
    from core.sweeps import delete_sweep

    if args.keep_runs is None:
        raise LoupeError("Deleting a sweep needs a choice about its trial runs.",
                         "add --keep-runs (keep them as ordinary runs) or --no-keep-runs (delete "
                         "them too).")
    deleted = delete_sweep(args.sweep_id, keep_runs=args.keep_runs)
    emit(args, {"sweep_id": args.sweep_id, "runs_deleted": deleted},
         f"sweep deleted; {len(deleted)} run(s) deleted" if not args.keep_runs
         else "sweep deleted; its runs were kept")
    return 0


def _show(args: argparse.Namespace) -> int:
    return _report(args, args.sweep_id)


def _report(args: argparse.Namespace, sweep_id: str) -> int:
    import pandas as pd

    from core.output import mask_label, mask_message
    from core.sweeps.space import describe_space
    from core.sweeps.summary import summary

    found = summary(sweep_id)
    sweep, trials = found["sweep"], found["trials"]
    payload = {**sweep, "trials": trials.to_dict(orient="records"),
               "importances": found["importances"], "counts": found["counts"]}
    lines = [f"sweep {sweep['id']} ({mask_message(sweep['name'] or '')}): {sweep['status']}",
             f"  {sweep['task']} · {sweep['sampler']} sampler · {sweep['pruner']} pruner · objective "
             f"{sweep['metric']} ({sweep['direction']})",
             f"  trials done {sweep['trials_done']}/{sweep['n_trials'] or '-'}"
             + (f" · {sweep['minutes']:g} min budget" if sweep["minutes"] else "")
             + f" · {sweep['elapsed_s']:.0f} s"]
    if sweep["error"]:
        lines.append(f"  error: {mask_message(sweep['error'])}")
    lines += ["  space:"] + [f"    {mask_message(x)}" for x in describe_space(sweep["space"])]
    if sweep["best_run_id"]:
        lines.append(f"  best: trial {sweep['best_trial']}, {sweep['metric']} "
                     f"{sweep['best_value']:.4g}, run {sweep['best_run_id']}")
    if not trials.empty:
        shown = trials.copy()
        for col in shown.columns:
            if col != "trial" and pd.api.types.is_float_dtype(shown[col]):
                shown[col] = shown[col].map(lambda v: "" if v != v else f"{v:.4g}")
        cols = [mask_label(str(c)) for c in shown.columns]
        lines.append(table(shown.astype(str).values.tolist(), cols))
    if found["importances"]:
        lines.append("  importance: " + ", ".join(f"{k} {v:.2f}" for k, v in
                                                   found["importances"].items()))
    emit(args, payload, "\n".join(lines))
    return 0 if sweep["status"] != "failed" else 1


def cmd_sweeps(args: argparse.Namespace) -> int:
    from core.output import mask_message
    from core.sweeps.records import SweepRecords

    records = SweepRecords()
    records.recover()
    frame = records.list(limit=args.limit)
    rows = []
    for r in frame.itertuples():
        best = "" if r.best_value != r.best_value or r.best_value is None else f"{r.best_value:.4g}"
        rows.append([r.id, r.task, mask_message(r.name or ""), r.status,
                     f"{r.trials_done}/{'' if r.n_trials != r.n_trials else int(r.n_trials)}",
                     r.metric, best, r.best_run_id or ""])
    human = (table(rows, ["id", "kind", "name", "status", "trials", "metric", "best", "best run"])
             if rows else "no sweeps yet (start one with `loupe sweep KIND --data …`)")
    emit(args, frame.to_dict(orient="records"), human)
    return 0
