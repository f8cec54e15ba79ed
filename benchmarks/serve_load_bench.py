"""Load test of `loupe serve-model` on loopback: 1, 8 and 32 concurrent clients, original vs int8.

The server runs in its own process (``loupe serve-model RUN --format F`` on 127.0.0.1); this
process drives it with httpx (asyncio), ``--requests`` single-text /predict calls per concurrency
level, each level capped at ``--max-seconds``. Reported: p50/p99 latency and requests/s. Anchor:
the same model behind ``transformers.pipeline("text-classification")`` called in-process from the
same number of threads (no HTTP, no masking), measured in the same run.

    .venv/bin/python benchmarks/serve_load_bench.py --home /tmp/h --run 3f2a   # ~2 min quiet
    .venv/bin/python benchmarks/serve_load_bench.py --home /tmp/h --run 3f2a --max-batch 1,8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--home", required=True, help="LOUPE_HOME holding --run (see onnx_bench.py)")
    p.add_argument("--run", required=True, help="a text run")
    p.add_argument("--clients", default="1,8,32")
    p.add_argument("--requests", type=int, default=96, help="requests per concurrency level")
    p.add_argument("--max-seconds", type=float, default=60.0, help="cap per level")
    p.add_argument("--formats", default="original,onnx-int8")
    p.add_argument("--max-batch", default="1", help="comma-separated `serve-model --max-batch` values "
                   "to compare (1: one request at a time)")
    return p.parse_args()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def texts(n: int) -> list[str]:
    from core.datasets.texts import load_sample_frame

    reviews = load_sample_frame("reviews")["text"].tolist()
    rng = random.Random(0)
    return [rng.choice(reviews) for _ in range(n)]


def summary(latencies: list[float], seconds: float) -> str:
    ms = np.array(latencies) * 1000
    return (f"n={len(ms):>4}  p50 {np.percentile(ms, 50):7.1f} ms  p99 {np.percentile(ms, 99):7.1f} ms  "
            f"{len(ms) / seconds:6.1f} req/s")


async def drive(port: int, items: list[str], clients: int, cap: float) -> tuple[list[float], float]:
    import httpx

    queue = list(items)
    latencies: list[float] = []
    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        async def worker() -> None:
            while queue and time.perf_counter() - start < cap:
                text = queue.pop()
                t0 = time.perf_counter()
                r = await client.post("/predict", json={"input": text})
                r.raise_for_status()
                latencies.append(time.perf_counter() - t0)
        await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, time.perf_counter() - start


def serve_and_load(args: argparse.Namespace, fmt: str, levels: list[int], items: list[str],
                   max_batch: int = 1) -> None:
    import httpx

    port = free_port()
    env = {**os.environ, "LOUPE_HOME": args.home}
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "serve-model", args.run, "--format", fmt,
                             "--port", str(port), "--max-batch", str(max_batch)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        for clients in levels:
            asyncio.run(drive(port, items[:8], 1, 30))  # warm-up
            lat, secs = asyncio.run(drive(port, items, clients, args.max_seconds))
            print(f"endpoint {fmt:<10} max-batch {max_batch:>2} clients {clients:>2}: {summary(lat, secs)}",
                  flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def pipeline_load(args: argparse.Namespace, levels: list[int], items: list[str]) -> None:
    import torch
    from transformers import pipeline

    from core.store import RunStore

    os.environ["LOUPE_HOME"] = args.home
    folder = RunStore().artifact_path(RunStore().get_run(args.run)["id"], "model")
    pipe = pipeline("text-classification", model=str(folder), tokenizer=str(folder), device="cpu")
    print(f"pipeline torch threads {torch.get_num_threads()}")
    for clients in levels:
        pipe(items[:8])

        def one(text: str) -> float:
            t0 = time.perf_counter()
            pipe(text, truncation=True, max_length=128)
            return time.perf_counter() - t0

        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            lat = list(pool.map(one, items))
        print(f"pipeline in-process  clients {clients:>2}: {summary(lat, time.perf_counter() - start)}",
              flush=True)


def main() -> None:
    args = parse()
    levels = [int(c) for c in args.clients.split(",")]
    items = texts(args.requests)
    for fmt in args.formats.split(","):
        for max_batch in (int(b) for b in args.max_batch.split(",")):
            serve_and_load(args, fmt, levels, items, max_batch)
    pipeline_load(args, levels, items)


if __name__ == "__main__":
    main()
