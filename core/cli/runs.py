"""The run history: `loupe runs`, `show`, `cancel`, `delete`, `tag`."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from core.cli.output import emit, json_flag, table


def add_parsers(sub: Any) -> None:
    ls = sub.add_parser("runs", help="list runs")
    ls.add_argument("--task")
    ls.add_argument("--status")
    ls.add_argument("--tag")
    ls.add_argument("--search", help="text in the name, notes or id")
    ls.add_argument("--limit", type=int, default=20)
    json_flag(ls)
    ls.set_defaults(func=cmd_runs)

    s = sub.add_parser("show", help="show one run: config, metrics, artifacts")
    s.add_argument("run_id")
    json_flag(s)
    s.set_defaults(func=cmd_show)

    c = sub.add_parser("cancel", help="cancel a queued or running run")
    c.add_argument("run_id")
    c.set_defaults(func=cmd_cancel)

    d = sub.add_parser("delete", help="delete a run with its metrics and artifacts")
    d.add_argument("run_id", help="the run's id (or a unique prefix of 4+ characters); a queued "
                                   "or running run must be cancelled first")
    d.set_defaults(func=cmd_delete)

    tg = sub.add_parser("tag", help="set a run's tags")
    tg.add_argument("run_id")
    tg.add_argument("tags", nargs="*")
    tg.set_defaults(func=cmd_tag)


def cmd_runs(args: argparse.Namespace) -> int:
    from core.output import mask_message
    from core.store import RunStore
    from core.store.runs import metrics_from_json

    store = RunStore()
    store.recover_interrupted()
    runs = store.list_run_records(task=args.task, status=args.status, tag=args.tag, text=args.search,
                                  limit=args.limit)
    if args.json:
        emit(args, [{k: _json_value(v) for k, v in run.items()} for run in runs], "")
        return 0
    if not runs:
        print("no runs yet — try: loupe train tabular --data sample:house_prices")
        return 0
    rows = []
    for run in runs:
        metrics = metrics_from_json(run["metrics_json"])
        headline = next((f"{k}={metrics[k]:.4g}" for k in ("test_r2", "test_accuracy", "test_macro_f1")
                         if k in metrics), "")
        rows.append([run["id"], run["task"], mask_message(run["name"]), run["status"],
                     run["created_at"].strftime("%Y-%m-%d %H:%M"), headline,
                     ",".join(mask_message(t) for t in run["tags"] or [])])
    print(table(rows, ["id", "task", "name", "status", "created", "test", "tags"]))
    return 0


def _json_value(value: Any) -> Any:
    """A stored value as JSON shows it: times in ISO 8601 to the millisecond."""
    return value.isoformat(timespec="milliseconds") if isinstance(value, datetime) else value


def cmd_show(args: argparse.Namespace) -> int:
    from core.output import mask_label, mask_message, show_path
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


def cmd_cancel(args: argparse.Namespace) -> int:
    from core.jobs import cancel_job

    run_id = cancel_job(args.run_id)
    print(f"asked run {run_id} to stop")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from core.store import RunStore

    store = RunStore()
    run = store.get_run(args.run_id)
    store.delete_run(run["id"])
    print(f"deleted run {run['id']}")
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    from core.output import mask_message
    from core.store import RunStore

    store = RunStore()
    store.tag_run(store.get_run(args.run_id)["id"], args.tags)
    print(f"tags of {args.run_id}: {', '.join(mask_message(t) for t in args.tags) or '(none)'}")
    return 0
