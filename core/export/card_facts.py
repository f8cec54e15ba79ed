"""Facts a model card and the HTML report read off a run: sizes, labels, metrics, configs.

Pure functions over the run row, ``report.json`` and the artifact's JSON files; nothing here
reads the data itself.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SPLITS = ("test", "val", "train")
HEADLINE = ("loss", "accuracy", "macro_f1", "roc_auc", "top3_accuracy", "top5_accuracy",
            "rmse", "mae", "r2")
PER_CLASS_PREFIXES = ("precision_", "recall_", "f1_")
TOKENIZER_PREFIXES = ("tokenizer", "vocab", "merges", "special_tokens_map", "added_tokens", "spiece")


# --- facts read off the run ----------------------------------------------------------------------
def safetensors_parameters(path: Path) -> tuple[int, list[str]]:
    """(parameter count, dtypes) from a safetensors header, without loading the weights."""
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
    count, dtypes = 0, set()
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        size = 1
        for dim in entry["shape"]:
            size *= int(dim)
        count += size
        dtypes.add(entry["dtype"])
    return count, sorted(dtypes)


def read_configs(model_dir: Path | None) -> dict[str, Any]:
    """The artifact's small JSON files by relative path (tokenizer files left out)."""
    out: dict[str, Any] = {}
    if model_dir is None or not model_dir.is_dir():
        return out
    for path in sorted(model_dir.rglob("*.json")):
        if path.name.startswith(TOKENIZER_PREFIXES) or path.stat().st_size > 1_000_000:
            continue
        try:
            out[path.relative_to(model_dir).as_posix()] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return out


def find_config(configs: dict[str, Any], *keys: str) -> Any:
    for config in configs.values():
        if isinstance(config, dict):
            for key in keys:
                if config.get(key) not in (None, "", []):
                    return config[key]
    return None


def labels_of(report: dict[str, Any], configs: dict[str, Any] | None = None) -> list[str]:
    for source in (report.get("confusion_matrix"), report.get("label_counts")):
        if isinstance(source, dict) and source.get("labels"):
            return [str(x) for x in source["labels"]]
    found = find_config(configs or {}, "labels")
    return [str(x) for x in found] if isinstance(found, list) else []


def split_rows(report: dict[str, Any]) -> dict[str, int]:
    """Rows per split, from whatever the report recorded."""
    for key in ("split_rows", "rows"):
        if isinstance(report.get(key), dict):
            return {s: int(v) for s, v in report[key].items() if s in SPLITS}
    counts = report.get("label_counts")
    if isinstance(counts, dict):
        return {s: int(sum(counts[s])) for s in ("train", "val", "test") if s in counts}
    return {}


def metric_table(metrics: dict[str, Any], baseline_models: Iterable[str] = ()) -> dict[str, dict[str, float]]:
    """{metric: {split: value}} for the headline metrics (per-class and baseline keys left out)."""
    suffixes = tuple(f"_{m}" for m in baseline_models)
    table: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        split, _, name = key.partition("_")
        if split not in SPLITS or not name or name.startswith(PER_CLASS_PREFIXES):
            continue
        if suffixes and name.endswith(suffixes):
            continue
        table.setdefault(name, {})[split] = value
    order = {name: i for i, name in enumerate(HEADLINE)}
    return dict(sorted(table.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def baseline_models(report: dict[str, Any]) -> list[str]:
    baselines = report.get("baselines") or {}
    models = {m for per_split in baselines.values() for m in per_split}
    return sorted(models)


def fmt(value: Any) -> str:
    """Numbers for people: 4 significant digits, thousands separators for big ones."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if value != value:  # NaN
        return "n/a"
    if isinstance(value, int) or (abs(value) >= 1000 and float(value).is_integer()):
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"
