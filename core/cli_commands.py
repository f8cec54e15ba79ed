"""What each `loupe` subcommand does. Thin: parse → core call → print."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd

import core.cli_doctor  # noqa: F401  (registers `doctor`)
import core.cli_explain  # noqa: F401  (registers `explain`)
from core.cli import command, emit, install_sigterm, progress_printer, read_config_file, wait_for_turn
from core.cli_export import cmd_export
from core.config import RunConfig
from core.errors import LoupeError
from core.output import (
    TABLE_SUFFIXES,
    check_output,
    mask_label,
    mask_message,
    mask_table,
    show_path,
    term,
    write_table,
)

command("export")(cmd_export)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Defaults of the kind (or a --config file), then every flag the user gave on top."""
    from core.tasks import get_task

    task = get_task(args.kind)
    if args.config:
        cfg = RunConfig.from_dict({"task": args.kind, **read_config_file(args.config)})
    else:
        sample = args.data.split(":", 1)[1] if args.data and args.data.startswith("sample:") else None
        if sample and sample not in task.samples():
            raise LoupeError(f"Unknown {args.kind} sample '{sample}'.",
                             f"use one of {', '.join(task.samples())}.")
        cfg = task.default_config(sample)
        if args.data and not sample:
            cfg = cfg.replace(data={"source": args.data, "target": None, "text_column": None,
                                    "label_column": None})
    data = {k: v for k, v in {
        "source": args.data, "target": args.target, "text_column": args.text_column,
        "label_column": args.label_column, "negative_source": args.negative_data,
        "encoding": args.encoding, "max_rows": args.max_rows}.items() if v is not None}
    model = {k: v for k, v in {
        "name": args.model, "max_length": args.max_length, "image_size": args.image_size,
        "freeze_backbone": args.freeze_backbone}.items() if v is not None}
    if args.hidden_sizes:
        try:
            model["hidden_sizes"] = [int(x) for x in args.hidden_sizes.split(",") if x.strip()]
        except ValueError as exc:
            raise LoupeError(f"--hidden-sizes {args.hidden_sizes!r} is not a list of numbers.",
                             "write widths separated by commas, e.g. 128,64.") from exc
    train = {k: v for k, v in {
        "epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size,
        "grad_accum": args.grad_accum, "patience": args.patience, "max_steps": args.max_steps,
        "num_workers": args.num_workers, "device": args.device, "precision": args.precision,
        "seed": args.seed}.items() if v is not None}
    extra: dict[str, Any] = {"data": data, "model": model, "train": train}
    if args.name:
        extra["name"] = args.name
    if args.tag:
        extra["tags"] = list(args.tag)
    return cfg.replace(**extra)


@command("train")
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
    printer = progress_printer(args.quiet or args.json, sys.stderr if args.json else None)
    result = train(cfg, store, [printer], run_id=args.run_id,
                   should_stop=lambda: flag["stop"])
    if int(os.environ.get("RANK", "0")) != 0:
        return 0
    emit(args, {"run_id": result.run_id, "status": result.status, "metrics": result.metrics},
         _train_summary(result))
    return 0


def _train_summary(result: Any) -> str:
    lines = [f"run {result.run_id}: {result.status}"]
    headline = tuple(f"{s}_{m}" for s in ("test", "val")
                     for m in ("rmse", "mae", "r2", "accuracy", "macro_f1", "roc_auc", "top"))
    for key in sorted(result.metrics):
        if key.startswith(headline):
            lines.append(f"  {mask_label(key):28s} {result.metrics[key]:.4f}")
    for notice in result.report.get("notices", []):
        lines.append(f"  note: {mask_message(notice)}")
    return "\n".join(lines)


@command("resume")
def cmd_resume(args: argparse.Namespace) -> int:
    from core.train import resume

    printer = progress_printer(args.quiet or args.json, sys.stderr if args.json else None)
    result = resume(args.run_id, callbacks=[printer])
    emit(args, {"run_id": result.run_id, "status": result.status, "metrics": result.metrics},
         _train_summary(result))
    return 0


@command("predict")
def cmd_predict(args: argparse.Namespace) -> int:
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


def write_frame(frame: pd.DataFrame, out: Path, force: bool = False) -> None:
    """Kept for callers of the old name: ``core.output.write_table`` (checked, atomic, CSV-safe)."""
    write_table(frame, out, force=force)


