"""`loupe predict RUN_ID --data FILE | --text TEXT [--out FILE]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core.cli.output import emit, json_flag
from core.errors import LoupeError


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("predict", help="predict with a trained run")
    p.add_argument("run_id")
    p.add_argument("--data", help="a file (or image folder/zip) of inputs")
    p.add_argument("--text", help="text: one text to classify")
    p.add_argument("--out", help="write predictions here (.csv, .tsv, .jsonl or .parquet); CSV cells "
                   "that start with = + - @ are prefixed with ' (formula injection)")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.add_argument("--device", default="auto")
    json_flag(p)
    p.set_defaults(func=cmd_predict)


def cmd_predict(args: argparse.Namespace) -> int:
    from core.batch_eval import evaluate_batch
    from core.output import (
        TABLE_SUFFIXES,
        check_output,
        mask_message,
        mask_table,
        show_path,
        term,
        write_table,
    )
    from core.predict import load_predictor
    from core.privacy import mask_frame

    out = check_output(args.out, TABLE_SUFFIXES, force=args.force, what="predictions table") \
        if args.out else None
    predictor = load_predictor(args.run_id, device=args.device)
    if args.text is not None:
        result = predictor.predict([args.text])
    elif args.data:  # the user's columns kept (a label or target too), image paths relative
        result = predictor.predict_file(Path(args.data))
    else:
        raise LoupeError("Nothing to predict.", "pass --data FILE (or --text for a text run).")
    for notice in result.attrs.get("notices", []):  # e.g. values that are not numbers
        print(f"note: {term(mask_message(notice))}", file=sys.stderr)
    evaluation = evaluate_batch(result, predictor.labels) if args.data else None
    if evaluation is not None:  # a labelled file: how the model did, before the table is masked
        print(f"scored: {term(mask_message(evaluation.summary()))}", file=sys.stderr)
        for notice in evaluation.notices:
            print(f"note: {term(mask_message(notice))}", file=sys.stderr)
        for item in evaluation.slices[:3]:  # the worst slices (values masked in their column)
            print(f"worst: {term(mask_message(item.column))} = {term(item.value)} ({item.rows:,} rows): "
                  f"{item.metric:.4g} ({item.gap:+.3g} vs all rows)", file=sys.stderr)
    result = mask_table(mask_frame(result))  # the user's columns too, read in their context
    if out is not None:
        write_table(result, out, force=args.force, what="predictions table")
        print(f"wrote {len(result):,} predictions to {show_path(out)}")
        return 0
    emit(args, result.to_dict(orient="records"), result.to_string(max_rows=50))
    return 0
