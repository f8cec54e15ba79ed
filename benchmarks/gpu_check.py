"""Check the GPU paths of every task kind through the real training loop, and print figures.

For each registered kind: train its default sample briefly with the chosen device (auto: CUDA
when present) in mixed precision (``auto``: bf16 on new GPUs, fp32 on CPU) and, as the anchor, the
same run forced onto fp32. Two figures per side, reported separately:

- *step throughput*: samples/s over optimizer steps 2..N, from the loop's own per-step callbacks
  (the first step, with its allocations and kernel selection, is left out, and so is every
  interval that holds a validation or ends on an epoch's last, possibly short, batch);
- *whole run*: the wall seconds of ``train()`` in this process (data, model, every step,
  validation, checkpoints, final evaluation, report).

Honest comparison: both sides are warmed up first (one short untimed run each), then measured in
alternating order (fp32, mixed, mixed, fp32, ... for ``--rounds``), and the medians and bests are
printed. Device, precision, fused AdamW (the loop fuses it on CUDA), tokens/s, peak memory and
the test metric come from the run's record.

    python benchmarks/gpu_check.py [--kinds tabular,text,image] [--steps 200] [--rounds 2]
    python benchmarks/gpu_check.py --device cpu --kinds tabular --steps 20 --rounds 1   # CPU smoke
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from core.runtime import describe_machine  # noqa: E402
from core.store import RunStore  # noqa: E402
from core.tasks import get_task, task_kinds  # noqa: E402
from core.train import train  # noqa: E402

SAMPLES = {"tabular": "house_prices", "text": "reviews", "image": "digits"}
MIXED, FP32 = "auto", "fp32"


class StepRate:
    """Wall time between consecutive optimizer steps; intervals holding a validation, and the one
    ending on the last batch before it (maybe short), are dropped; the first step is excluded."""

    def __init__(self) -> None:
        self.last: float | None = None
        self.intervals: list[float] = []

    def __call__(self, p: Any) -> None:
        now = time.perf_counter()
        if p.phase == "train":
            if self.last is not None:
                self.intervals.append(now - self.last)
            self.last = now
        else:  # validation or done: the next interval would include it
            if p.phase == "eval" and self.intervals and self.last is not None:
                self.intervals.pop()
            self.last = None

    def samples_per_s(self, samples_per_step: int) -> float:
        return samples_per_step * len(self.intervals) / max(sum(self.intervals), 1e-9)


def config(kind: str, steps: int, precision: str, device: str, workers: int) -> Any:
    cfg = get_task(kind).default_config(SAMPLES.get(kind))
    return cfg.replace(train={"max_steps": steps, "precision": precision, "num_workers": workers,
                              "device": device, "patience": 0, "epochs": max(cfg.train.epochs, 50)})


def run_once(kind: str, steps: int, precision: str, device: str, workers: int) -> dict[str, Any]:
    cfg = config(kind, steps, precision, device, workers)
    rate = StepRate()
    started = time.perf_counter()
    result = train(cfg, RunStore(), [rate])
    wall = time.perf_counter() - started
    store = RunStore()
    run, system = store.get_run(result.run_id), store.system(result.run_id)
    headline = next((k for k in ("test_accuracy", "test_r2") if k in result.metrics), "test_loss")
    return {"kind": kind, "device": run["device"], "precision": run["precision"],
            "fused_adamw": not str(run["device"]).startswith("CPU"),  # the loop fuses on CUDA
            "step_samples_per_s": rate.samples_per_s(cfg.train.batch_size * cfg.train.grad_accum),
            "timed_steps": len(rate.intervals), "run_wall_s": wall,
            "loop_samples_per_s": system.get("samples_per_s", 0.0),
            "tokens_per_s": system.get("tokens_per_s", 0.0),
            "peak_memory_mb": system.get("peak_memory_mb", 0.0), headline: result.metrics.get(headline)}


def compare(kind: str, args: argparse.Namespace) -> None:
    warmup = max(3, min(args.steps, 20))
    for precision in (FP32, MIXED):  # untimed: first CUDA context, kernels, file cache, imports
        run_once(kind, warmup, precision, args.device, args.workers)
    runs: dict[str, list[dict[str, Any]]] = {FP32: [], MIXED: []}
    for r in range(args.rounds):
        for precision in ((FP32, MIXED) if r % 2 == 0 else (MIXED, FP32)):
            runs[precision].append(run_once(kind, args.steps, precision, args.device, args.workers))
            print(json.dumps(runs[precision][-1]))
    mixed, anchor = runs[MIXED], runs[FP32]

    def med(side: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in side)

    step = med(mixed, "step_samples_per_s") / max(med(anchor, "step_samples_per_s"), 1e-9)
    whole = med(anchor, "run_wall_s") / max(med(mixed, "run_wall_s"), 1e-9)
    print(f"RESULT {kind} (device {mixed[0]['device']}, {args.rounds} rounds, medians; best in "
          f"brackets):\n"
          f"  step throughput (steps 2..N): {mixed[0]['precision']} "
          f"{med(mixed, 'step_samples_per_s'):.0f} [{max(r['step_samples_per_s'] for r in mixed):.0f}] "
          f"vs fp32 {med(anchor, 'step_samples_per_s'):.0f} "
          f"[{max(r['step_samples_per_s'] for r in anchor):.0f}] samples/s -> {step:.2f}x\n"
          f"  whole run (wall of train()):  {mixed[0]['precision']} {med(mixed, 'run_wall_s'):.1f} s "
          f"[{min(r['run_wall_s'] for r in mixed):.1f}] vs fp32 {med(anchor, 'run_wall_s'):.1f} s "
          f"[{min(r['run_wall_s'] for r in anchor):.1f}] -> {whole:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(task_kinds()))
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2, help="measured runs per side, alternating")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cuda or cpu")
    parser.add_argument("--workers", type=int, default=4 if torch.cuda.is_available() else 0)
    args = parser.parse_args()
    os.environ.setdefault("LOUPE_HOME", tempfile.mkdtemp(prefix="loupe-gpu-"))
    print("machine:", json.dumps(describe_machine()), "load", f"{os.getloadavg()[0]:.1f}")
    for kind in args.kinds.split(","):
        compare(kind, args)


if __name__ == "__main__":
    main()