@command("runs")
def cmd_runs(args: argparse.Namespace) -> int:
    from core.store import RunStore

    store = RunStore()
    store.recover_interrupted()
    runs = store.list_runs(task=args.task, status=args.status, tag=args.tag, text=args.search,
                           limit=args.limit)
    if args.json:
        emit(args, json.loads(runs.to_json(orient="records", date_format="iso")), "")
        return 0
    if runs.empty:
        print("no runs yet — try: loupe train tabular --data sample:house_prices")
        return 0
    rows = []
    for run in runs.itertuples():
        metrics = json.loads(run.metrics_json or "{}")
        headline = next((f"{k}={metrics[k]:.4g}" for k in ("test_r2", "test_accuracy", "test_macro_f1")
                         if k in metrics), "")
        rows.append([run.id, run.task, mask_message(run.name), run.status,
                     run.created_at.strftime("%Y-%m-%d %H:%M"), headline,
                     ",".join(mask_message(t) for t in run.tags)])
    print(pd.DataFrame(rows, columns=["id", "task", "name", "status", "created", "test", "tags"])
          .to_string(index=False))
    return 0


@command("show")
def cmd_show(args: argparse.Namespace) -> int:
    from core.store import RunStore

    store = RunStore()
    run = store.get_run(args.run_id)
    run["system"] = store.system(run["id"])
    run["artifacts"] = store.artifacts(run["id"]).to_dict(orient="records")
    for art in run["artifacts"]:
        art["path"] = show_path(art["path"])
    for section, key in (("data", "source"), ("data", "negative_source")):
        if (run["config"].get(section) or {}).get(key):
            run["config"][section][key] = show_path(run["config"][section][key])
    lines = [f"{mask_message(run['name'])} ({run['id']}) — {run['task']}, {run['status']}",
             f"  created {run['created_at']}  device {run['device']}  precision {run['precision']}"]
    if run.get("error"):
        lines.append(f"  error: {mask_message(run['error'])}")
    if run.get("notes"):
        lines.append(f"  notes: {mask_message(run['notes'])}")
    if run.get("tags"):
        lines.append("  tags: " + ", ".join(mask_message(t) for t in run["tags"]))
    for key, value in sorted(run["metrics"].items()):
        lines.append(f"  {mask_label(key):30s} {value:.4f}")
    for key, value in sorted(run["system"].items()):
        lines.append(f"  {key:30s} {value:,.2f}")
    for art in run["artifacts"]:
        lines.append(f"  artifact {art['kind']}: {art['path']} ({art['bytes']:,} bytes)")
    lines.append("  config: " + mask_message(json.dumps(run["config"], ensure_ascii=False)))
    emit(args, run, "\n".join(lines))
    return 0


@command("cancel")
def cmd_cancel(args: argparse.Namespace) -> int:
    from core.jobs import cancel_job

    run_id = cancel_job(args.run_id)
    print(f"asked run {run_id} to stop")
    return 0


@command("delete")
def cmd_delete(args: argparse.Namespace) -> int:
    from core.store import RunStore

    store = RunStore()
    run = store.get_run(args.run_id)
    store.delete_run(run["id"])
    print(f"deleted run {run['id']}")
    return 0


@command("tag")
def cmd_tag(args: argparse.Namespace) -> int:
    from core.store import RunStore

    store = RunStore()
    store.tag_run(store.get_run(args.run_id)["id"], args.tags)
    print(f"tags of {args.run_id}: {', '.join(mask_message(t) for t in args.tags) or '(none)'}")
    return 0


@command("samples")
def cmd_samples(args: argparse.Namespace) -> int:
    from core.tasks import all_tasks

    listing = {t.kind: t.samples() for t in all_tasks()}
    human = "\n".join(f"{kind}:\n" + "\n".join(f"  sample:{n:14s} {d}" for n, d in samples.items())
                      for kind, samples in listing.items())
    emit(args, listing, human)
    return 0


@command("inspect")
def cmd_inspect(args: argparse.Namespace) -> int:
    from core.privacy import fingerprint_frame, format_inspection, inspect_frame, load_table
    from core.store import RunStore
    from core.store.privacy_log import load_overrides

    frame = load_table(args.file)
    result = inspect_frame(frame, args.file, k=args.k, quasi_identifiers=args.quasi,
                           sample_rows=args.sample_rows or None,
                           overrides=load_overrides(RunStore(), fingerprint_frame(frame)))
    emit(args, result.to_dict(), format_inspection(result))
    return 0


@command("serve")
def cmd_serve(args: argparse.Namespace) -> int:
    app = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
    return subprocess.call([sys.executable, "-m", "streamlit", "run", str(app),
                            "--server.port", str(args.port), "--server.address", args.address])
