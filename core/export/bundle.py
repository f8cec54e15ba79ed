"""Export a run: its model folder, a model card and (see ``core.export.report_html``) an HTML report.

What leaves the machine is what a recipient needs to use the model and nothing that could run
code or identify someone:
- the artifact folder as written by the task (safetensors weights, JSON configs, tokenizer files),
  with any pickle-format file left out (checked by content, not only by name);
- personal data in the JSON configs masked with the keyed-hash operator. Category values of a
  tabular model, a run name or a label can hold an e-mail address; the hash keeps distinct values
  distinct (so the one-hot layout and label maps stay consistent) while hiding them. The model
  card says what was masked and what that means for predictions;
- ``MODEL_CARD.md``, the same card as ``README.md`` (Hugging Face folder layout) and the final
  metrics as ``metrics.json``.

Every file goes through the output boundary (``core.output``): JSON text masked with machine
fields (ids, fingerprints, numbers) kept byte-for-byte, ``metrics.json`` keyed by masked names,
outputs validated before anything is built (an existing file is refused unless ``force``), and
written atomically: a zip through ``core.output.atomic_write``, a folder assembled beside its
target and renamed, so an interrupted export leaves nothing half-written.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import LoupeError
from core.export.card_facts import TOKENIZER_PREFIXES
from core.export.model_card import write_model_card
from core.output import atomic_dir, atomic_write, check_new_dir, check_output, mask_data, show_path
from core.store import RunStore

PICKLE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".joblib")
CARD_NAME = "MODEL_CARD.md"
ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed member dates: the same run exports to the same bytes


@dataclass
class ExportBundle:
    """Everything an export writes, in memory: relative path -> bytes."""

    run: dict[str, Any]
    report: dict[str, Any]
    model_dir: Path
    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the export changed, for the card


def load_report(store: RunStore, run_id: str) -> dict[str, Any]:
    """The run's ``report.json`` ({} when the run has none)."""
    try:
        path = store.artifact_path(run_id, "report")
    except LoupeError:
        path = store.run_dir(run_id, create=False) / "report.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise LoupeError(f"The report of run {run_id} ({show_path(path)}) is unreadable.",
                         "train the run again, or export without it.") from exc


def is_pickle(data: bytes) -> bool:
    """True for a pickle stream or a torch.save zip (which holds a pickle)."""
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return True
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return any(n.endswith((".pkl", "/data.pkl")) for n in archive.namelist())
        except zipfile.BadZipFile:
            return False
    return False


def mask_json(value: Any) -> tuple[Any, int]:
    """Every text (keys too) through the keyed-hash mask, machine fields (ids, fingerprints,
    numbers) untouched; returns (masked, values changed)."""
    masked = mask_data(value, "hash")
    return masked, _changes(value, masked)


def _changes(before: Any, after: Any) -> int:
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sum(a != b for a, b in zip(before, after, strict=False))
        return keys + sum(_changes(a, b) for a, b in zip(before.values(), after.values(), strict=False))
    if isinstance(before, (list, tuple)) and isinstance(after, list):
        return sum(_changes(a, b) for a, b in zip(before, after, strict=False))
    return int(before != after) if isinstance(before, str) else 0


def _config_masker(kind: str) -> Callable[[str, Any], tuple[Any, str]]:
    """The task's ``mask_artifact_config`` (a kind that is not registered: plain keyed hash)."""
    from core.tasks import get_task

    try:
        return get_task(kind).mask_artifact_config
    except Exception:  # an unknown or unloadable kind: every text through the keyed hash
        return lambda name, data: (mask_data(data, "hash"), "")


def _weight_files(kind: str) -> tuple[str, ...]:
    """Model files of a kind besides safetensors (``Task.weight_files``, e.g. a tree text model)."""
    from core.tasks import get_task

    try:
        return tuple(get_task(kind).weight_files)
    except Exception:  # an unknown kind: safetensors only
        return ()


