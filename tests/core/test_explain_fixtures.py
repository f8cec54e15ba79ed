"""Tiny trained runs shared by the explainability tests (no tests here; each trains in seconds).

Each helper trains a real run through ``core.train.train`` into the given store, so the tests
exercise the whole path: run store -> artifact -> ``load_predictor`` -> ``explain``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from core.store import RunStore


def runs_in_home(home: Path, build: Callable[[RunStore, Path], dict[str, str]]) -> dict[str, str]:
    """``build(store, home)``'s run ids (plus "home") trained into a history of their own at
    ``home``, with LOUPE_HOME pointing there only while they train (for module fixtures)."""
    old = os.environ.get("LOUPE_HOME")
    os.environ["LOUPE_HOME"] = str(home)
    try:
        return {"home": str(home), **build(RunStore(home / "loupe.duckdb"), home)}
    finally:
        os.environ.pop("LOUPE_HOME") if old is None else os.environ.__setitem__("LOUPE_HOME", old)


def train_run(cfg: RunConfig, store: RunStore) -> str:
    from core.train import train

    result = train(cfg, store)
    assert result.status == "completed", result
    return result.run_id


def linear_tabular_run(store: RunStore) -> str:
    """diabetes (10 numeric columns) with hidden_sizes=(): the MLP is one Linear layer."""
    cfg = RunConfig(task="tabular", name="linear",
                    data=DataConfig(source="sample:diabetes", target="progression"),
                    model=ModelConfig(name="mlp", hidden_sizes=(), dropout=0.0),
                    train=TrainConfig(epochs=40, max_steps=40, batch_size=64, lr=0.05, device="cpu",
                                      patience=0))
    return train_run(cfg, store)


def categorical_tabular_run(store: RunStore) -> str:
    """house_prices (4 numeric + 2 categorical columns -> one-hot groups), a non-linear MLP."""
    cfg = RunConfig(task="tabular", name="houses",
                    data=DataConfig(source="sample:house_prices", target="price", max_rows=600),
                    model=ModelConfig(name="mlp", hidden_sizes=(16,), dropout=0.0),
                    train=TrainConfig(epochs=3, max_steps=20, batch_size=64, lr=0.01, device="cpu",
                                      patience=0))
    return train_run(cfg, store)


def tiny_text_model(folder: Path) -> Path:
    """A 2-layer, 2-head BERT with the packaged MiniLM tokenizer (random weights, 1M params)."""
    from transformers import BertConfig, BertForSequenceClassification

    from core.models import text_models as tm

    tokenizer = tm.load_tokenizer("minilm")
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def text_run(store: RunStore, model_dir: Path) -> str:
    """A few dozen sample reviews, max_length 32, three optimizer steps."""
    cfg = RunConfig(task="text", name="tiny-text",
                    data=DataConfig(source="sample:reviews", max_rows=48),
                    model=ModelConfig(name=str(model_dir), max_length=32, dropout=0.0),
                    train=TrainConfig(epochs=1, max_steps=3, batch_size=16, lr=1e-3, device="cpu",
                                      patience=0))
    return train_run(cfg, store)


def image_run(store: RunStore) -> str:
    """The small CNN on generated shapes at 32 px, three optimizer steps."""
    cfg = RunConfig(task="image", name="tiny-shapes",
                    data=DataConfig(source="sample:shapes", max_rows=90),
                    model=ModelConfig(name="small_cnn", image_size=32, dropout=0.0, pretrained=False),
                    train=TrainConfig(epochs=1, max_steps=3, batch_size=32, lr=3e-3, device="cpu",
                                      patience=0))
    return train_run(cfg, store)


def tree_tabular_run(store: RunStore) -> str:
    """house_prices (skewed price: the log-scale fit is tried; 2 categorical columns), LightGBM."""
    cfg = RunConfig(task="tabular", name="houses-trees",
                    data=DataConfig(source="sample:house_prices", target="price", max_rows=300),
                    model=ModelConfig(name="trees"),
                    train=TrainConfig(device="cpu"))
    return train_run(cfg, store)
