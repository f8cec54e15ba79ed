"""MiniLM text classifier: int8 ONNX vs the fp32 original (torch) and fp32 ONNX, on held-out data.

Trains a short sample:reviews MiniLM run (``--steps`` optimizer steps; or reuses ``--run`` in
``--home``), then runs ``core.deploy.bundle.compression_check``: the three formats predict the
run's validation and test splits; accuracy, its change, label agreement, file size, and the median
latency of one text and of a batch of 32, all measured in this one run. Anchor: the original
torch fp32 model. Target of issue 21: int8 >= 2x faster at <= 1 point accuracy loss.

    .venv/bin/python benchmarks/onnx_bench.py                      # ~6 min on a 2-core CPU
    .venv/bin/python benchmarks/onnx_bench.py --home /tmp/h --run 3f2a
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--home", help="LOUPE_HOME to train in / read --run from (default: a temp dir)")
    p.add_argument("--run", help="reuse this text run instead of training")
    p.add_argument("--steps", type=int, default=120, help="training steps of the reviews run")
    p.add_argument("--rows", type=int, default=600, help="held-out rows per split to check")
    p.add_argument("--repeats", type=int, default=5)
    return p.parse_args()


def train_reviews(steps: int) -> str:
    from core.store import RunStore
    from core.tasks import get_task
    from core.train import train

    cfg = get_task("text").default_config("reviews").replace(
        name="reviews-minilm-bench", train={"max_steps": steps, "epochs": 1})
    return train(cfg, RunStore()).run_id


def main() -> None:
    args = parse()
    os.environ["LOUPE_HOME"] = args.home or tempfile.mkdtemp(prefix="loupe-onnx-bench-")
    import torch

    from core.deploy.bundle import compression_check
    from core.store import RunStore

    print(f"torch threads {torch.get_num_threads()}, LOUPE_HOME {os.environ['LOUPE_HOME']}")
    run_id = args.run or train_reviews(args.steps)
    rows, _ = compression_check(run_id, RunStore(), max_rows=args.rows)
    print(f"run {run_id}")
    print(f"{'format':<10} {'split':<5} {'rows':>5} {'accuracy':>8} {'change':>8} {'agree':>7} "
          f"{'MB':>7} {'1 text ms':>9} {'batch32 ms':>10}")
    for r in rows:
        print(f"{r['format']:<10} {r['split']:<5} {r['rows']:>5} {r['value']:>8.4f} "
              f"{r['change']:>+8.4f} "
              f"{r.get('agreement', float('nan')):>7.2%} {r['size_bytes'] / 1e6:>7.1f} "
              f"{r.get('latency_single_ms', float('nan')):>9.2f} "
              f"{r.get('latency_batch_ms', float('nan')):>10.1f}")
    timed = {r["format"]: r for r in rows if "latency_single_ms" in r}
    base = timed["original"]
    for fmt in ("onnx", "onnx-int8"):
        r = timed[fmt]
        print(f"{fmt} vs original (torch fp32): {base['latency_single_ms'] / r['latency_single_ms']:.2f}x "
              f"single, {base['latency_batch_ms'] / r['latency_batch_ms']:.2f}x batch, accuracy "
              f"{100 * r['change']:+.2f} points (test), "
              f"size {base['size_bytes'] / r['size_bytes']:.2f}x smaller")
    r, f = timed["onnx-int8"], timed["onnx"]
    print(f"onnx-int8 vs onnx fp32: {f['latency_single_ms'] / r['latency_single_ms']:.2f}x single, "
          f"{f['latency_batch_ms'] / r['latency_batch_ms']:.2f}x batch")


if __name__ == "__main__":
    main()
