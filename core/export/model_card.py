"""Model cards: a Markdown page that travels with an exported model and says what it is for.

The card is built from what the run recorded (the run row, ``report.json``, the artifact's JSON
configs), never from the data itself, and every text that came from the data (run name, notes,
source names, labels, notices) is masked and Markdown-escaped through the output boundary
(``core.output.md`` / ``md_code``): a label such as ``![x](//host/x.png)`` or ``<img onerror=…>``
renders as those characters, never as an image, a link or HTML. Paths are shown relative to
LOUPE_HOME or by masked file name; the fingerprint and run id are machine fields, never masked.
What the card says about a kind is read off the report's fields (a ``target`` and baselines for
regressors, labels and a confusion matrix for classifiers, ``truncation`` for text, ``preprocess``
for images), so a new kind gets a sensible card without an ``if kind == ...`` here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.datasets.samples import parse_sample
from core.export.card_facts import (
    SPLITS,
    baseline_models,
    find_config,
    fmt,
    labels_of,
    metric_table,
    read_configs,
    safetensors_parameters,
    split_rows,
)
from core.output import mask_message, md, md_code, show_source

PATH_FIELDS = (("data", "source"), ("data", "negative_source"), ("model", "name"))


# --- what the model is for and where it fails ----------------------------------------------------
def _sample_description(task: Any, source: str) -> str | None:
    name = parse_sample(source)
    if name is None or task is None:
        return None
    try:
        return task.samples().get(name)
    except Exception:  # a kind whose samples need a missing package: no description
        return None


def intended_use(run: dict[str, Any], report: dict[str, Any], configs: dict[str, Any]) -> list[str]:
    title = _task_title(run["task"])
    labels = labels_of(report, configs)
    target = report.get("target") or run["config"].get("data", {}).get("target")
    lines = []
    if labels:
        shown = ", ".join(md_code(x) for x in labels[:20])
        more = f" and {len(labels) - 20} more" if len(labels) > 20 else ""
        lines.append(f"{title}: assigns one of {len(labels)} labels ({shown}{more}) to inputs like "
                     "the training data.")
    elif target:
        lines.append(f"{title}: predicts the numeric column {md_code(target)} from the other "
                     "columns of tables shaped like the training data (same columns, same units).")
    else:
        lines.append(f"{title} on inputs like the training data.")
    lines.append("Exploration, comparison and prototyping. It is not validated for decisions about "
                 "people; a person should review any prediction that matters.")
    return lines


def limitations(run: dict[str, Any], report: dict[str, Any], configs: dict[str, Any]) -> list[str]:
    """Honest, specific limits read off the report (sizes, truncation, baselines, weak classes)."""
    cfg = run["config"]
    out = []
    rows = split_rows(report)
    if rows.get("train"):
        small = " — a small set: expect the scores to move with a different split" \
            if rows["train"] < 1000 else ""
        out.append(f"Trained on {rows['train']:,} rows{small}.")
    source = str(cfg.get("data", {}).get("source", ""))
    description = _sample_description(_task(run["task"]), source)
    if description:
        out.append(f"Trained on the built-in sample {md_code(source)} ({md(description)}): a demonstration "
                   "model; real data from another domain, language or population will score lower.")
    out += _regression_limits(report)
    out += _classifier_limits(report, configs)
    trunc = report.get("truncation")
    if isinstance(trunc, dict) and trunc.get("max_length"):
        total = trunc.get("total", 0)
        out.append(f"Texts are cut at {trunc['max_length']} tokens (model.max_length); words after "
                   f"that are never seen. {fmt(total)} texts in this data set were truncated.")
    preprocess = find_config(configs, "preprocess")
    if isinstance(preprocess, dict) and preprocess.get("image_size"):
        size = preprocess["image_size"]
        out.append(f"Images are resized to {size}x{size} pixels; detail smaller than that is lost, "
                   "and photos unlike the training images (lighting, framing, camera) score lower.")
    return out


def _regression_limits(report: dict[str, Any]) -> list[str]:
    preds = report.get("test_predictions") or {}
    if not preds.get("true"):
        return []
    true = [float(x) for x in preds["true"]]
    out = [f"Out of distribution: predictions for rows unlike the training data (numbers outside "
           f"the training range, categories not seen in training) are extrapolations; test targets "
           f"spanned {fmt(min(true))} to {fmt(max(true))}."]
    test = (report.get("baselines") or {}).get("test") or {}
    ours = next((m for m in test if m not in ("linear", "mean")), None)
    if ours and "linear" in test and test["linear"].get("rmse", 1e300) < test[ours].get("rmse", 0):
        out.append(f"A plain linear (ridge) regression beats this network on test RMSE "
                   f"({fmt(test['linear']['rmse'])} vs {fmt(test[ours]['rmse'])}): prefer it, or train "
                   "longer / with more data before relying on the network.")
    if ours and "mean" in test and test["mean"].get("rmse", 0) <= test[ours].get("rmse", 0):
        out.append("The network does no better than always predicting the training mean.")
    return out


def _classifier_limits(report: dict[str, Any], configs: dict[str, Any]) -> list[str]:
    labels = labels_of(report, configs)
    if not labels:
        return []
    out = ["It always answers with one of its labels, even for inputs that belong to none of them "
           "(there is no 'other' class); check the confidence."]
    per_class = report.get("per_class") or []
    if per_class:
        weakest = min(per_class, key=lambda r: r.get("f1", 1.0))
        out.append(f"Weakest class: {md_code(weakest['label'])} (F1 {fmt(weakest.get('f1'))}, "
                   f"{fmt(weakest.get('support', 0))} test examples).")
    counts = (report.get("label_counts") or {}).get("train")
    if counts and min(counts) > 0 and max(counts) / min(counts) >= 3:
        out.append(f"Training labels are imbalanced (largest class {max(counts) / min(counts):.1f}x "
                   "the smallest); rare classes are predicted less reliably.")
    return out


def _task(kind: str) -> Any:
    from core.tasks import get_task

    try:
        return get_task(kind)
    except Exception:
        return None


def _task_title(kind: str) -> str:
    task = _task(kind)
    return getattr(task, "title", kind)


# --- the card --------------------------------------------------------------------------------------
def write_model_card(
    run: dict[str, Any],
    report: dict[str, Any],
    model_dir: Path | None = None,
    system: dict[str, float] | None = None,
    export_notes: Sequence[str] = (),
) -> str:
    """A Markdown model card for ``run`` (``RunStore.get_run``) and its ``report.json``.

    ``model_dir`` adds the parameter count, files and architecture; ``system`` adds training
    time and memory; ``export_notes`` lists what the export changed (masked values, left-out files).
    """
    configs = read_configs(model_dir)
    cfg = run["config"]
    name = md(run.get("name") or run["id"])
    parts = [f"# Model card: {name}", "",
             f"Exported from Loupe run `{run['id']}` ({run.get('status', '?')}, finished "
             f"{_when(run.get('finished_at'))}). Texts that came from the data are masked.", ""]
    parts += _section("Model details", _model_details(run, report, model_dir, configs))
    parts += _section("Data", _data_lines(run, report))
    parts += ["## Metrics", "", *_metrics_md(run, report), ""]
    parts += _section("Intended use", intended_use(run, report, configs))
    parts += _section("Limitations", limitations(run, report, configs))
    if export_notes:
        parts += _section("What this export changed", [md(n) for n in export_notes])
    parts += _section("Training configuration", _config_lines(cfg))
    parts += _section("Hardware and precision", _hardware(run, system or {}))
    parts += ["## How to load", "", *_how_to_load(run, configs, _artifact_files(run, model_dir)), ""]
    return "\n".join(parts).rstrip() + "\n"


def _section(title: str, lines: Sequence[str]) -> list[str]:
    if not lines:
        return []
    return [f"## {title}", "", *[f"- {line}" for line in lines], ""]


def _when(value: Any) -> str:
    return str(value)[:19] if value is not None and str(value) not in ("NaT", "None") else "—"


def _model_details(run: dict[str, Any], report: dict[str, Any], model_dir: Path | None,
                   configs: dict[str, Any]) -> list[str]:
    cfg = run["config"]
    lines = [f"Task: {_task_title(run['task'])} (`{run['task']}`)"]
    arch = find_config(configs, "architecture")
    if arch is None and isinstance(find_config(configs, "architectures"), list):
        arch = find_config(configs, "architectures")[0]
    base = find_config(configs, "base_model") or cfg.get("model", {}).get("name")
    same = not base or str(base) == str(arch)
    lines.append(f"Architecture: {md(arch or show_source(base or '—'), mask=False)}"
                 + ("" if same else f"; base model {md_code(show_source(base))}"))
    if cfg.get("model", {}).get("hidden_sizes") and report.get("target"):
        lines.append(f"Hidden layers: {', '.join(map(str, cfg['model']['hidden_sizes']))}")
    labels = labels_of(report, configs)
    if labels:
        lines.append(f"Labels ({len(labels)}): " + ", ".join(md_code(x) for x in labels[:50]))
    if report.get("target"):
        lines.append(f"Target: {md_code(report['target'])} (regression)")
    numeric, categorical = find_config(configs, "numeric") or [], find_config(configs, "categorical") or []
    if isinstance(numeric, list) and isinstance(categorical, list) and (numeric or categorical):
        cols = [*numeric, *categorical]
        lines.append(f"Input columns ({len(cols)}): " + ", ".join(md_code(c) for c in cols[:40])
                     + (f" and {len(cols) - 40} more" if len(cols) > 40 else "")
                     + f" ({len(categorical)} categorical, one-hot encoded)")
    weights = model_dir / "model.safetensors" if model_dir else None
    if weights is not None and weights.is_file():
        count, dtypes = safetensors_parameters(weights)
        lines.append(f"Parameters: {count:,} ({', '.join(dtypes)}), weights in safetensors")
    tags = run.get("tags") or []
    if tags:
        lines.append("Tags: " + ", ".join(md_code(t) for t in tags))
    if run.get("notes"):
        lines.append(f"Notes: {md(run['notes'])}")
    return lines


def _data_lines(run: dict[str, Any], report: dict[str, Any]) -> list[str]:
    data = run["config"].get("data", {})
    lines = [f"Source: {md_code(show_source(data.get('source')), mask=False)}"]
    if data.get("negative_source"):
        lines.append(f"Negative examples: {md_code(show_source(data['negative_source']), mask=False)}")
    if run.get("dataset_fingerprint"):
        lines.append(f"Fingerprint (sha256 of the content): `{run['dataset_fingerprint']}`")
    rows = split_rows(report)
    if rows:
        lines.append("Rows per split: " + ", ".join(f"{s} {rows[s]:,}" for s in ("train", "val", "test")
                                                     if s in rows))
    else:
        lines.append(f"Split fractions: validation {data.get('val_fraction')}, test "
                     f"{data.get('test_fraction')} (seed {data.get('seed')})")
    if data.get("max_rows"):
        lines.append(f"Sampled to at most {data['max_rows']:,} rows")
    lines += [f"Notice: {md(n)}" for n in report.get("notices") or []]
    return lines


def _metrics_md(run: dict[str, Any], report: dict[str, Any]) -> list[str]:
    table = metric_table(run.get("metrics") or {}, baseline_models(report))
    if not table:
        return ["No final metrics were recorded (the run did not complete)."]
    splits = [s for s in SPLITS if any(s in v for v in table.values())]
    lines = ["| metric | " + " | ".join(splits) + " |", "|---" * (len(splits) + 1) + "|"]
    for name, values in table.items():
        lines.append(f"| {md(name)} | " + " | ".join(fmt(values.get(s, "")) for s in splits) + " |")
    baselines = (report.get("baselines") or {}).get("test")
    if baselines:
        metrics = sorted({k for scores in baselines.values() for k in scores})
        lines += ["", "Baselines on the test split (same features):", "",
                  "| model | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
        for model, scores in baselines.items():
            lines.append(f"| {md(model)} | " + " | ".join(fmt(scores.get(m, "")) for m in metrics) + " |")
    per_class = report.get("per_class") or []
    if per_class:
        lines += ["", f"Per class ({report.get('split', 'test')} split):", "",
                  "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for row in per_class:
            lines.append(f"| {md(row['label'])} | {fmt(row.get('precision'))} | "
                         f"{fmt(row.get('recall'))} | {fmt(row.get('f1'))} | {fmt(row.get('support'))} |")
    return lines


def _config_lines(cfg: dict[str, Any]) -> list[str]:
    """One line per config section; the full config is ``run_config.json`` beside the weights."""
    masked = _masked_config(cfg)
    lines = []
    for section in ("train", "model", "data"):
        values = masked.get(section) or {}
        shown = ", ".join(f"{md(k, mask=False)}={md_code(json.dumps(v, ensure_ascii=False), mask=False)}"
                          for k, v in sorted(values.items()) if v is not None)
        lines.append(f"{section}: {shown}")
    return lines


def _masked_config(cfg: dict[str, Any]) -> dict[str, Any]:
    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return mask_message(value) if isinstance(value, str) else value

    masked = walk(cfg)
    for section, key in PATH_FIELDS:  # paths: relative to LOUPE_HOME or the masked file name
        value = (cfg.get(section) or {}).get(key)
        if isinstance(value, str) and value and (key != "name" or "/" in value or "\\" in value):
            masked.setdefault(section, {})[key] = show_source(value)
    return masked


def _hardware(run: dict[str, Any], system: dict[str, float]) -> list[str]:
    device, precision = str(run.get("device") or "—"), str(run.get("precision") or "—")
    lines = [f"Device: {device}" + ("" if precision in device else f"; precision: {precision}")]
    if system.get("train_seconds"):
        lines.append(f"Training time: {system['train_seconds']:.1f} s over "
                     f"{fmt(int(system.get('optimizer_steps', 0)))} optimizer steps "
                     f"({system.get('samples_per_s', 0):,.0f} samples/s)")
    if system.get("tokens_per_s"):
        lines.append(f"Throughput: {system['tokens_per_s']:,.0f} tokens/s")
    if system.get("peak_memory_mb"):
        lines.append(f"Peak memory: {system['peak_memory_mb']:,.0f} MB")
    if system.get("processes", 1) > 1:
        lines.append(f"Processes: {int(system['processes'])}")
    return lines


def _artifact_files(run: dict[str, Any], model_dir: Path | None) -> dict[str, str]:
    """The task's description of its model folder (``Task.artifact_files``), files present only."""
    task = _task(run["task"])
    described = getattr(task, "artifact_files", None) or {}
    if model_dir is None or not model_dir.is_dir():
        return {}
    return {name: what for name, what in described.items() if (model_dir / name).is_file()}


