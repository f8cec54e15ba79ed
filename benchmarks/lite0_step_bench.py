"""EfficientNet-Lite0 on a CPU: seconds per training step and per evaluation batch, the old
default (every layer trained, fp32) against what an image run does now (stem and first blocks
kept at their ImageNet weights, ``EARLY_BLOCKS``; bf16 autocast where the CPU has native bf16).

Synthetic pixels (speed does not depend on them), channels-last as in training, one untimed
warm-up per side, then the sides alternate in order round by round; medians over ``--rounds``.

    python benchmarks/lite0_step_bench.py [--batch 32] [--size 224] [--rounds 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from core.models.efficientnet_lite import EfficientNetLite0  # noqa: E402
from core.runtime import cpu_has_bf16  # noqa: E402

SIDES = ("all layers, fp32 (anchor)", "early layers frozen, fp32", "early layers frozen, bf16")


def _model(side: str) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = EfficientNetLite0(2).to(memory_format=torch.channels_last)
    if "frozen" in side:
        model.freeze_early_layers()
    return model, torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)


def _autocast(side: str) -> contextlib.AbstractContextManager[None]:
    return torch.autocast("cpu", dtype=torch.bfloat16) if "bf16" in side else contextlib.nullcontext()


def _time(side: str, parts: dict[str, tuple[torch.nn.Module, torch.optim.Optimizer]],
          x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    model, optimizer = parts[side]
    model.train()
    started = time.perf_counter()
    with _autocast(side):
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    step = time.perf_counter() - started
    model.eval()
    started = time.perf_counter()
    with torch.no_grad(), _autocast(side):
        model(x)
    return step, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sides = [s for s in SIDES if "bf16" not in s or cpu_has_bf16()]
    parts = {side: _model(side) for side in sides}
    x = torch.randn(args.batch, 3, args.size, args.size).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 2, (args.batch,))
    for side in sides:  # warm-up: first oneDNN kernels, allocator
        _time(side, parts, x, y)
    times: dict[str, list[tuple[float, float]]] = {side: [] for side in sides}
    for r in range(args.rounds):
        for side in (sides if r % 2 == 0 else sides[::-1]):
            times[side].append(_time(side, parts, x, y))
    anchor = [statistics.median(t[i] for t in times[sides[0]]) for i in (0, 1)]
    print(f"Lite0, batch {args.batch} at {args.size} px, {args.threads} threads, medians of "
          f"{args.rounds} (native bf16: {cpu_has_bf16()})")
    print(f"{'side':32} {'train step s':>12} {'ratio':>7} {'eval batch s':>12} {'ratio':>7}")
    for side in sides:
        step, evaluate = (statistics.median(t[i] for t in times[side]) for i in (0, 1))
        print(f"{side:32} {step:12.3f} {anchor[0] / step:6.2f}x {evaluate:12.3f} "
              f"{anchor[1] / evaluate:6.2f}x")


if __name__ == "__main__":
    main()
