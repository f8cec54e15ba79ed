"""`loupe doctor [--repair] [--remove-orphans]`: check the run history and fix what is wrong."""

from __future__ import annotations

import argparse
from typing import Any

from core.cli.output import emit


def add_parsers(sub: Any) -> argparse.ArgumentParser:
    d = sub.add_parser(
        "doctor",
        help="check the run history; repair a damaged one; remove leftovers of deleted runs",
        description="Reads every row of the run history. --repair moves a damaged file aside "
                    "(kept as loupe.duckdb.corrupt-<time>) and rebuilds the history from every "
                    "readable row. --remove-orphans deletes run folders and metric/artifact rows "
                    "whose run no longer exists. Stop other Loupe processes before repairing.",
    )
    d.add_argument("--repair", action="store_true", help="rebuild a damaged history (keeps the old file)")
    d.add_argument("--remove-orphans", action="store_true",
                   help="delete runs/<id> folders and rows that belong to no run")
    d.add_argument("--json", action="store_true", help="print machine-readable JSON")
    d.set_defaults(func=cmd_doctor)
    return d


def cmd_doctor(args: argparse.Namespace) -> int:
    from core.paths import loupe_home
    from core.store.doctor import check, remove_orphans, repair

    path = loupe_home() / "loupe.duckdb"
    found = check(path)
    lines, payload = [], {"path": str(path), "problem": found.problem}
    if found.problem and args.repair:
        fixed = repair(path)
        payload["repair"] = {"kept_as": str(fixed.kept_as), "copied": fixed.copied,
                             "lost": fixed.lost}
        lines.append(f"repaired {path}: the damaged file is kept as {fixed.kept_as.name}")
        lines += [f"  {table:16s} {n:,} rows copied" for table, n in fixed.copied.items()]
        lines += [f"  {table:16s} lost: {why}" for table, why in fixed.lost.items()]
        found = check(path)
        lines.append("  run folders are kept; runs whose rows were lost show below as orphans "
                     "(`loupe doctor --remove-orphans` deletes them).")
    elif found.problem:
        lines.append(f"problem: {found.problem}")
    else:
        lines.append(f"run history {path}: every table reads back")
    payload.update(orphan_dirs=found.orphan_dirs, orphan_rows=found.orphan_rows)
    if found.orphan_dirs or any(found.orphan_rows.values()):
        if args.remove_orphans and found.problem is None:
            folders, rows = remove_orphans(path)
            payload["removed"] = {"dirs": folders, "rows": rows}
            lines.append(f"removed {len(folders)} orphan run folder(s) and "
                         f"{sum(rows.values()):,} orphan row(s)")
            found.orphan_dirs, found.orphan_rows = [], {}
        else:
            rows = ", ".join(f"{n:,} {t}" for t, n in found.orphan_rows.items() if n)
            lines.append(f"orphans (left by deleted runs): {len(found.orphan_dirs)} run folder(s)"
                         f"{'; rows: ' + rows if rows else ''}. Remove them with "
                         "`loupe doctor --remove-orphans`.")
    emit(args, payload, "\n".join(lines))
    return 0 if found.healthy else 1
