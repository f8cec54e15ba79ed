"""Model settings per kind for the config form, and the headline metric.

Everything else a kind shows on the pages is its own ``dashboard/kinds/<kind>.py`` (``view_for``).
"""

from __future__ import annotations

# ModelConfig fields that matter per kind (the rest keep their defaults).
MODEL_FIELDS: dict[str, list[str]] = {
    "tabular": ["hidden_sizes", "dropout"],
    "text": ["max_length", "dropout", "freeze_backbone"],
    "image": ["image_size", "dropout", "freeze_backbone", "pretrained"],
}
DEFAULT_MODEL_FIELDS = ["hidden_sizes", "dropout", "max_length", "image_size", "freeze_backbone",
                        "pretrained"]
MODEL_NAME_HELP: dict[str, str] = {
    "tabular": "mlp: a multilayer perceptron over the encoded columns.",
    "text": "minilm (bundled, offline), a Hugging Face model id or a local model folder.",
    "image": "small_cnn (tiny images), efficientnet_lite0 (bundled ImageNet weights), a Hugging Face "
             "id or a local model folder.",
}


def headline_metric(kind: str) -> str:
    """Final metric shown first in tables and pickers (the task's own; test_loss for unknown kinds)."""
    from core.tasks import get_task, task_kinds

    return get_task(kind).headline_metric if kind in task_kinds() else "test_loss"
