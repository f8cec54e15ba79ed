"""The deploy bundle: the export folder (``core.export``) plus an ONNX model, the compression check
and what it takes to serve it.

``build_deploy`` exports the fp32 ONNX model and its int8 form, checks both against the original on
the run's validation and test splits (``core.deploy.compress.compare``) and returns the files of
a folder holding, besides the masked model folder and card:
- ``model.onnx`` or ``model.int8.onnx`` (the requested format);
- ``deploy.json``: kind, format, model file, opset and the comparison rows;
- ``serve.py`` and ``runtime/``: the bundle serves itself with its runtime packages only
  (``python serve.py``; ``core.deploy.portable``: the kind's torch-free runtime and the Loupe
  modules it needs, found by loading the bundle in a fresh process without torch);
- ``requirements.txt``: those runtime packages (onnxruntime, FastAPI, the name lexicon's, the
  kind's own such as ``tokenizers``);
- a "Compressed formats" section in ``MODEL_CARD.md`` / ``README.md``.

With Loupe installed, ``loupe serve-model --bundle DIR`` serves it too, with ``/explain`` (the
safetensors folder travels in the bundle for that).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.deploy.compress import (
    FORMATS,
    ONNX_FILES,
    ORIGINAL,
    available_formats,
    check_available,
    compare,
    format_notes,
    onnx_hook,
    onnx_predictor,
    write_onnx,
)
from core.deploy.onnx_kind import OPSET
from core.deploy.portable import (
    DEPLOY_FILE,
    REQUIREMENTS,
    SERVE_PY,
    SERVE_SCRIPT,
    read_deploy,
    runtime_files,
    serving_class,
)
from core.errors import LoupeError
from core.output import atomic_dir, check_new_dir, mask_data
from core.store import RunStore

#: a kind without a portable runtime (``OnnxKind.serving_ref``) is served by Loupe itself
LOUPE_REQUIREMENTS = (
    "# Serve with: loupe serve-model --bundle THIS_FOLDER (no Loupe history is read).",
    "# This kind has no portable runtime: install Loupe itself (pip install 'loupe[deploy]').",
    *REQUIREMENTS,
)
__all__ = ["DEPLOY_FILE", "build_deploy", "export_deploy", "read_deploy"]


def _probe_runtime(files: dict[str, bytes]) -> dict[str, bytes]:
    """The bundle's ``runtime/`` (``core.deploy.portable.runtime_files``), found by loading the
    bundle, written to a scratch folder, in a fresh process without torch."""
    with tempfile.TemporaryDirectory(prefix="loupe-bundle-") as tmp:
        for name, data in files.items():
            path = Path(tmp) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return runtime_files(Path(tmp))


@dataclass
class DeployBuild:
    run: dict[str, Any]
    fmt: str
    rows: list[dict[str, Any]]
    files: dict[str, bytes] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # format -> why the model has no such form
    opset: int = OPSET


def _weights_size(model_dir: Path) -> int:
    return sum(p.stat().st_size for p in model_dir.rglob("*.safetensors"))


def compression_check(run_id: str, store: RunStore | None = None, max_rows: int = 2000,
                      keep: str | None = None, repeats: int = 5
                      ) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """Export the ONNX formats the model has (both, or fp32 only for a model with no int8 form:
    ``format_notes`` says why), compare them with the original; returns (rows, {format: bytes}
    for ``keep`` or nothing)."""
    from core.tasks import get_task

    store = store or RunStore()
    run = store.get_run(run_id)
    kind, model_dir = run["task"], store.artifact_path(run["id"], "model")
    hook = onnx_hook(kind)
    if keep:
        check_available(kind, model_dir, keep)
    data = get_task(kind).load_data(store.config(run["id"]))
    original = get_task(kind).load_predictor(model_dir, "cpu")
    calibration = hook.split_inputs(data, "val")[0] if hook.quantization == "static" else None
    with tempfile.TemporaryDirectory(prefix="loupe-onnx-") as tmp:
        written = write_onnx(kind, get_task(kind).load_predictor(model_dir, "cpu"), Path(tmp),
                             calibration_inputs=calibration, formats=available_formats(kind, model_dir))
        predictors = {ORIGINAL: original, **{fmt: onnx_predictor(kind, model_dir, path)
                                             for fmt, path in written.items()}}
        sizes = {ORIGINAL: _weights_size(model_dir),
                 **{fmt: path.stat().st_size for fmt, path in written.items()}}
        rows = compare(kind, predictors, sizes, data, max_rows=max_rows, repeats=repeats)
        kept = {keep: written[keep].read_bytes()} if keep else {}
    return rows, kept


def card_section(rows: list[dict[str, Any]], notes: dict[str, str] | None = None,
                 opset: int | None = None) -> str:
    """The Markdown table of what compression cost (numbers and format names only), and a line
    per format the model has no form in (``format_notes``)."""
    from core.export.card_facts import fmt as num

    lines = ["", "## Compressed formats", "",
             "Checked against the original model on this run's validation and test splits "
             f"(ONNX opset {opset or OPSET}, onnxruntime on CPU).", "",
             *[f"- No {name}: {note}" for name, note in (notes or {}).items()],
             *([""] if notes else []),
             "| format | split | metric | value | change | agreement | max abs diff | size | "
             "1 input (ms) | batch (ms) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        size = f"{r['size_bytes'] / 1e6:.2f} MB" if r.get("size_bytes") else ""
        agree = f"{r['agreement']:.2%}" if "agreement" in r else ""
        single = num(r["latency_single_ms"]) if "latency_single_ms" in r else ""
        batch = f"{num(r['latency_batch_ms'])} ({r['batch_size']} inputs)" if "latency_batch_ms" in r else ""
        lines.append(f"| {r['format']} | {r['split']} | {r['metric']} | {num(r['value'])} | "
                     f"{r['change']:+.4f} | {agree} | {num(r['max_abs_diff'])} | {size} | {single} "
                     f"| {batch} |")
    return "\n".join(lines) + "\n"


def build_deploy(run_id: str, fmt: str, store: RunStore | None = None, max_rows: int = 2000,
                 repeats: int = 5) -> DeployBuild:
    from core.export import CARD_NAME, collect_export

    if fmt not in FORMATS:
        raise LoupeError(f"Unknown deploy format '{fmt}'.", f"use one of {', '.join(FORMATS)}.")
    store = store or RunStore()
    run = store.get_run(run_id)
    model_dir = store.artifact_path(run["id"], "model")
    notes, opset = format_notes(run["task"], model_dir), onnx_hook(run["task"]).opset(model_dir)
    rows, kept = compression_check(run["id"], store, max_rows, keep=fmt, repeats=repeats)
    files = collect_export(run["id"], store).files
    files[ONNX_FILES[fmt]] = kept[fmt]
    section = card_section(rows, notes, opset).encode()
    for name in (CARD_NAME, "README.md"):
        files[name] = files[name] + section
    deploy = {"format": fmt, "task": run["task"], "run_id": run["id"], "model_file": ONNX_FILES[fmt],
              "opset": opset, "name": mask_data(run.get("name") or "", "hash"), "comparison": rows,
              "format_notes": notes}
    serving = onnx_hook(run["task"]).serving_ref
    if serving:  # a portable bundle: serve.py and the runtime, with the runtime packages only
        deploy["serving"] = serving
        requirements = ("# Serve with: pip install -r requirements.txt && python serve.py "
                        "(no Loupe install or history needed).", *REQUIREMENTS,
                        *serving_class(serving).requirements)
        files[SERVE_SCRIPT] = SERVE_PY.encode()
    else:
        requirements = LOUPE_REQUIREMENTS
    files[DEPLOY_FILE] = (json.dumps(deploy, indent=2, default=float) + "\n").encode()
    files["requirements.txt"] = ("\n".join(requirements) + "\n").encode()
    if serving:
        files.update(_probe_runtime(files))
    return DeployBuild(run=run, fmt=fmt, rows=rows, files=files, notes=notes, opset=opset)


def export_deploy(run_id: str, out: str | Path, fmt: str, store: RunStore | None = None,
                  force: bool = False, max_rows: int = 2000, repeats: int = 5) -> tuple[Path, DeployBuild]:
    """Write the deploy bundle as a new folder, atomically."""
    target = check_new_dir(out, force=force)
    build = build_deploy(run_id, fmt, store, max_rows, repeats)
    with atomic_dir(target) as tmp:
        for name, data in build.files.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return target, build
