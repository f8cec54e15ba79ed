"""Check the GPU paths of every task kind through the real training loop, and print figures.

For each registered kind: train its default sample briefly with device=auto (CUDA when present),
then report the device, precision, whether AdamW ran fused, samples/s, tokens/s, peak memory and
the test metric. The anchor is the same run forced onto fp32 (``--precision fp32``), measured side
by side in this process, so the printed ratio is the mixed-precision speed-up.

    python benchmarks/gpu_check.py [--kinds tabular,text,image] [--steps 200]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from core.runtime import describe_machine  # noqa: E402
from core.store import RunStore  # noqa: E402
from core.tasks import get_task, task_kinds  # noqa: E402
from core.train import train  # noqa: E402

SAMPLES = {"tabular": "house_prices", "text": "reviews", "image": "digits"}


def run_once(kind: str, steps: int, precision: str, workers: int) -> dict[str, float | str]:
    task = get_task(kind)
    cfg = task.default_config(SAMPLES.get(kind))
    cfg = cfg.replace(train={"max_steps": steps, "precision": precision, "num_workers": workers,
                             "patience": 0, "epochs": max(cfg.train.epochs, 50)})
    fused: dict[str, bool] = {}
    original = torch.optim.AdamW.__init__

    def spy(self: torch.optim.AdamW, *args: object, **kwargs: object) -> None:
        fused["fused"] = bool(kwargs.get("fused"))
        original(self, *args, **kwargs)

    torch.optim.AdamW.__init__ = spy  # type: ignore[method-assign]
    try:
        result = train(cfg, RunStore())
    finally:
        torch.optim.AdamW.__init__ = original  # type: ignore[method-assign]
    run = RunStore().get_run(result.run_id)
    system = RunStore().system(result.run_id)
    headline = next(k for k in ("test_accuracy", "test_r2") if k in result.metrics)
    return {"kind": kind, "device": run["device"], "precision": run["precision"],
            "fused_adamw": fused.get("fused", False), "samples_per_s": system["samples_per_s"],
            "tokens_per_s": system.get("tokens_per_s", 0.0),
            "peak_memory_mb": system["peak_memory_mb"], headline: result.metrics[headline]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kinds", default=",".join(task_kinds()))
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4 if torch.cuda.is_available() else 0)
    args = parser.parse_args()
    os.environ.setdefault("LOUPE_HOME", tempfile.mkdtemp(prefix="loupe-gpu-"))
    print("machine:", json.dumps(describe_machine()))
    for kind in args.kinds.split(","):
        mixed = run_once(kind, args.steps, "auto", args.workers)
        anchor = run_once(kind, args.steps, "fp32", args.workers)
        print(json.dumps(mixed))
        print(json.dumps(anchor))
        ratio = mixed["samples_per_s"] / max(anchor["samples_per_s"], 1e-9)
        print(f"RESULT {kind}: {mixed['precision']} {mixed['samples_per_s']:.0f} samples/s vs fp32 "
              f"{anchor['samples_per_s']:.0f} samples/s -> {ratio:.2f}x  (device {mixed['device']})")


if __name__ == "__main__":
    main()
