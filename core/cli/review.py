"""`loupe review RUN_ID`: save a review of a run's data check as a reviewed version of its data
(and train on it); `loupe compare BEFORE AFTER`: two runs on the same held-out examples."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from core.cli.output import emit, json_flag


def add_parsers(sub: Any) -> None:
    r = sub.add_parser("review", help="save a review of `loupe check` flags as a reviewed version of "
                                      "the data (your file untouched), optionally train on it")
    how = r.add_mutually_exclusive_group(required=True)
    how.add_argument("--decisions", metavar="FILE", help="the flags file of `loupe check --out` "
                     "with a 'decision' column (keep, exclude, relabel) and 'new_label' filled in")
    how.add_argument("--all", choices=("keep", "exclude", "relabel"), dest="bulk",
                     help="the same decision for every flagged example (relabel: label issues, "
                          "to the suggested class)")
    r.add_argument("run_id")
    r.add_argument("--issue", action="append", default=[], help="with --all: only flags of this "
                   "issue, e.g. 'label issue' (repeatable)")
    r.add_argument("--folds", type=int, default=5, help="the check's settings (as given to "
                   "`loupe check`): folds (default 5)")
    r.add_argument("--near", type=float, default=0.98, help="near-duplicate similarity (default 0.98)")
    r.add_argument("--finetune", action="store_true", help="the fine-tuned check's flags")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--name", help="name of the retrained run (default '<run name> · reviewed')")
    r.add_argument("--train", action="store_true", help="train the same config on the reviewed "
                   "version now, then compare it with the run")
    json_flag(r)
    r.set_defaults(func=cmd_review)

    c = sub.add_parser("compare", help="compare two runs of the same data (e.g. before and after a "
                                       "review) on the same held-out examples")
    c.add_argument("before")
    c.add_argument("after")
    c.add_argument("--split", choices=("test", "val"), default="test")
    c.add_argument("--out", help="write the changed predictions to this CSV, TSV or Parquet file")
    c.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    json_flag(c)
    c.set_defaults(func=cmd_compare)


def cmd_review(args: argparse.Namespace) -> int:
    from core.datacheck import cached_check
    from core.datacheck.review import bulk_decisions, read_decisions
    from core.datacheck.versions import save_version
    from core.errors import LoupeError
    from core.output import atomic_write, shell_path, show_path
    from core.store import RunStore

    if args.issue and not args.bulk:
        raise LoupeError("--issue goes with --all.", "in a decisions file, fill only the rows you decided.")
    store = RunStore()
    run = store.get_run(args.run_id)
    check = cached_check(run["id"], store, folds=args.folds, seed=args.seed, near_threshold=args.near,
                         finetune=args.finetune)
    if check is None:
        raise LoupeError(f"Run {run['id']} has no data check with these settings.",
                         f"run `loupe check {run['id']}` first, with the same --folds, --near and "
                         "--finetune.")
    decisions = (bulk_decisions(check, args.bulk, args.issue) if args.bulk
                 else read_decisions(check, args.decisions))
    if not decisions:
        raise LoupeError("No flagged example matches.", "check the --issue names and the check's flags.")
    version = save_version(run["id"], decisions, store, name=args.name)
    config_path = version.path.with_name("config.json")
    atomic_write(config_path, json.dumps(version.config.to_dict(), indent=1))
    lines = [f"Reviewed version saved: {version.edits.summary()} (fingerprint {version.fingerprint[:12]}); "
             f"your data is unchanged.", f"edits: {show_path(version.path)}"]
    payload: dict[str, Any] = {"run_id": run["id"], "fingerprint": version.fingerprint,
                               "edits": str(version.path), "config": str(config_path),
                               "excluded": len(version.edits.exclude),
                               "relabelled": len(version.edits.relabel)}
    if not args.train:
        lines.append(f"train on it: loupe train {run['task']} --config {shell_path(config_path)}")
        emit(args, payload, "\n".join(lines))
        return 0
    result = _train(version.config, store, quiet=args.json)
    payload.update(retrained=result.run_id, status=result.status)
    lines.append(f"trained run {result.run_id}: {result.status}")
    if result.status == "completed":
        diff = _compare(run["id"], result.run_id, store, "test")
        payload["comparison"] = _comparison_payload(diff)
        lines += ["", *_comparison_lines(diff)]
    emit(args, payload, "\n".join(lines))
    return 0 if result.status == "completed" else 1


def _train(cfg: Any, store: Any, quiet: bool) -> Any:
    from core.cli.output import progress_printer
    from core.train import train

    printer = progress_printer(quiet, sys.stderr, phases=not quiet)
    try:
        return train(cfg, store, [printer], on_phase=printer.phase)
    finally:
        printer.close()


def _compare(before: str, after: str, store: Any, split: str) -> Any:
    from core.datacheck.compare import compare_versions
    from core.phases import reporting

    def show(ph: Any) -> None:
        print(f"{ph.name}…", file=sys.stderr, flush=True)

    with reporting(show):
        return compare_versions(before, after, store, split=split)


def _comparison_lines(diff: Any) -> list[str]:
    metrics = diff.metrics.copy()
    for column in ("before", "after"):
        metrics[column] = metrics[column].map("{:.4f}".format)
    metrics["change"] = metrics["change"].map("{:+.4f}".format)
    lines = [diff.summary(), *[f"note: {n}" for n in diff.notes], "", metrics.to_string(index=False)]
    if len(diff.changed):
        changed = diff.changed.copy()
        lines += ["", changed.head(20).to_string(index=False)]
        if len(changed) > 20:
            lines.append(f"… {len(changed) - 20:,} more (--out writes all)")
    return lines


def _comparison_payload(diff: Any) -> dict[str, Any]:
    return {"split": diff.split, "common": diff.common, "left_out": diff.left_out, "notes": diff.notes,
            "metrics": diff.metrics.to_dict("records"), "changed": diff.changed.to_dict("records")}


def cmd_compare(args: argparse.Namespace) -> int:
    from core.output import TABLE_SUFFIXES, check_output, show_path, write_table
    from core.store import RunStore

    out = check_output(args.out, TABLE_SUFFIXES, force=args.force, what="comparison") if args.out else None
    diff = _compare(args.before, args.after, RunStore(), args.split)
    lines = _comparison_lines(diff)
    if out is not None:
        write_table(diff.changed, out, force=args.force, what="comparison")
        lines.append(f"wrote {len(diff.changed):,} changed predictions to {show_path(out)}")
    emit(args, _comparison_payload(diff), "\n".join(lines))
    return 0
