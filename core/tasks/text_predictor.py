"""A fine-tuned text classifier reloaded from its model folder (``loupe_text.json``,
``label_map.json``, the transformers folder), predicting on texts, lists or files of texts.
Inputs are sorted by length and batched under a token budget; every text it returns is masked
(``core.privacy.mask_text``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.datasets.texts import decode_text, pick_text_column, read_text_frame
from core.errors import LoupeError
from core.models import text_models as tm
from core.runtime import Runtime, inference_mode, inference_runtime
from core.tasks.base import Predictor, join_predictions
from core.tasks.text_serving import META_FILE

__all__ = ["META_FILE", "TextPredictor"]
LABELS_FILE = "label_map.json"


def _masked(text: str, limit: int | None = None) -> str:
    """Shorten, then mask (``mask_shortened`` masks an entity crossing the cut whole)."""
    from core.privacy import mask_shortened, mask_text

    return mask_text(text) if limit is None else mask_shortened(text, limit)


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "module", model)  # DDP-wrapped models keep the real one in .module


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
        # On an accelerator the returned texts are masked on a side thread while the model runs
        # (waiting on the GPU frees the CPU); on a CPU the model needs every core.
        self.mask_alongside = runtime.device.type != "cpu"

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
        """One row per text: the text, masked, then the prediction and class probabilities
        (masked alongside the model when ``mask_alongside``, else after it)."""
        from core.privacy import mask_texts

        texts = _as_texts(inputs)
        if not self.mask_alongside or len(texts) < 2:
            frame = self._frame(texts, self.predict_proba(texts, batch_size))
            frame.insert(0, "text", mask_texts(texts))
            return frame
        with ThreadPoolExecutor(1, thread_name_prefix="loupe-mask") as pool:
            shown = pool.submit(mask_texts, texts)
            frame = self._frame(texts, self.predict_proba(texts, batch_size))
            frame.insert(0, "text", shown.result())
        return frame

    def _frame(self, texts: list[str], probs: np.ndarray) -> pd.DataFrame:
        """Predictions without the texts (callers that show texts add them masked)."""
        pred = probs.argmax(axis=1) if len(texts) else np.zeros(0, dtype=int)
        frame = pd.DataFrame({
            "prediction": [self.labels[i] for i in pred],
            "confidence": probs.max(axis=1) if len(texts) else np.zeros(0, dtype=np.float32),
        })
        for j, label in enumerate(self.labels):
            frame[f"p_{label}"] = probs[:, j]
        frame.attrs["truncated"] = self.last_truncated
        return frame

    def load_inputs(self, path: Path) -> list[str]:
        frame, column = self._input_frame(Path(path))
        return [str(v) for v in frame[column].tolist() if _has_text(v)]

    def predict_file(self, path: Path) -> pd.DataFrame:
        """Every row of the user's file with its own columns kept as they were (a label column
        stays, the text column keeps its name), then the predictions; a row without text gets
        none, and a notice says how many."""
        frame, column = self._input_frame(Path(path))
        keep = [_has_text(v) for v in frame[column].tolist()]
        texts = [str(v) for v, ok in zip(frame[column].tolist(), keep, strict=True) if ok]
        result = self._frame(texts, self.predict_proba(texts))  # its texts are the user's column
        result.index = frame.index[keep]
        result = result.reindex(frame.index)
        if not all(keep):
            result.attrs["notices"] = [f"{len(keep) - sum(keep):,} of {len(keep):,} rows have no "
                                       f"text in column '{column}': they get no prediction."]
        return self.mark_truth(join_predictions(frame, result))

    def truth_column(self, frame: pd.DataFrame) -> str | None:
        """The training file's label column, else a column whose values are (at least 80% of
        them) the model's classes: a file that calls its labels 'sentiment'; the rest are named
        as labels the model does not know."""
        if self.meta.get("label_column") in frame.columns:
            return str(self.meta["label_column"])
        for column in frame.columns:
            values = frame[column].dropna().astype(str).str.strip()
            values = values[values != ""]
            if len(values) and values.isin(self.labels).mean() >= 0.8:
                return str(column)
        return None

    def _input_frame(self, path: Path) -> tuple[pd.DataFrame, str]:
        """The file as a table and its text column: one text per line of a .txt file (column
        ``text``), else the column the model was trained on, else the best guess."""
        if path.suffix.lower() in (".txt", ".text", ""):
            if not path.is_file():
                raise LoupeError(f"The file {path} does not exist.", "check the path.")
            lines = decode_text(path.read_bytes(), path).splitlines()
            frame, column = pd.DataFrame({"text": [ln.strip() for ln in lines if ln.strip()]}), "text"
        else:
            frame = read_text_frame(path).frame
            column = self.meta.get("text_column")
            if column not in frame.columns:
                column = pick_text_column(frame, str(path), None)
        if not any(_has_text(v) for v in frame[column].tolist()):
            raise LoupeError(f"{path} holds no texts to predict.",
                             "give one text per line (.txt) or a table with a text column.")
        return frame, column


def _has_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


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
