"""`loupe export RUN_ID --out DIR_OR_ZIP [--report report.html]`.

Wired into the CLI by ``core.cli_args.add_all`` (``add_export_parser(sub)``) and
``core.cli_commands`` (``command("export")(cmd_export)``).
"""

from __future__ import annotations

import argparse
from typing import Any


def add_export_parser(sub: Any) -> argparse.ArgumentParser:
    e = sub.add_parser(
        "export",
        help="export a run: model folder or zip with a model card, and an HTML report",
        description="Write the run's model (safetensors + JSON, never pickles) with MODEL_CARD.md and "
                    "README.md to a folder or a .zip, and optionally a self-contained HTML report. "
                    "Personal data is masked in both.",
    )
    e.add_argument("run_id", help="the run to export (an id prefix is enough)")
    e.add_argument("--out", required=True, help="a new folder, or a file name ending in .zip")
    e.add_argument("--report", help="also write a self-contained HTML report to this file")
    e.add_argument("--json", action="store_true", help="print machine-readable JSON")
    return e


def cmd_export(args: argparse.Namespace) -> int:
    from core.cli import emit
    from core.export import export_run
    from core.report_html import write_html_report
    from core.store import RunStore

    store = RunStore()
    run_id = store.get_run(args.run_id)["id"]
    out = export_run(run_id, args.out, store)
    written = {"run_id": run_id, "model": str(out)}
    lines = [f"model of run {run_id} -> {out}"]
    if args.report:
        report = write_html_report(run_id, args.report, store)
        written["report"] = str(report)
        lines.append(f"report -> {report} ({report.stat().st_size / 1e6:.1f} MB, self-contained)")
    emit(args, written, "\n".join(lines))
    return 0
