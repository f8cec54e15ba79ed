"""Looking at data before training: `loupe samples` and `loupe inspect FILE`."""

from __future__ import annotations

import argparse
from typing import Any

from core.cli.output import emit, json_flag
from core.errors import LoupeError
from core.settings import BY_KEY


def add_parsers(sub: Any) -> None:
    sm = sub.add_parser("samples", help="list the built-in sample datasets")
    json_flag(sm)
    sm.set_defaults(func=cmd_samples)

    i = sub.add_parser("inspect", help="find personal data, profile a table, measure k-anonymity")
    i.add_argument("file", help="CSV, TSV, Parquet or JSONL file")
    i.add_argument("--k", type=int, default=5, help="k for k-anonymity and small-count suppression")
    i.add_argument("--quasi", action="append", help="quasi-identifier column (repeatable; default: detected)")
    i.add_argument("--role", action="append", metavar="COLUMN=ROLE",
                   help="correct a guessed role for this data (none, quasi-identifier or direct "
                        "identifier), e.g. --role housing_median_age=none; saved by the data's "
                        "fingerprint like the Data page's choice, and audited (repeatable)")
    i.add_argument("--clear-role", action="append", metavar="COLUMN",
                   help="forget a saved role so the guess applies again (repeatable)")
    i.add_argument("--sample-rows", type=int, default=2000, help="rows scanned per column (0 = all)")
    i.add_argument("--encoding", help=BY_KEY["data.encoding"].help + " E.g. latin-1, cp1252, utf-16.")
    json_flag(i)
    i.set_defaults(func=cmd_inspect)


def cmd_samples(args: argparse.Namespace) -> int:
    from core.tasks import sample_listing

    listing = sample_listing()  # no kind module is imported: no torch, an answer at once
    human = "\n".join(f"{kind}:\n" + "\n".join(f"  sample:{n:14s} {d}" for n, d in samples.items())
                      for kind, samples in listing.items())
    emit(args, listing, human)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from core.privacy import fingerprint_frame, format_inspection, inspect_frame, load_table
    from core.privacy.report import check_role
    from core.store import RunStore
    from core.store.privacy_log import clear_override, load_overrides, save_override

    frame = load_table(args.file, args.encoding)
    store, fingerprint = RunStore(), fingerprint_frame(frame)
    for column in args.clear_role or []:
        clear_override(store, fingerprint, _column(frame, column))
    for pair in args.role or []:
        column, sep, role = pair.partition("=")
        if not sep:
            raise LoupeError(f"--role {pair!r} is not COLUMN=ROLE.",
                             "write e.g. --role housing_median_age=none.")
        save_override(store, fingerprint, _column(frame, column.strip()), check_role(role.strip(), column))
    result = inspect_frame(frame, args.file, k=args.k, quasi_identifiers=args.quasi,
                           sample_rows=args.sample_rows or None,
                           overrides=load_overrides(store, fingerprint))
    emit(args, result.to_dict(), format_inspection(result))
    return 0


def _column(frame: object, name: str) -> str:
    from core.errors import suggest

    columns = [str(c) for c in frame.columns]
    if name not in columns:
        raise LoupeError(f"The table has no column {name!r}.", suggest(name, columns))
    return name
