"""A text classifier served from a deploy bundle with its runtime packages only (no torch, no
transformers): the folder's ``tokenizer.json`` read by ``tokenizers``, the ONNX model run by
onnxruntime, and the same output frame as ``TextPredictor.predict`` (texts masked).

``TextRequests`` is the request check the Loupe server and the bundle's server share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import LoupeError

META_FILE = "loupe_text.json"
TOKENIZER_FILE = "tokenizer.json"
CHARS_PER_TOKEN = 24  # texts are cut to max_length * 24 characters before tokenizing
BATCH = 32


def json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", bool: "true/false", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


class TextRequests:
    """One text of a JSON request, checked."""

    max_chars = 20_000

    def request_input(self, value: Any, field: str) -> str:
        if not isinstance(value, str):
            raise LoupeError(f"{field} must be a text (a JSON string), not {json_type(value)}.",
                             'send e.g. {"input": "The battery lasts all day."}.')
        if len(value) > self.max_chars:
            raise LoupeError(f"{field} has {len(value):,} characters; the limit is {self.max_chars:,}.",
                             "send a shorter text (the model reads only its first tokens anyway).")
        return value

    def request_example(self, predictor: Any) -> str:
        return "The battery lasts all day and the screen is bright."


class TextServing(TextRequests):
    """The bundle's text model: ``predict(texts)`` -> the Predict page's frame."""

    requirements = ("tokenizers>=0.19,<1",)

    def __init__(self, folder: Path, session: Any) -> None:
        from tokenizers import Tokenizer

        meta = json.loads((folder / META_FILE).read_text())
        self.labels: list[str] = list(meta["labels"])
        self.max_length = int(meta["max_length"])
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self.pad_id = _pad_id(folder, self.tokenizer)
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        self.session = session
        self.input_names = {i.name for i in session.get_inputs()}

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        limit = self.max_length * CHARS_PER_TOKEN
        ids = [e.ids for e in self.tokenizer.encode_batch([t[:limit] for t in texts])]
        probs = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        order = np.argsort([-len(row) for row in ids], kind="stable")
        for start in range(0, len(order), BATCH):
            rows = order[start:start + BATCH]
            width = max(len(ids[i]) for i in rows)
            input_ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                input_ids[r, :len(ids[i])], mask[r, :len(ids[i])] = ids[i], 1
            feeds = {"input_ids": input_ids, "attention_mask": mask}
            logits = np.asarray(self.session.run(None, {k: v for k, v in feeds.items()
                                                        if k in self.input_names})[0], dtype=np.float32)
            exp = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs[rows] = exp / exp.sum(axis=1, keepdims=True)
        return probs

    def predict(self, inputs: list[str]) -> pd.DataFrame:
        from core.privacy import mask_text

        texts = list(inputs)
        probs = self.predict_proba(texts)
        frame = pd.DataFrame({"text": [mask_text(t) for t in texts],
                              "prediction": [self.labels[i] for i in probs.argmax(axis=1)],
                              "confidence": probs.max(axis=1)})
        for j, label in enumerate(self.labels):
            frame[f"p_{label}"] = probs[:, j]
        return frame


def _pad_id(folder: Path, tokenizer: Any) -> int:
    """The pad token's id: named in ``tokenizer_config.json``, else the tokenizer's padding."""
    try:
        token = json.loads((folder / "tokenizer_config.json").read_text()).get("pad_token")
        token = token.get("content") if isinstance(token, dict) else token
        if isinstance(token, str) and tokenizer.token_to_id(token) is not None:
            return int(tokenizer.token_to_id(token))
    except (OSError, ValueError):
        pass
    return int((tokenizer.padding or {}).get("pad_id", 0))
