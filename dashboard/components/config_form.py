"""The training-config form: main hyperparameters up front, advanced ones folded away.

Built inside ``st.form`` so typing in a field never reruns the page; the values become a
``RunConfig`` through its strict ``from_dict`` (a bad value is a LoupeError the page shows).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.config import RunConfig
from core.errors import LoupeError
from dashboard.components.kinds import DEFAULT_MODEL_FIELDS, MODEL_FIELDS, MODEL_NAME_HELP

DEVICES = ["auto", "cpu", "cuda"]
PRECISIONS = ["auto", "bf16", "fp16", "fp32"]
HELP = {
    "epochs": "Passes over the training data. Early stopping may end training sooner.",
    "batch_size": "Examples per optimizer step (before gradient accumulation). Larger is faster on a "
                  "GPU but needs more memory.",
    "lr": "Peak learning rate of AdamW (after warm-up, then decayed linearly to zero).",
    "patience": "Stop after this many epochs without improvement of the validation metric; 0 never stops.",
    "weight_decay": "AdamW weight decay (not applied to biases and norms).",
    "warmup_ratio": "Share of steps over which the learning rate ramps up from zero.",
    "grad_accum": "Accumulate gradients over this many batches per optimizer step (bigger effective batch).",
    "max_grad_norm": "Clip the gradient norm to this value; 0 turns clipping off.",
    "max_steps": "Stop after this many optimizer steps (0 = no limit). Handy for quick checks.",
    "device": "auto picks the GPU when there is one.",
    "precision": "auto: bf16 where the GPU supports it, fp16 with loss scaling otherwise, fp32 on CPU.",
    "num_workers": "Data-loading worker processes; 0 loads in the training process.",
    "seed": "Seed for shuffling, initialisation and the data split (same seed, same run).",
    "val_fraction": "Share of rows held out to pick the best epoch.",
    "test_fraction": "Share of rows held out for the final, untouched score.",
    "max_rows": "Use a random sample of this many rows (0 = all).",
    "hidden_sizes": "Units per hidden layer of the MLP, e.g. 128,64.",
    "dropout": "Dropout probability in the model head.",
    "max_length": "Tokens kept per text; longer texts are truncated (the report counts them).",
    "image_size": "Side of the square model input in pixels.",
    "freeze_backbone": "Train only the new classification head (faster, less accurate).",
    "pretrained": "Start from pretrained weights where the model has them.",
    "tags": "Comma-separated labels to find the run later, e.g. baseline, small.",
}


def config_form(cfg: RunConfig, key: str) -> tuple[RunConfig | None, str | None]:
    """Render the form for ``cfg`` (defaults); returns (edited config, "check"|"start") on submit."""
    t, m, d = cfg.train, cfg.model, cfg.data
    fields = MODEL_FIELDS.get(cfg.task, DEFAULT_MODEL_FIELDS)
    with st.form(f"config_{key}", border=True):
        c1, c2 = st.columns([2, 1])
        name = c1.text_input("Run name", value=cfg.name, key=f"{key}_name",
                             placeholder="(automatic)", help="A readable name for the run history.")
        model_name = c2.text_input("Model", value=m.name, key=f"{key}_model",
                                   help=MODEL_NAME_HELP.get(cfg.task, "A model name for this kind."))
        c1, c2, c3, c4 = st.columns(4)
        epochs = c1.number_input("Epochs", 1, 10_000, t.epochs, key=f"{key}_epochs", help=HELP["epochs"])
        batch = c2.number_input("Batch size", 1, 65_536, t.batch_size, key=f"{key}_batch",
                                help=HELP["batch_size"])
        lr = c3.number_input("Learning rate", 1e-7, 10.0, float(t.lr), step=1e-4, format="%.2e",
                             key=f"{key}_lr", help=HELP["lr"])
        patience = c4.number_input("Patience", 0, 1000, t.patience, key=f"{key}_patience",
                                   help=HELP["patience"])
        with st.expander("Advanced settings"):
            a1, a2, a3, a4 = st.columns(4)
            wd = a1.number_input("Weight decay", 0.0, 10.0, float(t.weight_decay), format="%.4g",
                                 key=f"{key}_wd", help=HELP["weight_decay"])
            warm = a2.number_input("Warm-up ratio", 0.0, 0.9, float(t.warmup_ratio), key=f"{key}_warm",
                                   help=HELP["warmup_ratio"])
            accum = a3.number_input("Gradient accumulation", 1, 1024, t.grad_accum, key=f"{key}_accum",
                                    help=HELP["grad_accum"])
            clip = a4.number_input("Max grad norm", 0.0, 1e6, float(t.max_grad_norm), key=f"{key}_clip",
                                   help=HELP["max_grad_norm"])
            max_steps = a1.number_input("Max steps", 0, 10**9, t.max_steps or 0, key=f"{key}_steps",
                                        help=HELP["max_steps"])
            device = a2.selectbox("Device", DEVICES, _index(DEVICES, t.device), key=f"{key}_device",
                                  help=HELP["device"])
            precision = a3.selectbox("Precision", PRECISIONS, _index(PRECISIONS, t.precision),
                                     key=f"{key}_precision", help=HELP["precision"])
            workers = a4.number_input("Loader workers", 0, 64, t.num_workers, key=f"{key}_workers",
                                      help=HELP["num_workers"])
            seed = a1.number_input("Seed", 0, 2**31 - 1, t.seed, key=f"{key}_seed", help=HELP["seed"])
            val = a2.number_input("Validation share", 0.01, 0.5, float(d.val_fraction), key=f"{key}_val",
                                  help=HELP["val_fraction"])
            test = a3.number_input("Test share", 0.0, 0.5, float(d.test_fraction), key=f"{key}_test",
                                   help=HELP["test_fraction"])
            max_rows = a4.number_input("Max rows", 0, 10**9, d.max_rows or 0, key=f"{key}_rows",
                                       help=HELP["max_rows"])
            model_values = _model_fields(m, fields, key)
            tags = st.text_input("Tags", ", ".join(cfg.tags), key=f"{key}_tags", help=HELP["tags"])
        b1, b2, _ = st.columns([1, 1, 3])
        check = b1.form_submit_button("Check data", help="Load and validate the data without training.")
        start = b2.form_submit_button("Start training", type="primary")
    if not (check or start):
        return None, None
    raw = cfg.to_dict()
    raw["name"] = name.strip()
    raw["tags"] = [x.strip() for x in tags.split(",") if x.strip()]
    for field, value in model_values.items():
        if isinstance(getattr(m, field), tuple):
            model_values[field] = _int_list(value, field)
    raw["model"].update({"name": model_name.strip(), **model_values})
    raw["train"].update({"epochs": int(epochs), "batch_size": int(batch), "lr": float(lr),
                         "patience": int(patience), "weight_decay": float(wd), "warmup_ratio": float(warm),
                         "grad_accum": int(accum), "max_grad_norm": float(clip),
                         "max_steps": int(max_steps) or None, "device": device, "precision": precision,
                         "num_workers": int(workers), "seed": int(seed)})
    raw["data"].update({"val_fraction": float(val), "test_fraction": float(test),
                        "max_rows": int(max_rows) or None, "seed": int(seed)})
    return RunConfig.from_dict(raw), "start" if start else "check"


def _model_fields(m: Any, fields: list[str], key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cols = st.columns(max(len(fields), 1))
    for col, field in zip(cols, fields, strict=False):
        value = getattr(m, field)
        label = field.replace("_", " ").capitalize()
        if isinstance(value, bool):
            out[field] = col.checkbox(label, value, key=f"{key}_{field}", help=HELP.get(field))
        elif isinstance(value, tuple):
            text = col.text_input(label, ",".join(map(str, value)), key=f"{key}_{field}",
                                  help=HELP.get(field))
            out[field] = text  # parsed after submit, so a typo is an error message, not a crash
        elif isinstance(value, float):
            out[field] = col.number_input(label, 0.0, 0.95, value, key=f"{key}_{field}", help=HELP.get(field))
        else:
            out[field] = int(col.number_input(label, 1, 100_000, int(value), key=f"{key}_{field}",
                                              help=HELP.get(field)))
    return out


def _int_list(text: str, field: str) -> list[int]:
    try:
        values = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise LoupeError(f"'{text}' is not a list of whole numbers for {field}.",
                         "write sizes separated by commas, e.g. 128,64.") from None
    if not values or min(values) < 1:
        raise LoupeError(f"{field} needs at least one positive size.", "write e.g. 128,64.")
    return values


def _index(options: list[str], value: str) -> int:
    return options.index(value) if value in options else 0
