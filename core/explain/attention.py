"""Attention views for text runs: per layer and head matrices, rollout, and a readable summary.

Why eager attention: PyTorch's SDPA kernels never materialise the attention weights, so a model
loaded for prediction cannot return them. This view alone loads (or copies) the model with
``attn_implementation="eager"``; prediction keeps the fast kernels.

Rollout (Abnar & Zuidema, 2020): average the heads of each layer, add the identity for the
residual stream, re-normalise rows, and multiply the layers through — row i of the result says
how much each input token flows into position i at the top of the network.

Long inputs: the model reads at most the run's ``max_length`` tokens (a notice says when a text
was cut); the summary ranks heads so a reader starts from the few that matter, and figures take a
token window.
"""

from __future__ import annotations

import copy
import weakref
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from core.explain.common import prediction_summary
from core.explain.result import Explanation

ATTENTION_DECIMALS = 6  # stored precision: rows still sum to 1 within 1e-4 at 512 tokens
_SPECIAL = {"[CLS]", "[SEP]", "<s>", "</s>", "[PAD]", "<pad>"}
_EAGER_COPIES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


# --- pure functions on arrays -------------------------------------------------------------
def rollout(attentions: np.ndarray, residual: bool = True) -> np.ndarray:
    """Attention rollout over layers: ``attentions`` is (layers, heads, T, T) -> (T, T).

    Each layer: mean over heads, plus identity (residual), rows re-normalised; then
    R = A_L @ ... @ A_1. Rows of R sum to 1.
    """
    att = np.asarray(attentions, dtype=np.float64)
    if att.ndim != 4 or att.shape[-1] != att.shape[-2]:
        raise ValueError(f"attentions must be (layers, heads, T, T); got shape {att.shape}")
    tokens = att.shape[-1]
    result = np.eye(tokens)
    for layer in att:
        a = layer.mean(axis=0)
        if residual:
            a = a + np.eye(tokens)
        a = a / a.sum(axis=-1, keepdims=True)
        result = a @ result
    return result


