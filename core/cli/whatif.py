"""`loupe whatif RUN_ID --input …`: edit an input and compare, find a counterfactual, or draw a
table feature's effect curves.

  loupe whatif RUN --input 'great film' --edited 'dull film'        text: both side by side
  loupe whatif RUN --input '{"sqft": 900, …}' --set sqft=1400       table: the edited row
  loupe whatif RUN --input 'great film' --counterfactual [--edit mask]
  loupe whatif RUN --input rows.csv --row 3 --counterfactual --target 500000 --editable sqft
  loupe whatif RUN --feature sqft [--split val] [--out curves.csv]
  loupe whatif RUN --input 'great film' --edited 'dull film' --pin "title"   keep it (report)
  loupe whatif RUN --pins | --unpin PIN_ID                                 pinned comparisons

Everything printed is masked (``core.cli.output.emit``).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from core.cli.output import emit


def add_parsers(sub: Any) -> argparse.ArgumentParser:
    w = sub.add_parser("whatif", help="edit an input and compare; counterfactuals; feature effects")
    w.add_argument("run_id")
    w.add_argument("--input", help="as for `loupe explain`: a text, an image file, a JSON row or a file "
                   "of inputs (with --row)")
    w.add_argument("--row", type=int, default=0, help="which row of an --input file (0-based)")
    w.add_argument("--edited", help="text/image run: the edited input to compare with --input")
    w.add_argument("--set", action="append", default=[], metavar="COL=VALUE",
                   help="table run: change a column of the --input row (repeatable)")
    w.add_argument("--counterfactual", action="store_true",
                   help="find the smallest change that flips the class (text) or moves the "
                   "prediction past --target (table)")
    w.add_argument("--edit", choices=["remove", "mask"], default="remove",
                   help="text counterfactual: remove words or replace them by the mask token")
    w.add_argument("--max-evals", type=int, help="text counterfactual: SHAP model evaluations")
    w.add_argument("--target", type=float, help="table counterfactual: the value to reach")
    w.add_argument("--direction", choices=["above", "below"],
                   help="table counterfactual: reach above or below --target (default: the side "
                   "it is not on)")
    w.add_argument("--editable", action="append", metavar="COL",
                   help="table counterfactual: a column that may change (repeatable or comma-"
                   "separated; default: every input column)")
    w.add_argument("--feature", help="table run: ICE lines and partial dependence of this column")
    w.add_argument("--split", choices=["train", "val", "test"], default="val",
                   help="--feature: the rows averaged (default: the whole validation split)")
    w.add_argument("--pin", nargs="?", const="", metavar="TITLE",
                   help="keep the comparison in the history (the HTML report includes it)")
    w.add_argument("--pins", action="store_true", help="list the run's pinned comparisons")
    w.add_argument("--unpin", metavar="PIN_ID", help="forget a pinned comparison")
    w.add_argument("--out", help="write the main table to this file (.csv, .tsv, .jsonl or .parquet)")
    w.add_argument("--force", action="store_true", help="replace an existing --out file")
    w.add_argument("--device", default="auto")
    w.add_argument("--json", action="store_true", help="print machine-readable JSON")
    w.set_defaults(func=cmd_whatif, method="shap")
    return w


def cmd_whatif(args: argparse.Namespace) -> int:
    from core.output import TABLE_SUFFIXES, check_outputs
    from core.store import RunStore

    check_outputs([(args.out, TABLE_SUFFIXES, "table", "--out")], force=args.force)
    store = RunStore()
    run = store.get_run(args.run_id)
    args.run_id = run["id"]
    if args.pins or args.unpin:
        return _pins(args, store)
    if args.feature:
        return _effects(args, store)
    from core.cli.explain import resolve_input
    from core.explain import explainer_for

    explainer = explainer_for(run["task"])
    original = resolve_input(args, run["task"], store)
    if args.counterfactual:
        editable = [c.strip() for item in args.editable for c in item.split(",") if c.strip()] \
            if args.editable else None
        cf = explainer.counterfactual(args.run_id, original, store, {
            "edit": args.edit, "max_evals": args.max_evals, "device": args.device,
            "target": args.target, "direction": args.direction, "editable": editable})
        _write(args, cf.frame())
        emit(args, cf.to_dict(), "\n".join([f"run {args.run_id} · " + cf.lines()[0], *cf.lines()[1:]]))
        return 0
    return _compare(args, store, explainer, original)


def _compare(args: argparse.Namespace, store: Any, explainer: Any, original: Any) -> int:
    from core.cli.explain import summary
    from core.whatif import compare_edit

    def columns() -> list[str]:
        from core.predict import load_predictor

        return list(load_predictor(args.run_id, store, "cpu").input_columns)

    edited = explainer.edited_input(original, args.edited, args.set, columns)
    if args.set:  # a row: compare it with the original as a row of the same columns
        from core.explain.shap_tabular import row_frame

        original = row_frame(original, columns())
    result = compare_edit(args.run_id, original, edited, store=store, device=args.device)
    payload = {"changed": result.changed(), "original": summary(result.original),
               "edited": summary(result.edited)}
    pinned = ""
    if args.pin is not None:
        from core.whatif.pins import pin_comparison, row_changes, text_changes

        changes = (row_changes(original, edited) if args.set else
                   text_changes(original, edited) if isinstance(original, str) and isinstance(edited, str)
                   else [])
        pin = pin_comparison(result, store, args.pin, changes)
        payload["pin_id"] = pin.id
        pinned = f"pinned as {pin.id} (loupe whatif {args.run_id} --pins; the HTML report includes it)"
    if "label" in result.original.prediction:
        head = f"the decision {'CHANGED' if result.changed() else 'held'}"
    else:
        a, b = (float(e.prediction["value"]) for e in (result.original, result.edited))
        head = f"the prediction moved by {b - a:+.6g}"
    lines = [f"run {args.run_id} · what-if: {head}", "", "original: " + _prediction_line(result.original),
             "edited:   " + _prediction_line(result.edited), ""]
    lines += _attribution_diff(result)
    if pinned:
        lines += ["", pinned]
    _write(args, _diff_frame(result))
    emit(args, payload, "\n".join(lines))
    return 0


def _pins(args: argparse.Namespace, store: Any) -> int:
    from core.errors import LoupeError
    from core.output import mask_message
    from core.whatif.pins import pinned_comparisons, unpin

    if args.unpin:
        if not any(p.id == args.unpin for p in pinned_comparisons(args.run_id, store)):
            raise LoupeError(f"Run {args.run_id} has no pinned comparison {mask_message(args.unpin)!r}.",
                             f"list them with: loupe whatif {args.run_id} --pins")
        unpin(args.unpin, store)
        emit(args, {"unpinned": args.unpin}, f"unpinned {args.unpin}")
        return 0
    pins = pinned_comparisons(args.run_id, store)
    payload = [{"id": p.id, "title": p.title, "created_at": str(p.created_at)[:19],
                "headline": p.headline(), "changed": p.comparison.changed(), "changes": p.changes}
               for p in pins]
    lines = [f"run {args.run_id}: {len(pins)} pinned comparison{'s' if len(pins) != 1 else ''}"]
    lines += [f"{p.id}  {str(p.created_at)[:16]}  {p.title} · {p.headline()}" for p in pins]
    emit(args, payload, "\n".join(lines))
    return 0


def _prediction_line(expl: Any) -> str:
    from core.output import mask_label

    pred = expl.prediction
    if "label" in pred:
        probs = pred.get("probabilities") or {}
        shown = ", ".join(f"{mask_label(k)} {v:.1%}" for k, v in probs.items())
        return f"{mask_label(pred['label'])} ({pred['confidence']:.1%})" + (f"  [{shown}]" if shown else "")
    return f"{float(pred['value']):.6g}"


def _diff_frame(result: Any) -> Any:
    """The main tables of both explanations, side by side where they share rows."""
    import pandas as pd

    from core.output import mask_table

    a, b = mask_table(result.original.frame()), mask_table(result.edited.frame())
    if "feature" in a.columns and "feature" in b.columns:  # tables: one row per feature
        keep = [c for c in ("feature", "value", "shap") if c in a.columns]
        return a[keep].merge(b[keep], on="feature", suffixes=("_original", "_edited"))
    a.insert(0, "input", "original")
    b.insert(0, "input", "edited")
    return pd.concat([a, b], ignore_index=True)


def _attribution_diff(result: Any) -> list[str]:
    frame = _diff_frame(result)
    if frame.empty:
        return []
    if "shap_original" in frame.columns:
        frame = frame.assign(change=frame["shap_edited"] - frame["shap_original"])
        frame = frame.reindex(frame["change"].abs().sort_values(ascending=False).index)
        return ["attributions (largest change first):", frame.head(12).to_string(index=False)]
    return ["attributions:", frame.head(40).to_string(index=False, max_colwidth=30)]


def _effects(args: argparse.Namespace, store: Any) -> int:
    from core.output import mask_message
    from core.whatif import feature_effects

    curves = feature_effects(args.run_id, args.feature, args.split, store=store)
    frame = curves.frame()
    _write(args, frame)
    payload = {"feature": args.feature, "rows": curves.rows, "split": args.split,
               "table": json.loads(frame.to_json(orient="records"))}
    lines = [f"run {args.run_id} · {mask_message(args.feature)}: partial dependence over all "
             f"{curves.rows} rows of the {args.split} split, ICE lines of {len(curves.ice_rows)} rows",
             frame.to_string(index=False, max_cols=6)]
    emit(args, payload, "\n".join(lines))
    return 0


def _write(args: argparse.Namespace, frame: Any) -> None:
    if args.out:
        from core.output import write_table

        write_table(frame, args.out, force=args.force)
