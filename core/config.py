"""Run configuration: frozen dataclasses that round-trip through plain dicts and JSON.

``RunConfig.from_dict`` is strict: unknown keys and wrong types raise ``LoupeError`` naming the
key, because a silently ignored typo ("lr_rate") is worse than an error. The fields here hold each
setting's type and default; its range, help, CLI flag and form widget are in ``core.settings``.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from core.errors import LoupeError, suggest
from core.settings import section_settings


@dataclass(frozen=True)
class DataConfig:
    """Where the data comes from and how it is split.

    ``source`` is a file or folder path, or ``sample:NAME`` for a built-in sample.
    """

    source: str = ""
    target: str | None = None  # tabular: numeric column to predict
    text_column: str | None = None  # text: auto-detected when None
    label_column: str | None = None  # text: auto-detected when None
    negative_source: str | None = None  # text two-file layout: file of negative lines
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    max_rows: int | None = None  # sample this many rows (with a notice) when the file is larger
    encoding: str | None = None  # text encoding of CSV/TSV/JSONL; UTF-8 (or a BOM) when None
    seed: int = 0
    edits: str | None = None  # a reviewed data version: JSON edits file (core.datasets.edits)


@dataclass(frozen=True)
class ModelConfig:
    """What to build. ``name`` is a kind-specific model name, a Hugging Face id or a local folder."""

    name: str = ""
    hidden_sizes: tuple[int, ...] = (128, 64)  # tabular MLP
    dropout: float = 0.1
    max_length: int = 128  # text: tokens per text
    image_size: int = 224  # image: side of the square input
    freeze_backbone: bool = False  # image/text: train only the new head
    pretrained: bool = True


@dataclass(frozen=True)
class TrainConfig:
    """How to train. ``device``/``precision`` are 'auto' unless the user overrides them."""

    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.05
    grad_accum: int = 1
    max_grad_norm: float = 1.0
    patience: int = 5  # epochs without improvement before early stopping; 0 disables
    max_steps: int | None = None  # stop after this many optimizer steps (tests, quick demos)
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    precision: str = "auto"  # auto | bf16 | fp16 | fp32
    num_workers: int = 0  # DataLoader worker processes; 0 = load in the training process
    seed: int = 0
    checkpoint_every: float = 30.0  # seconds between resume checkpoints; 0 = every epoch


@dataclass(frozen=True)
class RunConfig:
    task: str
    name: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    tags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return _to_plain(dataclasses.asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunConfig:
        return _build(cls, raw, "config")

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LoupeError(
                f"The config is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).",
                "fix the JSON syntax, e.g. check commas and quotes.",
            ) from exc
        if not isinstance(raw, dict):
            raise LoupeError("The config must be a JSON object.", 'start it with {"task": ...}.')
        return cls.from_dict(raw)

    def replace(self, **sections: Any) -> RunConfig:
        """Copy with some sections or fields replaced, e.g. ``cfg.replace(train={'epochs': 2})``."""
        merged = self.to_dict()
        for key, value in sections.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        return RunConfig.from_dict(merged)


def _to_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value


def _build(cls: type, raw: Any, where: str) -> Any:
    if isinstance(raw, cls):
        return raw
    if not isinstance(raw, dict):
        raise LoupeError(
            f"'{where}' must be an object, got {type(raw).__name__}.",
            f'write it as {{"key": value, ...}}, e.g. {_example(cls)}, or leave it out for the defaults.',
        )
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in raw if k not in names]
    if unknown:
        key = unknown[0]
        raise LoupeError(
            f"Unknown setting '{where}.{key}'.", f"remove it or {suggest(key, names)}"
        )
    values = {k: _coerce(hints[k], v, f"{where}.{k}") for k, v in raw.items()}
    try:
        built = cls(**values)
    except TypeError as exc:
        raise LoupeError(f"Incomplete '{where}': {exc}.", "add the missing setting.") from exc
    _check_ranges(built, where)
    return built


def _example(cls: type) -> str:
    first = dataclasses.fields(cls)[0]
    if first.default is not dataclasses.MISSING:
        return json.dumps({first.name: _to_plain(first.default)})
    return '{"task": "tabular"}'


def section_class(section: str) -> type:
    """The dataclass holding a settings section: "run", "data", "model" or "train"."""
    return {"run": RunConfig, "data": DataConfig, "model": ModelConfig, "train": TrainConfig}[section]


_SECTION_OF = {RunConfig: "run", DataConfig: "data", ModelConfig: "model", TrainConfig: "train"}


def _check_ranges(config: Any, where: str) -> None:
    """Values of the right type but outside what training can use are refused before a run exists
    (each setting's range or choices: ``core.settings.SETTINGS``)."""
    if type(config) in _SECTION_OF:
        for setting in section_settings(_SECTION_OF[type(config)]):
            setting.check(getattr(config, setting.name), where)
    if isinstance(config, DataConfig) and config.val_fraction + config.test_fraction >= 0.9:
        raise LoupeError(
            f"Settings '{where}.val_fraction' ({config.val_fraction:g}) and '{where}.test_fraction' "
            f"({config.test_fraction:g}) leave {1 - config.val_fraction - config.test_fraction:.0%} "
            "of the rows for training.",
            "keep val_fraction + test_fraction below 0.9 (the defaults are 0.15 each).",
        )


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise _type_error(where, "a list", value)
        return tuple(_coerce(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if hint is bool:
        if not isinstance(value, bool):
            raise _type_error(where, "true or false", value)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise _type_error(where, "a whole number", value)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _type_error(where, "a number", value)
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise _type_error(where, "text", value)
        return value
    return value


def _type_error(where: str, expected: str, value: Any) -> LoupeError:
    return LoupeError(
        f"Setting '{where}' must be {expected}, got {value!r} ({type(value).__name__}).",
        f"give '{where}' {expected}.",
    )
