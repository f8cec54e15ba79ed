"""Every dashboard page renders in under 2 s with 1,000 runs and 10,000,000 metric points.

Builds a throwaway LOUPE_HOME: 1,000 runs (mixed kinds, statuses and tags) whose metrics add up
to 10 M points (appended as large frames through ``RunStore.append_metrics``), plus one real
tiny tabular run so Predict/Explain/Export have a model to load. Then it starts the dashboard,
warms it up (first imports), and times in headless Chromium, per page:

- ``nav``: a click in the sidebar (the in-app navigation users do) until the page's main element
  is visible;
- ``done``: until the script run has finished too (everything on the page drawn);
- ``reload``: a fresh browser tab on the page's URL (new session) until its main element shows.

Prints the median of a few repeats per page and its ratio to the 2 s budget.

    .venv/bin/python benchmarks/ui_bench.py [--runs 1000] [--points 10000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BUDGET_S = 2.0
TITLES = {"home": "Loupe", "data": "Data", "train": "Train", "runs": "Runs", "predict": "Predict",
          "explain": "Explain", "export": "Export"}
# The element that means "the page is there" (Playwright selectors).
MAIN = {
    "home": '[data-testid="stDataFrame"]',
    "data": '[data-testid="stFileUploader"]',
    "train": 'button:has-text("Start training")',
    "runs": '[data-testid="stDataFrame"]',
    "predict": 'button:has-text("Predict")',
    "explain": 'button:has-text("Explain")',
    "export": 'button:has-text("Prepare model zip")',
}


def seed(store, runs: int, points: int) -> None:
    """``runs`` runs in one insert (schema-coupled, for speed) and ``points`` metric points."""
    from core.config import RunConfig

    rng = np.random.default_rng(0)
    kinds = np.array(["tabular", "text", "image"])
    statuses = np.array(["completed"] * 8 + ["failed", "cancelled"])
    start = datetime.now() - timedelta(days=30)
    rows = []
    for i in range(runs):
        kind = str(kinds[i % 3])
        cfg = RunConfig.from_dict({"task": kind, "name": f"bench-{i:04d}",
                                   "train": {"lr": float(10 ** rng.uniform(-4, -2)),
                                             "batch_size": int(rng.choice([16, 32, 64]))}})
        created = start + timedelta(minutes=i)
        metrics = {"test_loss": float(rng.random()), "test_rmse": float(rng.uniform(1, 50)),
                   "test_macro_f1": float(rng.random()), "val_loss": float(rng.random())}
        rows.append({"id": uuid.uuid4().hex[:10], "task": kind, "name": cfg.name,
                     "status": str(statuses[i % len(statuses)]), "created_at": created,
                     "started_at": created, "finished_at": created + timedelta(minutes=5),
                     "config_json": cfg.to_json(), "dataset_fingerprint": "bench", "device": "cpu",
                     "precision": "fp32", "metrics_json": json.dumps(metrics),
                     "tags": ["bench", f"group{i % 7}"] if i % 2 else ["bench"], "notes": ""})
    frame = pd.DataFrame(rows)
    with store.connect() as con:
        con.register("bench_runs", frame)
        con.execute(f"INSERT INTO runs ({', '.join(frame.columns)}) SELECT * FROM bench_runs")
        con.unregister("bench_runs")
    ids = frame["id"].to_numpy()
    per_run = points // runs
    val_every = 10
    chunk = max(1, 1_000_000 // per_run)
    for lo in range(0, runs, chunk):
        part = ids[lo:lo + chunk]
        n_train = per_run - per_run // val_every
        steps = np.tile(np.arange(1, n_train // 2 + 1), 2)  # loss + lr per step
        names = np.repeat(np.array(["loss", "lr"]), n_train // 2)
        n_val = per_run - len(steps)
        vsteps = np.linspace(1, n_train // 2, n_val).astype(np.int64)
        one = pd.DataFrame({
            "step": np.concatenate([steps, vsteps]),
            "split": np.concatenate([np.full(len(steps), "train"), np.full(n_val, "val")]),
            "name": np.concatenate([names, np.full(n_val, "loss")]),
        })
        block = pd.concat([one] * len(part), ignore_index=True)
        block.insert(0, "run_id", np.repeat(part, len(one)))
        block["epoch"] = block["step"] / 100.0
        block["value"] = rng.random(len(block))
        block["time"] = pd.Timestamp(start) + pd.to_timedelta(block["step"], unit="s")
        store.append_metrics(block)


def train_real_run() -> str:
    from core.store import RunStore
    from core.tasks import get_task
    from core.train import train

    cfg = get_task("tabular").default_config("diabetes").replace(name="bench-real", train={"epochs": 2})
    return train(cfg, RunStore()).run_id


def wait_main(page, name: str, timeout_ms: int = 60_000) -> None:
    page.get_by_role("heading", name=TITLES[name], level=1).wait_for(timeout=timeout_ms)
    page.locator(MAIN[name]).first.wait_for(state="visible", timeout=timeout_ms)


def measure(url: str, repeats: int) -> dict[str, dict[str, float]]:
    from tests.browser.harness import browser, wait_idle

    results: dict[str, dict[str, list[float]]] = {p: {"nav": [], "done": [], "reload": []} for p in TITLES}
    with browser() as page:
        for name in TITLES:  # warm-up: first imports, caches, model load
            page.goto(f"{url}/{'' if name == 'home' else name}")
            wait_main(page, name, 180_000)
            wait_idle(page, 180)
        for _ in range(repeats):
            for name in TITLES:
                started = time.perf_counter()
                path = "" if name == "home" else name
                page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').first.click()
                wait_main(page, name)
                results[name]["nav"].append(time.perf_counter() - started)
                wait_idle(page)
                results[name]["done"].append(time.perf_counter() - started)
            for name in TITLES:
                started = time.perf_counter()
                page.goto(f"{url}/{'' if name == 'home' else name}", wait_until="commit")
                wait_main(page, name)
                results[name]["reload"].append(time.perf_counter() - started)
                wait_idle(page)
    return {p: {k: statistics.median(v) for k, v in r.items()} for p, r in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description="Dashboard page render times against the 2 s budget.")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--home", type=Path, help="keep the seeded LOUPE_HOME here (reused when it exists)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loupe_ui_bench_") as tmp:
        home = args.home or Path(tmp) / "home"
        reuse = (home / "loupe.duckdb").exists()
        os.environ["LOUPE_HOME"] = str(home)
        from core.store import RunStore
        from tests.browser.harness import serve

        store = RunStore()
        started = time.perf_counter()
        if not reuse:
            seed(store, args.runs, args.points)
        seeded = time.perf_counter() - started
        if not reuse:
            train_real_run()
        print(f"store: {store.count_runs():,} runs, {store.metric_count():,} metric points "
              f"(seeded in {seeded:.0f} s), {store.path.stat().st_size / 1e6:,.0f} MB")
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        with serve(home) as url:
            times = measure(url, args.repeats)
    print(f"\n{'page':<9}{'nav s':>8}{'ratio':>8}{'done s':>9}{'ratio':>8}{'reload s':>10}{'ratio':>8}")
    for name, t in times.items():
        print(f"{name:<9}{t['nav']:>8.2f}{t['nav'] / BUDGET_S:>8.2f}{t['done']:>9.2f}"
              f"{t['done'] / BUDGET_S:>8.2f}{t['reload']:>10.2f}{t['reload'] / BUDGET_S:>8.2f}")
    worst = max(t["done"] for t in times.values())
    print(f"\nworst page fully drawn in {worst:.2f} s = {worst / BUDGET_S:.2f} × the {BUDGET_S:.0f} s budget "
          f"(median of {args.repeats}; ratio < 1 is within budget)")


if __name__ == "__main__":
    main()
