"""`loupe check RUN_ID`: the examples of a run's data that look wrong (``core.datacheck``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.cli.output import emit, json_flag


def add_parsers(sub: Any) -> None:
    c = sub.add_parser("check", help="find mislabeled, duplicated and outlying examples in a run's data")
    c.add_argument("run_id")
    c.add_argument("--folds", type=int, default=5, help="cross-validation folds for the out-of-fold "
                   "model (default 5)")
    c.add_argument("--near", type=float, default=0.98, help="cosine similarity from which two "
                   "examples count as near duplicates (default 0.98)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--top", type=int, default=20, help="flags shown (default 20; --out writes all)")
    c.add_argument("--out", help="write every flag to this CSV, TSV or Parquet file")
    c.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    c.add_argument("--finetune", action="store_true", help="label issues from the run's own model "
                   "fine-tuned once per fold (K trainings: slow) instead of a logistic regression "
                   "on frozen embeddings (seconds)")
    c.add_argument("--refresh", action="store_true", help="recompute instead of reading the cache")
    json_flag(c)
    c.set_defaults(func=cmd_check)

    s = sub.add_parser("slices", help="where a run's model does worst on its own split (error slices)")
    s.add_argument("run_id")
    s.add_argument("--split", default="test", choices=["test", "val", "train"],
                   help="the split to score (default test)")
    s.add_argument("--refresh", action="store_true", help="recompute instead of reading the cache")
    json_flag(s)
    s.set_defaults(func=cmd_slices)


def cmd_check(args: argparse.Namespace) -> int:
    from core.datacheck import check_run
    from core.datacheck.result import INTERNAL
    from core.output import TABLE_SUFFIXES, check_output, show_path, term, write_table
    from core.phases import reporting

    out = check_output(args.out, TABLE_SUFFIXES, force=args.force, what="flags table") if args.out else None

    def show(ph: Any) -> None:
        if not args.json and ph.done in (0, None):
            print(term(f"{ph.name}…", mask=False), file=sys.stderr, flush=True)

    with reporting(show):
        check = check_run(args.run_id, folds=args.folds, seed=args.seed, near_threshold=args.near,
                          refresh=args.refresh, finetune=args.finetune)
    if out is not None:
        write_table(check.table(), out, force=args.force, what="flags table")
    shown = check.flags.head(max(0, args.top))
    lines = [*check.summary(), *[f"note: {n}" for n in check.notices]]
    if len(shown):
        table = shown[["issue", "score", "split", "row", "reason", "preview"]].copy()
        table["score"] = table["score"].map(lambda v: f"{v:.2f}")
        table["preview"] = table["preview"].astype(str).str.slice(0, 60)
        lines += ["", table.to_string(index=False)]
    if out is not None:
        lines.append(f"wrote {len(check.flags):,} flags to {show_path(out)}")
    payload = check.to_dict()
    flags = [{k: v for k, v in f.items() if k not in INTERNAL} for f in payload["flags"]]
    payload["flags"] = flags[: max(0, args.top)] if out is None else flags
    emit(args, payload, "\n".join(lines))
    return 0


def cmd_slices(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from core.output import mask_message
    from core.split_slices import SPLIT_NAMES, slices_table, split_evaluation

    evaluation = split_evaluation(args.run_id, args.split, refresh=args.refresh)
    lines = [mask_message(f"{SPLIT_NAMES[args.split].capitalize()} split: {evaluation.summary()}"),
             *[f"note: {mask_message(n)}" for n in evaluation.notices]]
    if evaluation.slices:
        lines += ["", "Slices that do worse than the whole split, worst first:",
                  slices_table(evaluation).to_string(index=False)]
    else:
        lines.append("No slice of at least 5 examples does worse than the whole split.")
    payload = {k: v for k, v in asdict(evaluation).items() if k not in ("true", "pred")}
    emit(args, {"run_id": args.run_id, "split": args.split, **payload}, "\n".join(lines))
    return 0