def _how_to_load(run: dict[str, Any], configs: dict[str, Any], files: dict[str, str]) -> list[str]:
    kind = run["task"]
    lines = [
        "With Loupe installed, from the run history on the machine that trained it:", "",
        "```python", "from pathlib import Path", "", "from core.predict import load_predictor", "",
        f'predictor = load_predictor("{run["id"]}")',
        'print(predictor.predict(predictor.load_inputs(Path("inputs"))))  # a file of inputs',
        "```", "",
        "From this exported folder, on any machine with Loupe:", "",
        "```python", "from pathlib import Path", "", "from core.tasks import get_task", "",
        f'predictor = get_task("{kind}").load_predictor(Path("path/to/this/folder"))',
        'print(predictor.predict(predictor.load_inputs(Path("inputs"))))',
        "```", "",
        "The weights alone, without Loupe (plain safetensors, no pickle):", "",
        "```python", "from safetensors.torch import load_file", "",
        'state_dict = load_file("model.safetensors")  # name -> tensor',
        "```",
    ]
    hf = configs.get("config.json", {})
    if isinstance(hf, dict) and hf.get("architectures"):
        lines += ["", "This folder is also a Hugging Face model folder:", "", "```python",
                  "from transformers import AutoModelForSequenceClassification, AutoTokenizer", "",
                  'model = AutoModelForSequenceClassification.from_pretrained("path/to/this/folder")',
                  'tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")', "```"]
    if files:
        lines += ["", "What this folder holds:", ""]
        lines += [f"- `{name}`: {md(what, mask=False)}" for name, what in files.items()]
    return lines
