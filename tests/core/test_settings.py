"""One description per setting (core/settings.py): every RunConfig field is described exactly once,
the config checks, the `loupe train` flags and the form are built from it (the form's side:
tests/dashboard/test_config_form.py)."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from core.cli import build_parser
from core.cli.train import config_from_args
from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from core.errors import LoupeError
from core.settings import FORM_PLACES, SETTINGS, Setting

SECTION_FIELDS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}
# RunConfig's own fields that are not settings: the kind (`loupe train KIND`, the page's kind
# picker) and the three sections.
NOT_SETTINGS = {"task", "data", "model", "train"}


def config_fields() -> list[str]:
    keys = [f"run.{f.name}" for f in dataclasses.fields(RunConfig) if f.name not in NOT_SETTINGS]
    for section, cls in SECTION_FIELDS.items():
        keys += [f"{section}.{f.name}" for f in dataclasses.fields(cls)]
    return keys


def test_every_config_field_is_described_exactly_once() -> None:
    described = Counter(s.key for s in SETTINGS)
    assert [k for k, n in described.items() if n > 1] == []
    assert sorted(described) == sorted(config_fields())


def test_descriptions_are_complete_and_consistent() -> None:
    for s in SETTINGS:
        assert s.help.strip() and s.help.rstrip().endswith((".", ")")), s.key
        assert s.type in (int, float, str, bool, tuple), s.key
        assert s.form in ("", *FORM_PLACES), s.key
        assert bool(s.form or s.form_follows) != bool(s.elsewhere), f"{s.key}: in the form or elsewhere"
        if s.choices:
            assert s.type is str and (s.default in s.choices or s.open_choices), s.key
        default = s.default
        items = default if isinstance(default, tuple) else [default]
        assert all(s.accepts(v) for v in items if v is not None), f"{s.key}: default {default!r} refused"
    flags = [s.cli_flag for s in SETTINGS]
    assert len(set(flags)) == len(flags)


def test_ranges_read_as_before() -> None:
    by_key = {s.key: s for s in SETTINGS}
    assert by_key["train.epochs"].expected() == "at least 1"
    assert by_key["train.lr"].expected() == "above 0"
    assert by_key["train.warmup_ratio"].expected() == "a fraction from 0 up to (not including) 1"
    assert by_key["train.precision"].expected() == "one of auto, bf16, fp16, fp32"
    assert by_key["train.device"].expected() == ""  # cuda:N too; core.runtime checks devices
    assert Setting("x", "y", "h.", low=2, high=5).expected() == "from 2 up to 5"


def test_every_range_is_enforced_by_the_config() -> None:
    """Each described bound refuses the value just outside it, naming the setting."""
    for s in SETTINGS:
        if s.section == "run" or not s.expected():
            continue
        bad: object = ("nope" if s.choices else
                       s.low if s.low_open else (s.low - 1 if s.low is not None else s.high))
        if s.type is int:
            bad = int(bad)  # type: ignore[call-overload]
        if s.type is tuple:
            bad = [bad]
        with pytest.raises(LoupeError, match=rf"'config\.{s.section}\.{s.name}"):
            RunConfig(task="tabular").replace(**{s.section: {s.name: bad}})


def _flag_value(s: Setting) -> tuple[list[str], object]:
    """Command-line words that set ``s`` to a value other than its default, and that value."""
    if s.type is bool:
        return ([s.cli_flag] if not s.default else ["--no-" + s.cli_flag[2:]]), not s.default
    if s.type is tuple:
        return ([s.cli_flag, "a", s.cli_flag, "b"], ("a", "b")) if s.item_type is str else \
            ([s.cli_flag, "7,3"], (7, 3))
    if s.choices:
        value = next(c for c in s.choices if c != s.default)
        return [s.cli_flag, value], value
    if s.type is str:
        return [s.cli_flag, "given-value"], "given-value"
    value = int(s.low or 0) + 3 if s.type is int else 0.25  # inside every range, not a default
    return [s.cli_flag, str(value)], value


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.key)
def test_the_cli_sets_every_setting(setting: Setting, tmp_path) -> None:
    """`loupe train tabular --FLAG VALUE` puts VALUE into the run's config (no training)."""
    words, value = _flag_value(setting)
    if setting.key == "data.source":
        source = tmp_path / "given.csv"
        words, value = ["--data", str(source)], str(source)
    args = build_parser().parse_args(["train", "tabular", *words])
    cfg = config_from_args(args)
    section = cfg if setting.section == "run" else getattr(cfg, setting.section)
    assert getattr(section, setting.name) == value


def test_train_help_lists_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    shown = capsys.readouterr().out
    assert [s.cli_flag for s in SETTINGS if s.cli_flag not in shown] == []


def test_cli_keeps_its_old_flags_and_messages() -> None:
    parser = build_parser()
    old = ["--data", "x.csv", "--target", "y", "--text-column", "t", "--label-column", "l",
           "--negative-data", "n.txt", "--encoding", "latin-1", "--max-rows", "9", "--model", "mlp",
           "--hidden-sizes", "8,4", "--max-length", "16", "--image-size", "32", "--freeze-backbone",
           "--epochs", "2", "--lr", "0.1", "--batch-size", "4", "--grad-accum", "2", "--patience", "0",
           "--max-steps", "5", "--num-workers", "0", "--device", "cpu", "--precision", "fp32",
           "--seed", "3", "--name", "n", "--tag", "a", "--tag", "b", "--quiet", "--json"]
    cfg = config_from_args(parser.parse_args(["train", "text", *old]))
    assert cfg.model.hidden_sizes == (8, 4) and cfg.tags == ("a", "b") and cfg.train.seed == 3
    assert cfg.data.seed == 0 and cfg.model.freeze_backbone and cfg.data.negative_source == "n.txt"
    with pytest.raises(LoupeError, match="--hidden-sizes '8,x' is not a list of whole numbers"):
        config_from_args(parser.parse_args(["train", "tabular", "--hidden-sizes", "8,x"]))
    with pytest.raises(LoupeError, match="'config.train.epochs' must be at least 1, got 0"):
        config_from_args(parser.parse_args(["train", "tabular", "--epochs", "0"]))
    with pytest.raises(LoupeError, match="Unknown tabular sample 'nope'"):
        config_from_args(parser.parse_args(["train", "tabular", "--data", "sample:nope"]))
