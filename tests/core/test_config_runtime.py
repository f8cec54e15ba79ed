from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.config import RunConfig
from core.errors import LoupeError
from core.runtime import (
    build_runtime,
    cpu_has_bf16,
    inference_runtime,
    resolve_device,
    resolve_precision,
)
from core.tasks import get_task, task_kinds


def test_config_round_trips_through_json() -> None:
    cfg = RunConfig.from_dict({"task": "tabular", "train": {"epochs": 3, "lr": 1}, "tags": ["a"]})
    assert cfg.train.lr == 1.0 and isinstance(cfg.train.lr, float)
    assert RunConfig.from_json(cfg.to_json()) == cfg
    assert cfg.replace(train={"epochs": 5}).train.epochs == 5


@pytest.mark.parametrize(
    "raw, words",
    [
        ({"task": "tabular", "train": {"epoch": 3}}, ["train.epoch", "epochs"]),
        ({"task": "tabular", "bogus": 1}, ["config.bogus"]),
        ({"task": "tabular", "train": {"epochs": "ten"}}, ["train.epochs", "whole number"]),
        ({"task": "tabular", "train": {"batch_size": True}}, ["train.batch_size"]),
        ({"task": "tabular", "model": {"hidden_sizes": 5}}, ["model.hidden_sizes", "list"]),
    ],
)
def test_config_rejects_unknown_keys_and_wrong_types(raw: dict, words: list[str]) -> None:
    with pytest.raises(LoupeError) as err:
        RunConfig.from_dict(raw)
    for word in words:
        assert word in str(err.value)


def test_config_from_bad_json_names_the_line() -> None:
    with pytest.raises(LoupeError, match="line 2"):
        RunConfig.from_json('{"task": "tabular",\n "train": }')


def test_device_and_precision_on_cpu() -> None:
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu").type == "cpu"
    assert resolve_precision(torch.device("cpu"), "auto") == "fp32"
    assert resolve_precision(torch.device("cpu"), "bf16") == "bf16"
    with pytest.raises(LoupeError):
        resolve_precision(torch.device("cpu"), "fp16")
    with pytest.raises(LoupeError, match="Unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(LoupeError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_auto_precision_picks_bf16_on_a_cpu_only_for_models_that_gain_and_cpus_that_have_it() -> None:
    cpu = torch.device("cpu")
    native = cpu_has_bf16()
    assert resolve_precision(cpu, "auto", cpu_bf16=True) == ("bf16" if native else "fp32")
    assert resolve_precision(cpu, "auto", cpu_bf16=False) == "fp32"
    assert resolve_precision(cpu, "fp32", cpu_bf16=True) == "fp32"  # an explicit choice wins
    rt = build_runtime("cpu", "auto", cpu_bf16=True)
    assert rt.accelerator.mixed_precision == ("bf16" if native else "no")
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    assert native == any(f in flags.split() for f in ("avx512_bf16", "amx_bf16"))


def test_runtime_builds_accelerator_and_seeds() -> None:
    rt = build_runtime("cpu", "auto", seed=3)
    a = torch.rand(3)
    rt2 = build_runtime("cpu", "bf16", seed=3)
    assert torch.equal(a, torch.rand(3))
    assert rt.precision == "fp32" and rt2.accelerator.mixed_precision == "bf16"
    assert inference_runtime("cpu").accelerator is None


def test_registry_lists_kinds_and_rejects_unknown() -> None:
    import core.tasks.image  # noqa: F401  (imported first: the listed order must not change)

    assert task_kinds()[:3] == ["tabular", "text", "image"]
    with pytest.raises(LoupeError, match="tabulr"):
        get_task("tabulr")


@pytest.mark.parametrize(
    "section, value, words",
    [
        ("train", {"precision": "fp8"}, ["train.precision", "bf16"]),
        ("train", {"warmup_ratio": 1.5}, ["train.warmup_ratio", "fraction"]),
        ("train", {"max_steps": 0}, ["train.max_steps", "at least 1"]),
        ("model", {"dropout": 1.0}, ["model.dropout"]),
        ("model", {"image_size": 4}, ["model.image_size", "at least 16"]),
        ("data", {"max_rows": 0}, ["data.max_rows"]),
    ],
)
def test_config_refuses_values_out_of_range(section: str, value: dict, words: list[str]) -> None:
    with pytest.raises(LoupeError) as err:
        RunConfig(task="tabular").replace(**{section: value})
    assert all(w in str(err.value) for w in words), str(err.value)
    assert err.value.fix


def test_edge_values_in_range_are_accepted() -> None:
    cfg = RunConfig(task="tabular").replace(
        train={"patience": 0, "max_grad_norm": 0, "weight_decay": 0, "warmup_ratio": 0},
        data={"test_fraction": 0.0, "val_fraction": 0.2}, model={"dropout": 0.0})
    assert cfg.train.patience == 0 and cfg.data.test_fraction == 0.0


def test_new_loupe_home_is_private(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from core.paths import loupe_home

    monkeypatch.setenv("LOUPE_HOME", str(tmp_path / "fresh" / "home"))
    assert (loupe_home().stat().st_mode & 0o777) == 0o700


def test_serve_listens_on_this_machine_only_by_default() -> None:
    from core.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert args.address == "127.0.0.1"
    assert build_parser().parse_args(["serve", "--address", "0.0.0.0"]).address == "0.0.0.0"


def test_best_epoch_tie_on_the_monitor_is_broken_by_validation_loss() -> None:
    """Accuracy 1.0 on a small validation set in epoch 1 and 2: the epoch with lower val loss wins;
    a worse monitor never wins, whatever its loss; a 'min' monitor compares normally."""
    from types import SimpleNamespace

    from core.checkpoint import LoopState
    from core.train_loop import TrainingLoop as _Loop

    def better(mode: str, best: float | None, best_loss: float | None, value: float, loss: float) -> bool:
        fake = SimpleNamespace(state=LoopState(best=best, best_loss=best_loss),
                               task=SimpleNamespace(monitor_mode=mode))
        return _Loop._better(fake, value, loss)  # type: ignore[arg-type]

    assert better("max", None, None, 0.5, 1.0)
    assert better("max", 1.0, 0.02, 1.0, 0.01)
    assert not better("max", 1.0, 0.01, 1.0, 0.02)
    assert not better("max", 1.0, 0.5, 0.9, 0.0001)
    assert better("min", 0.3, 0.3, 0.2, 0.2) and not better("min", 0.3, 0.3, 0.3, 0.3)
