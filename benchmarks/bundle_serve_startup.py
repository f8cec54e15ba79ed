"""A deploy bundle served two ways: its own ``python serve.py`` (runtime packages only; issue 21
item 4) against the anchor ``loupe serve-model --bundle`` (Loupe's predictor, torch loaded).

For each side, alternating, ``--repeats`` times: seconds from process start to the first
``/health`` 200 and to the first ``/predict`` answer, the server's resident memory after
``--requests`` single-input requests, and their median latency. Prints each median and the
ratio portable / anchor.

    python benchmarks/bundle_serve_startup.py --bundle DIR [--python PY] [--repeats 3]

``--python``: the interpreter for ``serve.py`` (e.g. a venv holding only the bundle's
requirements.txt); the anchor always runs in this interpreter with Loupe installed.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(command: list[str], cwd: Path, payload: dict, requests: int, home: str) -> dict[str, float]:
    port = _port()
    start = time.perf_counter()
    proc = subprocess.Popen([*command, "--port", str(port)], cwd=cwd, env={"LOUPE_HOME": home,
                            "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(proc.stderr.read().decode()[-2000:])
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        health = time.perf_counter() - start
        httpx.post(f"{base}/predict", json=payload, timeout=120).raise_for_status()
        first = time.perf_counter() - start
        latencies = []
        with httpx.Client(base_url=base, timeout=120) as client:  # one connection: model time shows
            for _ in range(requests):
                t0 = time.perf_counter()
                client.post("/predict", json=payload).raise_for_status()
                latencies.append((time.perf_counter() - t0) * 1000)
        return {"health_s": health, "first_predict_s": first, "rss_mb": _rss_mb(proc.pid),
                "predict_ms": statistics.median(latencies)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    bundle = args.bundle.resolve()
    meta = json.loads((bundle / "deploy.json").read_text())
    example = {"input": "The battery lasts all day and the screen is bright."}
    if meta["task"] != "text":
        from core.deploy.portable import load_service

        example = {"input": load_service(bundle).metadata["request_example"]}
    sides = {"portable (serve.py)": ([args.python, "serve.py"], bundle),
             "anchor (loupe serve-model --bundle)": ([sys.executable, "-m", "core.cli", "serve-model",
                                                      "--bundle", str(bundle)], ROOT)}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory() as home:
        for i in range(args.repeats):
            order = list(sides) if i % 2 == 0 else list(reversed(sides))
            for name in order:
                command, cwd = sides[name]
                results[name].append(measure(command, cwd, example, args.requests, home))
    medians = {name: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
               for name, runs in results.items()}
    portable, anchor = medians.values()
    print(f"bundle: {meta['task']} {meta['format']}; {args.repeats} repeats, {args.requests} requests")
    for key in portable:
        print(f"{key:>17}: portable {portable[key]:9.3f}  anchor {anchor[key]:9.3f}  "
              f"ratio {portable[key] / anchor[key]:.2f}")


if __name__ == "__main__":
    main()