def row_entropy(matrix: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of each row of an attention matrix (..., T, T) -> (..., T)."""
    p = np.clip(np.asarray(matrix, dtype=np.float64), 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=-1)


def head_summary(attentions: np.ndarray, tokens: list[str]) -> pd.DataFrame:
    """One row per (layer, head): how focused it is and where it looks.

    ``entropy`` is the mean row entropy; ``focus`` = 1 - entropy / log(T) (1: every token looks at
    one token; 0: uniform). ``top_token`` is the token that receives the most attention on average;
    ``pattern`` names the dominant simple pattern when one holds over half the weight
    (self, previous, next, first token, separators), else "mixed".
    """
    att = np.asarray(attentions, dtype=np.float64)
    layers, heads, t, _ = att.shape
    entropy = row_entropy(att).mean(axis=-1)  # (L, H)
    received = att.mean(axis=2)  # (L, H, T): attention each token receives, averaged over queries
    special = np.array([tok.strip() in _SPECIAL for tok in tokens], dtype=bool)
    idx = np.arange(t)
    patterns = {
        "self": att[..., idx, idx].mean(axis=-1),
        "previous": att[..., idx[1:], idx[1:] - 1].sum(axis=-1) / max(t, 1) if t > 1 else 0 * entropy,
        "next": att[..., idx[:-1], idx[:-1] + 1].sum(axis=-1) / max(t, 1) if t > 1 else 0 * entropy,
        "first token": att[..., :, 0].mean(axis=-1),
        "separators": att[..., :, special & (idx > 0)].sum(axis=-1).mean(axis=-1),
    }
    names = list(patterns)
    stacked = np.stack([np.broadcast_to(patterns[n], entropy.shape) for n in names], axis=-1)
    rows = []
    max_entropy = np.log(t) if t > 1 else 1.0
    for layer in range(layers):
        for head in range(heads):
            top = int(received[layer, head].argmax())
            content = np.where(special, -1.0, received[layer, head])
            top_content = int(content.argmax()) if (~special).any() else top
            best = int(stacked[layer, head].argmax())
            share = float(stacked[layer, head, best])
            rows.append({
                "layer": layer, "head": head,
                "entropy": float(entropy[layer, head]),
                "focus": float(1.0 - entropy[layer, head] / max_entropy) if t > 1 else 1.0,
                "top_token": tokens[top], "top_index": top,
                "top_weight": float(received[layer, head, top]),
                "top_content_token": tokens[top_content], "top_content_index": top_content,
                "top_content_weight": float(received[layer, head, top_content]),
                "pattern": names[best] if share > 0.5 else "mixed", "pattern_share": share,
            })
    return pd.DataFrame(rows)


def top_heads(summary: pd.DataFrame, n: int = 8, content_only: bool = True) -> pd.DataFrame:
    """The ``n`` most focused heads — by default among those whose main target is a real token
    (heads parked on [CLS]/[SEP] are the usual 'no-op' heads and tell the reader little)."""
    frame = summary
    if content_only:
        keep = frame["pattern"].isin(["mixed", "self", "previous", "next"])
        frame = frame[keep] if keep.any() else frame
    return frame.sort_values("focus", ascending=False).head(n).reset_index(drop=True)


def window(matrix: np.ndarray, start: int = 0, size: int | None = None) -> tuple[np.ndarray, slice]:
    """A square token window of a (…, T, T) matrix, for readable views of long inputs."""
    t = matrix.shape[-1]
    size = t if size is None else max(1, min(int(size), t))
    start = max(0, min(int(start), t - size))
    cut = slice(start, start + size)
    return matrix[..., cut, cut], cut


# --- the model side ---------------------------------------------------------------------------
@lru_cache(maxsize=2)
def _eager_from_folder(folder: str, mtime: float) -> Any:
    from core.models import text_models as tm

    return tm.load_for_attention(folder)


def eager_model(predictor: Any, folder: str | Path | None = None) -> Any:
    """The run's classifier with eager attention: reloaded from its artifact folder when known,
    else a copy of the predictor's model switched to eager (the predictor keeps SDPA)."""
    if folder is not None:
        path = Path(folder)
        model = _eager_from_folder(str(path), (path / "config.json").stat().st_mtime)
    else:
        model = _EAGER_COPIES.get(predictor.model)
        if model is None:
            model = copy.deepcopy(predictor.model)
            model.set_attn_implementation("eager")
            _EAGER_COPIES[predictor.model] = model
    return model.to(predictor.runtime.device).eval()


def explain_attention(predictor: Any, text: str, run_id: str = "", model: Any = None,
                      max_length: int | None = None) -> Explanation:
    """Attention matrices, rollout and head summary of one text (masked tokens)."""
    from core.models import text_models as tm
    from core.privacy import mask_tokens
    from core.runtime import inference_mode

    model = model if model is not None else eager_model(predictor)
    limit = int(max_length or predictor.meta.get("max_length") or 512)
    ids, truncated = tm.encode_texts(predictor.tokenizer, [text], limit)
    notices = []
    if truncated[0]:
        full = len(predictor.tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])
        notices.append(f"The text is longer than the model reads ({full:,} tokens, max_length {limit}); "
                       f"only the first {limit} tokens are shown.")
    batch = predictor.runtime.to_device({"input_ids": torch.tensor([ids[0]]),
                                         "attention_mask": torch.ones(1, len(ids[0]), dtype=torch.long)})
    with inference_mode(predictor.runtime):
        out = model(**batch, output_attentions=True)
    if not out.attentions or out.attentions[0] is None:
        raise RuntimeError("The model returned no attention weights; it must run with eager attention.")
    att = torch.stack([a[0].float() for a in out.attentions]).cpu().numpy()  # (L, H, T, T)
    probs = torch.softmax(out.logits[0].float(), -1).cpu().numpy()
    tokens = mask_tokens(predictor.tokenizer.convert_ids_to_tokens(ids[0]))
    summary = head_summary(att, tokens)
    roll = rollout(att)
    flow = pd.DataFrame({"position": np.arange(len(tokens)), "token": tokens,
                         "rollout_from_first": roll[0], "received": att.mean(axis=(0, 1, 2))})
    labels = list(predictor.labels)
    return Explanation(
        run_id=run_id, kind="text", method="attention",
        prediction=prediction_summary(probs, labels), labels=labels, tokens=tokens,
        arrays={"attentions": att.astype(np.float32), "rollout": roll.astype(np.float32)},
        frames={"heads": summary, "tokens": flow},
        info={"layers": int(att.shape[0]), "heads": int(att.shape[1]), "length": len(tokens),
              "truncated": bool(truncated[0]),
              "decimals": {"attentions": ATTENTION_DECIMALS, "rollout": ATTENTION_DECIMALS}},
        notices=notices,
    )
