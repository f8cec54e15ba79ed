"""Devices, precision, seeds and the accelerate Accelerator — the only module that knows them.

Model and task code never call ``.cuda()``: they get tensors placed by the Accelerator (training)
or by ``Runtime.to_device`` (inference), and autocast from ``Runtime.autocast``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core.errors import LoupeError

PRECISIONS = ("auto", "bf16", "fp16", "fp32")


def resolve_device(requested: str = "auto") -> torch.device:
    """CUDA when present, else CPU; an explicit 'cpu', 'cuda' or 'cuda:N' wins."""
    requested = (requested or "auto").strip().lower()
    if requested == "auto":
        if torch.cuda.is_available():
            local_rank = int(os.environ.get("LOCAL_RANK", "0"))
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("cpu")
    if requested == "cpu":
        return torch.device("cpu")
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise LoupeError(
                f"Device '{requested}' was asked for but no CUDA GPU is visible.",
                "use --device cpu (or auto), or check the NVIDIA driver with nvidia-smi.",
            )
        device = torch.device(requested)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise LoupeError(
                f"Device '{requested}' does not exist: {torch.cuda.device_count()} GPU(s) visible.",
                f"use cuda:0 … cuda:{torch.cuda.device_count() - 1}.",
            )
        return device
    raise LoupeError(f"Unknown device '{requested}'.", "use auto, cpu, cuda or cuda:N.")


@functools.cache
def cpu_has_bf16() -> bool:
    """True on CPUs with native bf16 instructions (AVX512-BF16 or AMX, read from /proc/cpuinfo;
    False elsewhere), where oneDNN runs bf16 convolutions about twice as fast as fp32."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[-1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def resolve_precision(device: torch.device, requested: str = "auto", cpu_bf16: bool = False) -> str:
    """bf16 where the GPU supports it, fp16 (with loss scaling) on older GPUs, fp32 on CPU.

    ``cpu_bf16``: the model gains from bf16 on a CPU (convolutions: an image epoch ~1.5x faster,
    docs/benchmarks.md section 20c), so auto picks bf16 on CPUs with native bf16 instructions."""
    requested = (requested or "auto").strip().lower()
    if requested not in PRECISIONS:
        raise LoupeError(f"Unknown precision '{requested}'.", f"use one of {', '.join(PRECISIONS)}.")
    if device.type != "cuda":
        if requested in ("fp16",):
            raise LoupeError("fp16 needs a CUDA GPU.", "use --precision auto or fp32 on CPU.")
        if requested == "auto" and cpu_bf16 and device.type == "cpu" and cpu_has_bf16():
            return "bf16"
        return "bf16" if requested == "bf16" else "fp32"
    if requested == "auto":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if requested == "bf16" and not torch.cuda.is_bf16_supported():
        raise LoupeError("This GPU does not support bf16.", "use --precision fp16 or auto.")
    return requested


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


@dataclass
class Runtime:
    """Where and how a model runs."""

    device: torch.device
    precision: str  # bf16 | fp16 | fp32
    accelerator: Any = None  # accelerate.Accelerator for training; None for inference

    @property
    def is_main_process(self) -> bool:
        return self.accelerator is None or self.accelerator.is_main_process

    @property
    def num_processes(self) -> int:
        return 1 if self.accelerator is None else self.accelerator.num_processes

    @property
    def dtype(self) -> torch.dtype:
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision, torch.float32)

    def autocast(self) -> contextlib.AbstractContextManager[None]:
        """Mixed-precision autocast for inference (training uses the Accelerator's)."""
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        non_blocking = self.device.type == "cuda"
        return {
            k: v.to(self.device, non_blocking=non_blocking) if isinstance(v, torch.Tensor) else v
            for k, v in batch.items()
        }

    @property
    def pin_memory(self) -> bool:
        return self.device.type == "cuda"

    def describe(self) -> str:
        if self.device.type == "cuda":
            props = torch.cuda.get_device_properties(self.device)
            return f"{props.name} ({props.total_memory / 2**30:.0f} GiB), {self.precision}"
        return f"CPU ({os.cpu_count()} cores), {self.precision}"

    def reset_peak_memory(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)

    def peak_memory_mb(self) -> float:
        """Peak GPU memory on CUDA; peak resident memory of this process on CPU."""
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2**20
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def inference_runtime(device: str = "auto", precision: str = "auto") -> Runtime:
    """A Runtime without an Accelerator, for prediction and explanation."""
    dev = resolve_device(device)
    return Runtime(device=dev, precision=resolve_precision(dev, precision))


def build_runtime(
    device: str = "auto", precision: str = "auto", seed: int = 0, grad_accum: int = 1,
    cpu_bf16: bool = False,
) -> Runtime:
    """Seed everything and build the Accelerator for training (single or multi-process).
    ``cpu_bf16``: see ``resolve_precision``.

    Under ``accelerate launch``/``torchrun`` the Accelerator picks up the process group from the
    environment; on a single process it is told the device we resolved.
    """
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, PartialState

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    dev = resolve_device(device)
    precision = resolve_precision(dev, precision, cpu_bf16)
    if not distributed:
        # The Accelerator state is a process-wide singleton; start clean so two runs in one
        # process (tests, the CLI) can use different devices or precisions.
        AcceleratorState._reset_state(reset_partial_state=True)
        PartialState._reset_state()
    accelerator = Accelerator(
        cpu=dev.type == "cpu",
        mixed_precision={"bf16": "bf16", "fp16": "fp16"}.get(precision, "no"),
        gradient_accumulation_steps=max(1, grad_accum),
    )
    seed_everything(seed + accelerator.process_index)
    return Runtime(device=accelerator.device, precision=precision, accelerator=accelerator)


@contextlib.contextmanager
def inference_mode(runtime: Runtime) -> Iterator[None]:
    """No autograd, mixed precision where the runtime uses it."""
    with torch.inference_mode(), runtime.autocast():
        yield


def visible_gpus() -> int:
    """How many CUDA devices this process sees (a sweep runs one trial per GPU)."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def describe_machine() -> dict[str, Any]:
    """What the home page shows: the device Loupe would use now."""
    if torch.cuda.is_available():
        gpus = []
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            gpus.append({"name": props.name, "memory_gib": round(props.total_memory / 2**30, 1)})
        return {"device": "cuda", "gpus": gpus, "precision": resolve_precision(torch.device("cuda"))}
    return {"device": "cpu", "cores": os.cpu_count(), "precision": "fp32", "gpus": []}
