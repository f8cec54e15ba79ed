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

    out = check_output(args.out, TABLE_SUFFIXES, force=args.force, what="predictions table") \
        if args.out else None
    predictor = load_predictor(args.run_id, device=args.device)
    if args.text is not None:
        inputs: Any = [args.text]
    elif args.data:
        inputs = predictor.load_inputs(Path(args.data))
    else:
        raise LoupeError("Nothing to predict.", "pass --data FILE (or --text for a text run).")
    result = predictor.predict(inputs)
    for notice in result.attrs.get("notices", []):  # e.g. values that are not numbers
        print(f"note: {term(mask_message(notice))}", file=sys.stderr)
    result = mask_table(result)
    if out is not None:
        write_table(result, out, force=args.force, what="predictions table")
        print(f"wrote {len(result):,} predictions to {show_path(out)}")
        return 0
    emit(args, result.to_dict(orient="records"), result.to_string(max_rows=50))
    return 0
