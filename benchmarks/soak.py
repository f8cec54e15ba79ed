"""Soak test (issue 8): many short trainings back to back in one process while another process
reads the store like a dashboard session. Does memory grow?

The trainer runs ``--runs`` trainings (tabular, the diabetes sample, ``--epochs`` epochs each) in this
process through ``core.train.train`` — the same path the CLI and the dashboard's jobs take. A reader
child polls the store in a loop with the reads the Runs page makes (``list_runs``, ``count_runs``,
``get_run``, ``curves``, ``system``). Both report their resident set size (RSS, after a
``gc.collect()``) and their peak RSS (``getrusage``): at the start (after a warm-up: the first
training, or the reader's first polls — imports and first-time allocations are not a leak) and at the
end. Growth within max(20 MB, 10 %) is called noise.

    .venv/bin/python benchmarks/soak.py              # 20 trainings, ~1-3 minutes on 2 cores
    .venv/bin/python benchmarks/soak.py --runs 5     # a quick look
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file: make the repo importable
    sys.path.insert(0, str(ROOT))

NOISE_MB, NOISE_PCT = 20.0, 10.0


def rss_mb() -> float:
    """Current resident set size of this process in MB (after collecting garbage)."""
    gc.collect()
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:  # Linux fallback
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    """Peak RSS so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def reader(stop: Path, out: Path, warmup: int = 5) -> None:
    """Poll the store like a dashboard session until ``stop`` exists; write stats to ``out``."""
    from core.store import RunStore

    store = RunStore()
    store.recover_interrupted()
    polls, errors, start = 0, [], None
    while not stop.exists():
        try:
            runs = store.list_runs(order_by="created_at", limit=25)
            store.count_runs()
            for run_id in runs["id"]:
                store.get_run(run_id)
                store.curves(run_id, max_points=400)
                store.system(run_id)
            polls += 1
        except Exception as exc:  # reported, not raised: the soak goes on
            errors.append(f"{type(exc).__name__}: {exc}")
        if polls == warmup and start is None:
            start = {"rss_mb": rss_mb(), "peak_mb": peak_mb()}
        time.sleep(0.05)
    end = {"rss_mb": rss_mb(), "peak_mb": peak_mb()}
    out.write_text(json.dumps({"polls": polls, "errors": errors, "start": start or end, "end": end,
                               "lock_retries": store.lock_retries}))


def verdict(start: float, end: float) -> str:
    growth = end - start
    pct = 100 * growth / start if start else 0.0
    ok = growth <= max(NOISE_MB, start * NOISE_PCT / 100)
    return f"{growth:+7.1f} MB ({pct:+5.1f} %) -> {'no growth beyond noise' if ok else 'GROWS'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--reader", nargs=2, metavar=("STOP", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reader:
        reader(Path(args.reader[0]), Path(args.reader[1]))
        return 0

    home = Path(tempfile.mkdtemp(prefix="loupe-soak-"))
    os.environ["LOUPE_HOME"] = str(home)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    from core.store import RunStore
    from core.tasks import get_task
    from core.train import train

    torch.set_num_threads(1)
    stop, out = home / "stop", home / "reader.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, __file__, "--reader", str(stop), str(out)], env=env)
    store = RunStore()
    cfg = get_task("tabular").default_config("diabetes").replace(
        train={"epochs": args.epochs, "patience": 0})
    print(f"soak: {args.runs} trainings (diabetes, {args.epochs} epochs) in one process, a reader "
          f"process polling the store; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'run':>4} {'seconds':>8} {'RSS MB':>8} {'peak MB':>8}")
    rows, started = [], time.perf_counter()
    for i in range(args.runs):
        t0 = time.perf_counter()
        result = train(cfg.replace(name=f"soak-{i:02d}"), store)
        assert result.status == "completed", result.status
        rows.append((time.perf_counter() - t0, rss_mb(), peak_mb()))
        print(f"{i + 1:4d} {rows[-1][0]:8.2f} {rows[-1][1]:8.1f} {rows[-1][2]:8.1f}", flush=True)
    stop.touch()
    child.wait(timeout=120)
    stats = json.loads(out.read_text())
    total = time.perf_counter() - started

    first, last = rows[0], rows[-1]
    print(f"\ntrainer: {args.runs} runs in {total:.0f} s; RSS after run 1 {first[1]:.1f} MB, after run "
          f"{args.runs} {last[1]:.1f} MB: {verdict(first[1], last[1])}")
    print(f"trainer peak RSS: start {first[2]:.1f} MB, end {last[2]:.1f} MB: {verdict(first[2], last[2])}")
    if len(rows) >= 10:
        half = len(rows) // 2
        early = sum(r[1] for r in rows[1:half]) / (half - 1)
        late = sum(r[1] for r in rows[half:]) / (len(rows) - half)
        print(f"trainer RSS, mean of runs 2-{half} vs {half + 1}-{len(rows)}: {verdict(early, late)}")
    s, e = stats["start"], stats["end"]
    print(f"reader: {stats['polls']} polls, {len(stats['errors'])} errors, {stats['lock_retries']} lock "
          f"waits; RSS start {s['rss_mb']:.1f} MB, end {e['rss_mb']:.1f} MB: "
          f"{verdict(s['rss_mb'], e['rss_mb'])}")
    print(f"reader peak RSS: start {s['peak_mb']:.1f} MB, end {e['peak_mb']:.1f} MB: "
          f"{verdict(s['peak_mb'], e['peak_mb'])}")
    runs = store.list_runs()
    print(f"store: {len(runs)} runs, all completed: {bool((runs['status'] == 'completed').all())}, "
          f"{store.metric_count():,} metric points")
    if stats["errors"]:
        print("reader errors:", *stats["errors"][:5], sep="\n  ")
    return 1 if stats["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