def _model_files(model_dir: Path, notes: list[str],
                 mask_config: Callable[[str, Any], tuple[Any, str]]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(model_dir).as_posix()
        data = path.read_bytes()
        if path.suffix.lower() in PICKLE_SUFFIXES or is_pickle(data):
            notes.append(f"Left out {rel}: a pickle-format file (pickles can run code when loaded).")
            continue
        if path.suffix == ".json" and not path.name.startswith(TOKENIZER_PREFIXES):
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = None
            if parsed is not None:
                masked, consequence = mask_config(rel, parsed)
                changed = _changes(parsed, masked)
                if changed:
                    data = (json.dumps(masked, indent=2) + "\n").encode()
                    notes.append(_masked_note(rel, changed, consequence))
        files[rel] = data
    return files


def _masked_note(rel: str, changed: int, consequence: str = "") -> str:
    note = (f"{rel}: {changed} value(s) that looked like personal data were replaced by keyed-hash "
            "tokens such as <EMAIL:1f0c…>.")
    return f"{note} {consequence}" if consequence else note


def collect_export(run_id: str, store: RunStore | None = None) -> ExportBundle:
    """The files of an export, masked and checked, with the model card built last."""
    store = store or RunStore()
    run = store.get_run(run_id)
    model_dir = store.artifact_path(run["id"], "model")
    if not model_dir.is_dir():
        raise LoupeError(f"The model folder of run {run['id']} is missing ({show_path(model_dir)}).",
                         "train the run again; its artifacts were moved or deleted.")
    report = load_report(store, run["id"])
    bundle = ExportBundle(run=run, report=report, model_dir=model_dir)
    bundle.files = _model_files(model_dir, bundle.notes, _config_masker(run["task"]))
    if not any(name.endswith(".safetensors") or name in _weight_files(run["task"])
               for name in bundle.files):
        raise LoupeError(f"Run {run['id']} has no safetensors weights (nor another model file) in "
                         f"{show_path(model_dir)}.",
                         "train the run again with this version of Loupe.")
    card = write_model_card(run, report, model_dir, store.system(run["id"]), bundle.notes)
    bundle.files[CARD_NAME] = card.encode()
    bundle.files["README.md"] = (_front_matter(run, bundle.files) + card).encode()
    metrics = {"run_id": run["id"], "task": run["task"],
               "metrics": mask_data(run.get("metrics") or {}, "hash")}
    bundle.files["metrics.json"] = (json.dumps(metrics, indent=2, default=float) + "\n").encode()
    return bundle


def _front_matter(run: dict[str, Any], files: dict[str, bytes]) -> str:
    """Hugging Face model-card metadata (a YAML header the Hub reads)."""
    lines = ["---", f"tags: [loupe, {run['task']}]"]
    try:
        hf = json.loads(files.get("config.json", b"{}"))
    except ValueError:
        hf = {}
    if isinstance(hf, dict) and hf.get("architectures"):
        lines.append("library_name: transformers")
    return "\n".join([*lines, "---", "", ""])


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def export_model_folder(run_id: str, store: RunStore | None = None) -> bytes:
    """The run's model folder + MODEL_CARD.md + README.md as a zip, in memory (no pickles)."""
    return zip_bytes(collect_export(run_id, store).files)


def export_model_zip(run_id: str, out_path: str | Path, store: RunStore | None = None,
                     force: bool = False) -> Path:
    """Write the export zip to ``out_path`` atomically; an existing file only with ``force``."""
    out = check_output(out_path, (".zip",), force=force, what="model zip")
    return atomic_write(out, export_model_folder(run_id, store))


def export_model_dir(run_id: str, out_dir: str | Path, store: RunStore | None = None,
                     force: bool = False) -> Path:
    """Write the export as a plain folder; ``out_dir`` must not exist or be empty."""
    out = check_new_dir(out_dir, force=force)
    bundle = collect_export(run_id, store)
    with atomic_dir(out) as tmp:
        for name, data in bundle.files.items():
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return out


def is_zip_target(out: str | Path) -> bool:
    return str(out).lower().endswith(".zip")


def check_export_target(out: str | Path, force: bool = False) -> Path:
    """Validate ``--out`` before anything is built: a .zip file, or a new/empty folder."""
    if is_zip_target(out):
        return check_output(out, (".zip",), force=force, what="model zip")
    return check_new_dir(out, force=force)


def export_run(run_id: str, out: str | Path, store: RunStore | None = None, force: bool = False) -> Path:
    """A zip when ``out`` ends in .zip, otherwise a folder."""
    writer = export_model_zip if is_zip_target(out) else export_model_dir
    return writer(run_id, out, store, force)
