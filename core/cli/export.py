"""`loupe export RUN_ID --out DIR_OR_ZIP [--report report.html] [--format safetensors|onnx|onnx-int8]`.

With ``--format onnx`` or ``onnx-int8`` the folder is a deploy bundle (``core.deploy.bundle``):
the ONNX model, the compression check against the original, and what serving it needs."""

from __future__ import annotations

import argparse
from typing import Any


def add_parsers(sub: Any) -> argparse.ArgumentParser:
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
    e.add_argument("--format", default="safetensors", choices=("safetensors", "onnx", "onnx-int8"),
                   help="safetensors (default), or a deploy bundle folder with an ONNX (fp32) or int8 "
                        "ONNX model, checked against the original on the run's validation and test data "
                        "(tree models: onnx only; int8 quantization has no weight matrices to shrink in "
                        "a tree ensemble)")
    e.add_argument("--force", action="store_true", help="replace an existing --out zip or --report file")
    e.add_argument("--json", action="store_true", help="print machine-readable JSON")
    e.set_defaults(func=cmd_export)
    return e


def cmd_export(args: argparse.Namespace) -> int:
    from core.cli.output import emit
    from core.errors import LoupeError
    from core.export import check_export_target, export_run, is_zip_target, write_html_report
    from core.output import check_output, show_path
    from core.store import RunStore

    # Every output is validated before anything is built or written: a bad --report must not
    # leave a finished zip behind.
    out = check_export_target(args.out, force=args.force)
    if args.report:
        report_path = check_output(args.report, (".html", ".htm"), force=args.force,
                                   what="HTML report", flag="--report")
        if report_path.resolve() == out.resolve():
            raise LoupeError("--out and --report name the same file.", "give each its own name.")
    store = RunStore()
    run_id = store.get_run(args.run_id)["id"]
    if args.format != "safetensors":
        if is_zip_target(out):
            raise LoupeError(f"--format {args.format} writes a folder, not a zip.",
                             "give --out a folder name.")
        from core.deploy.bundle import card_section, export_deploy

        out, build = export_deploy(run_id, out, args.format, store, force=args.force)
        written = {"run_id": run_id, "model": show_path(out), "format": args.format,
                   "comparison": build.rows, "format_notes": build.notes}
        lines = [f"{args.format} bundle of run {run_id} -> {show_path(out)}",
                 card_section(build.rows, build.notes, build.opset),
                 f"serve it: loupe serve-model --bundle {show_path(out)}"]
    else:
        out = export_run(run_id, out, store, force=args.force)
        written = {"run_id": run_id, "model": show_path(out)}
        lines = [f"model of run {run_id} -> {show_path(out)}"]
    if args.report:
        report = write_html_report(run_id, report_path, store, force=args.force)
        written["report"] = show_path(report)
        lines.append(f"report -> {show_path(report)} ({report.stat().st_size / 1e6:.1f} MB, self-contained)")
    emit(args, written, "\n".join(lines))
    return 0
