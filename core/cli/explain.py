"""`loupe explain RUN_ID --input …`: SHAP or attention for one input, or a table run's global view.

Output is for people by default, ``--json`` for machines; ``--html`` writes the figures to
one self-contained page and ``--out`` the main table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from core.cli.output import emit
from core.errors import LoupeError

# core.output (pandas, the privacy lexicons) is imported inside the functions that mask: building
# the parser for `loupe --help` must not pay for it.


def add_parsers(sub: Any) -> argparse.ArgumentParser:
    e = sub.add_parser("explain", help="explain a prediction: SHAP (text, image, table) or attention")
    e.add_argument("run_id")
    e.add_argument("--input", help="text run: the text, or a file of texts (with --row); image run: "
                   "an image file; table run: a JSON object of column values, or a table file (with --row)")
    e.add_argument("--row", type=int, default=0, help="which row of an --input file (0-based)")
    e.add_argument("--method", default="shap",  # checked against the run's kind's methods
                   help="shap (default), attention (text runs) or global (table runs: importance); "
                   "a run's kind may offer others")
    e.add_argument("--target-class", action="append", help="also explain this class (repeatable)")
    e.add_argument("--max-evals", type=int, help="SHAP model evaluations (text/image/permutation)")
    e.add_argument("--output", choices=["probability", "logit"], help="classifier output to explain")
    e.add_argument("--mask", help="image: how hidden regions look: auto, blur(k,k) or mean")
    e.add_argument("--regions", type=int, help="image: about how many superpixels to attribute to "
                   "(default 150)")
    e.add_argument("--background", type=int, help="table: background rows (SHAP baseline)")
    e.add_argument("--algorithm", choices=["auto", "exact", "permutation"], help="table SHAP explainer")
    e.add_argument("--rows", type=int, help="global: how many rows to explain")
    e.add_argument("--split", choices=["train", "val", "test"], help="global: rows from this split")
    e.add_argument("--html", help="write the figures to this HTML file")
    e.add_argument("--out", help="write the main table to this file (.csv, .tsv, .jsonl or .parquet)")
    e.add_argument("--force", action="store_true", help="replace existing --html/--out files")
    e.add_argument("--window", type=int, default=0, help="attention: first token of the figure window")
    e.add_argument("--window-size", type=int, help="attention: tokens in the figure window")
    e.add_argument("--layer", type=int, help="attention: layer whose heads are drawn (default: last)")
    e.add_argument("--no-cache", action="store_true", help="recompute even when cached")
    e.add_argument("--device", default="auto")
    e.add_argument("--quiet", action="store_true", help="no progress line")
    e.add_argument("--json", action="store_true", help="print machine-readable JSON")
    e.set_defaults(func=cmd_explain)
    return e


def _progress(quiet: bool) -> Any:
    if quiet:
        return None

    def show(fraction: float, message: str) -> None:
        print(f"\r{fraction:6.1%} {message}".ljust(90), end="", file=sys.stderr, flush=True)
        if fraction >= 1.0:
            print(file=sys.stderr)

    return show


def resolve_input(args: argparse.Namespace, kind: str, store: Any) -> Any:
    """The input to explain from --input/--row, read as the run's kind's explainer needs it."""
    from core.explain import explainer_for
    from core.output import show_path

    explainer = explainer_for(kind)
    if _method(args.method) in explainer.global_methods:
        return None
    value = args.input
    if value is None:
        raise LoupeError("Nothing to explain.", explainer.input_hint)
    path = Path(value).expanduser()

    def read_file() -> Any:
        from core.predict import load_predictor

        inputs = load_predictor(args.run_id, store, args.device).load_inputs(path)
        count = len(inputs)
        if not 0 <= args.row < count:
            raise LoupeError(f"--row {args.row} is out of range: {show_path(path)} has {count} inputs.",
                             f"use --row between 0 and {count - 1}.")
        return explainer.pick_input(inputs, args.row)

    return explainer.cli_input(value, len(value) < 4096 and os.path.isfile(path), read_file)


def _method(name: str) -> str:
    return {"global": "shap_global"}.get(name, name)


def _params(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    from core.explain import explainer_for

    keys = explainer_for(kind).cli_params(_method(args.method))
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def summary(expl: Any, rows: int = 20) -> dict[str, Any]:
    """What --json prints: the result without the large arrays, masked (ids kept)."""
    from core.output import mask_data, mask_label, mask_message, mask_table

    frame = mask_table(expl.frame())
    return {"run_id": expl.run_id, "kind": expl.kind, "method": expl.method,
            "labels": [mask_label(x) for x in expl.labels],
            "prediction": _prediction(expl.prediction), "base_value": expl.to_dict()["base_value"],
            "info": mask_data(expl.info), "notices": [mask_message(n) for n in expl.notices],
            "from_cache": expl.from_cache, "seconds": expl.seconds,
            "input": mask_message(expl.input_label),
            "table": json.loads(frame.head(rows).to_json(orient="records"))}


def _prediction(pred: dict[str, Any]) -> dict[str, Any]:
    from core.output import mask_data, mask_label

    out = mask_data(pred)
    if isinstance(pred.get("label"), str):
        out["label"] = mask_label(pred["label"])
    return out


def describe(expl: Any, rows: int = 20) -> str:
    """The human summary; every label, note and table cell masked on the way out."""
    from core.output import mask_label, mask_message, mask_table, term

    lines = [f"run {expl.run_id} · {expl.kind} · {expl.method}"]
    pred = expl.prediction
    if "label" in pred:
        lines.append(f"prediction: {mask_label(pred['label'])} ({pred['confidence']:.1%})")
    elif "value" in pred:
        lines.append(f"prediction: {pred['value']:.6g} {mask_message(pred.get('target', ''))}   "
                     f"base value: {float(expl.base_value):.6g}")
    if expl.method == "shap" and getattr(expl.base_value, "ndim", 0) == 1:  # a base per class
        for label, base, total in zip(expl.labels, expl.base_value, expl.total(), strict=True):
            lines.append(f"  {mask_label(label)}: base {base:.4f} + attributions {total:+.4f} = "
                         f"{base + total:.4f}")
    lines += [f"note: {mask_message(n)}" for n in expl.notices]
    frame = mask_table(expl.frame())
    if not frame.empty:
        lines.append(frame.head(rows).to_string(index=False, max_colwidth=40))
        if len(frame) > rows:
            lines.append(f"… {len(frame) - rows} more rows (--out FILE for all)")
    source = "served from the cache" if expl.from_cache else f"computed in {expl.seconds:.2f} s"
    lines.append(f"({source})")
    return term("\n".join(lines), mask=False)


def cmd_explain(args: argparse.Namespace) -> int:
    from core.explain import explain, methods_for
    from core.output import TABLE_SUFFIXES, check_outputs, mask_table, show_path, write_table
    from core.store import RunStore

    check_outputs([(args.html, (".html", ".htm"), "explanation page", "--html"),
                   (args.out, TABLE_SUFFIXES, "table", "--out")], force=args.force)
    store = RunStore()
    run = store.get_run(args.run_id)
    kind = run["task"]
    method = _method(args.method)
    if method not in methods_for(kind):
        choices = ", ".join(m.replace("shap_global", "global") for m in methods_for(kind))
        raise LoupeError(f"--method {args.method} is not available for {kind} runs.",
                         f"use one of {choices}.")
    expl = explain(run["id"], resolve_input(args, kind, store), method=method,
                   target_class=args.target_class, store=store, progress=_progress(args.quiet or args.json),
                   device=args.device, use_cache=not args.no_cache, **_params(args, kind))
    if args.html:
        expl.to_html(args.html, start=args.window, size=args.window_size, layer=args.layer,
                     force=args.force)
    if args.out:
        write_table(mask_table(expl.frame()), args.out, force=args.force)
    emit(args, summary(expl), describe(expl))
    if args.html and not args.json:
        print(f"figures written to {show_path(args.html)}")
    return 0
